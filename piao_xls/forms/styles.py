"""Cell styles by name (pure data). The writer turns them into xlsxwriter formats.

Every input cell uses the same look (yellow fill, blue text, unlocked); only the number
format differs. Everything else is locked.
"""

from __future__ import annotations

INPUT_FILL = "#FFF2CC"
HEADER_FILL = "#DDEBF7"
CARD_FILL = "#1F4E78"
FORMULA_FILL = "#E2EFDA"
EXTERNAL_FILL = "#EDEDED"

_BASE = {"font_name": "Calibri", "font_size": 10, "valign": "top", "text_wrap": True, "border": 1,
         "border_color": "#8EA9DB"}
_INPUT = {**_BASE, "bg_color": INPUT_FILL, "font_color": "#1F3864", "locked": False}

NUMBER_FORMATS = {
    "percent": "0.00%",
    "number": "#,##0.##",
    "amount": '#,##0.00 "€"',
    "date": "dd/mm/yyyy",
    "yes_no": "@",
    "text": "@",
}

STYLES: dict[str, dict] = {
    "title": {"font_name": "Calibri", "font_size": 14, "bold": True, "font_color": CARD_FILL},
    "subtitle": {"font_name": "Calibri", "font_size": 11, "bold": True},
    "plain": {"font_name": "Calibri", "font_size": 10, "text_wrap": True, "valign": "top"},
    "section": {"font_name": "Calibri", "font_size": 12, "bold": True, "font_color": CARD_FILL,
                "bottom": 2, "bottom_color": CARD_FILL},
    "header": {**_BASE, "bold": True, "bg_color": HEADER_FILL, "align": "center", "valign": "vcenter"},
    "header_left": {**_BASE, "bold": True, "bg_color": HEADER_FILL},
    "card": {**_BASE, "bold": True, "bg_color": CARD_FILL, "font_color": "#FFFFFF", "font_size": 11,
             "valign": "vcenter"},
    "card_pct": {**_BASE, "bold": True, "bg_color": CARD_FILL, "font_color": "#FFFFFF", "font_size": 11,
                 "num_format": "0%", "align": "center", "valign": "vcenter"},
    "text": dict(_BASE),
    "text_center": {**_BASE, "align": "center"},
    "weight": {**_BASE, "num_format": "0.##%", "align": "center"},
    "count": {**_BASE, "num_format": "0.##", "align": "center"},
    "external": {**_BASE, "bg_color": EXTERNAL_FILL, "italic": True, "align": "center"},
    "live_pct": {**_BASE, "bg_color": FORMULA_FILL, "num_format": "0.00%", "align": "center"},
    "live_points": {**_BASE, "bg_color": FORMULA_FILL, "num_format": "0.00", "align": "center"},
    "live_total": {**_BASE, "bold": True, "bg_color": FORMULA_FILL, "num_format": "0.00", "align": "center"},
    "live_text": {**_BASE, "bold": True, "bg_color": FORMULA_FILL, "align": "center"},
    "total_label": {**_BASE, "bold": True, "align": "right"},
    "total_weight": {**_BASE, "bold": True, "num_format": "0.##%", "align": "center"},
}
for _unit, _fmt in NUMBER_FORMATS.items():
    STYLES[f"input_{_unit}"] = {**_INPUT, "num_format": _fmt}

INPUT_STYLES = frozenset(k for k in STYLES if k.startswith("input_"))


def published_format(style: str, num_format: str, precision: int) -> str:
    """The number format of a live figure with the plan's published decimals (the styles say 2)."""
    if precision == 2 or style not in ("live_pct", "live_points", "live_total", "weight"):
        return num_format
    if style == "weight":  # the weights as printed: up to the published decimals
        return "0" + ("." + "#" * precision if precision else "") + "%"
    return "0" + ("." + "0" * precision if precision else "") + ("%" if num_format.endswith("%") else "")
