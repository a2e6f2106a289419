"""The pure core: plan model, rule kinds, scoring, live formulas, findings. No I/O, no imports from above."""

__version__ = "0.1.0"
