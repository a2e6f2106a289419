"""Benchmark of `piao-xls relazione`: prints figures, asserts nothing.

Run: python bench/relazione.py [--sectors 200] [--objectives 10] [--no-pdf]

A synthetic plan (sectors x objectives x 2 indicators), one filled workbook per sector, consolidated once;
then the time to write the .docx (python-docx and one matplotlib chart per 25 sectors of the
overview) and to convert it to PDF with LibreOffice headless, with the PDF's page count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piao_xls.forms.samples import synthetic_plan_yaml
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.results.relazione import docx_to_pdf, render_docx, results_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import make_files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sectors", type=int, default=200)
    ap.add_argument("--objectives", type=int, default=10)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    plan, _ = parse_plan(synthetic_plan_yaml(args.sectors, args.objectives, 2), "synthetic")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        make_files(plan, args.sectors, folder / "returned")
        data = results_of(consolidate([folder / "returned"], plan, jobs=2))
        t = time.perf_counter()
        docx = render_docx(data, plan)
        t_docx = time.perf_counter() - t
        path = folder / "relazione.docx"
        path.write_bytes(docx)
        print(f"relazione, {args.sectors} sectors x {args.objectives} objectives: .docx {t_docx:.1f} s "
              f"({t_docx / args.sectors * 1000:.0f} ms per sector, {len(docx) / 1e6:.1f} MB)")
        if args.no_pdf:
            return
        t = time.perf_counter()
        pdf = docx_to_pdf(path, folder / "relazione.pdf")
        t_pdf = time.perf_counter() - t
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
        pages = next((ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")), "?")
        print(f"  .pdf by LibreOffice {t_pdf:.1f} s, {pages} pages, {pdf.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
