"""Stage 1, the plan: YAML plan file, plan workbook, plan reports. ``load_plan`` reads either form."""

from .load import check_plan, load_plan
from .planfile import bundled_plan_path, parse_plan

__all__ = ["bundled_plan_path", "check_plan", "load_plan", "parse_plan"]
