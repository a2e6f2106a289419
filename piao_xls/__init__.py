"""piao-xls: PIAO "Performance" plans to protected Excel workbooks and back.

Data flows one way: plan file -> plan model -> layout -> workbook -> (people fill it)
-> guard -> reader -> submissions -> evaluation -> summary. Packages, lowest layer first (docs/architecture.md):
``core`` (pure), ``sheetio``, then one package per stage of the year (``plan``, ``forms``,
``returns``, ``results``), and ``cli`` on top.

The public API is importable from here; it is loaded on first use, so that ``import piao_xls``
(and ``piao-xls --help``) stays cheap::

    from piao_xls import load_plan, read_workbook, consolidate, evaluate, Submission
"""

from .core import __version__

_API = {
    "load_plan": "piao_xls.plan.load",
    "check_plan": "piao_xls.plan.load",
    "read_workbook": "piao_xls.returns.reader",
    "consolidate": "piao_xls.results.consolidate",
    "evaluate": "piao_xls.core.evaluation",
    "Submission": "piao_xls.core.evaluation",
    "generate": "piao_xls.forms.generate",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'piao_xls' has no attribute {name!r}")
