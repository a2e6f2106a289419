"""Structural golden files for generated workbooks.

Compared by content (sheet names, properties, protection, locked/unlocked map, label texts,
validations, formulas, merged ranges, print setup), never by bytes. The plan's fingerprint, which
changes with any edit of the plan, is kept once in ``_plan.json``, so an edit of one sector's text
rewrites only the files that show it. Regenerate after an intended layout change with:

    python3 tests/golden.py --regen

which prints, file by file, the differences it writes.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def structure(data: bytes) -> dict:
    """A readable, comparable description of an .xlsx file's structure."""
    from openpyxl import load_workbook

    from piao_xls.returns.reader import read_properties

    tmp = io.BytesIO(data)
    wb = load_workbook(tmp)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        wbxml = z.read("xl/workbook.xml").decode()
    props, _ = read_properties(io.BytesIO(data))
    out = {"sheets": wb.sheetnames,
           "properties": {k: v for k, v in sorted(props.items()) if k not in ("piao_generator", "piao_fingerprint")},
           "structure_locked": 'lockStructure="1"' in wbxml, "sheet": {}}
    for ws in wb.worksheets:
        unlocked, formulas, labels = [], {}, {}
        for row in ws.iter_rows():
            for c in row:
                if c.protection is not None and not c.protection.locked:
                    unlocked.append(c.coordinate)
                if isinstance(c.value, str) and c.value.startswith("="):
                    formulas[c.coordinate] = c.value
                elif c.value not in (None, "") and c.protection is not None and c.protection.locked:
                    labels[c.coordinate] = c.value if isinstance(c.value, str | int | float) else str(c.value)
        dvs = []
        for dv in ws.data_validations.dataValidation:
            dvs.append({"sqref": str(dv.sqref), "type": dv.type, "operator": dv.operator,
                        "formula1": dv.formula1, "formula2": dv.formula2, "errorStyle": dv.errorStyle,
                        "prompt": dv.prompt, "error": dv.error})
        out["sheet"][ws.title] = {
            "protected": bool(ws.protection.sheet),
            "unlocked": unlocked,
            "formulas": formulas,
            "labels": labels,
            "row_breaks": sorted(b.id for b in ws.row_breaks.brk),
            "print_title_rows": ws.print_title_rows,
            "validations": sorted(dvs, key=lambda d: d["sqref"]),
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "landscape": ws.page_setup.orientation == "landscape",
            "fit_width": ws.page_setup.fitToWidth,
        }
    return out


def bundled_structures() -> dict[str, dict]:
    from piao_xls.forms.layout import plan_workbooks
    from piao_xls.forms.writer import render
    from piao_xls.plan.load import load_plan

    return {b.filename: structure(render(b)) for b in plan_workbooks(load_plan())}


def plan_identity() -> dict:
    from piao_xls.plan.load import load_plan

    plan = load_plan()
    return {"plan_id": plan.plan_id, "year": plan.year, "fingerprint": plan.fingerprint}


def diff(expected, actual, path: str = "") -> list[str]:
    """Readable differences: which part (sheet, cell) differs."""
    out = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in sorted(set(expected) | set(actual), key=str):
            if k not in actual:
                out.append(f"{path}/{k}: missing")
            elif k not in expected:
                out.append(f"{path}/{k}: unexpected {str(actual[k])[:120]}")
            else:
                out.extend(diff(expected[k], actual[k], f"{path}/{k}"))
    elif isinstance(expected, list) and isinstance(actual, list) and expected != actual:
        exp, act = [json.dumps(x, sort_keys=True) for x in expected], [json.dumps(x, sort_keys=True) for x in actual]
        gone = [x for x in exp if x not in act][:5]
        new = [x for x in act if x not in exp][:5]
        out.append(f"{path}: {len(exp)} -> {len(act)} items; missing {gone}; unexpected {new}")
    elif expected != actual:
        out.append(f"{path}: expected {str(expected)[:120]!r}, got {str(actual)[:120]!r}")
    return out


def main() -> None:
    if "--regen" not in sys.argv:
        print(__doc__)
        return
    GOLDEN.mkdir(exist_ok=True)
    items = {"_plan": plan_identity(), **bundled_structures()}
    for name, st in items.items():
        path = GOLDEN / f"{name}.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        changes = diff(old, st)
        if not changes:
            print(f"unchanged {path.name}")
            continue
        path.write_text(json.dumps(st, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path.name}: {len(changes)} difference(s)")
        for line in changes[:40]:
            print(f"    {line}")
        if len(changes) > 40:
            print(f"    ... and {len(changes) - 40} more")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
