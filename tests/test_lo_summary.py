"""The summary and the CSV in a real LibreOffice, as the finance office uses them: the summary printed
to PDF (page count, Italian figures, no chart cut by a page break) and each CSV flavour opened with
`,`, `;` and tab as separator (numbers are numbers, no cell holds a formula).

Conversions run `soffice --headless --convert-to` with a private profile. Skipped locally when
LibreOffice is missing, failed under CI=true (tests/libreoffice.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from summary_case import BIG_NUMERATOR, NEGATIVE, build_inbox

from piao_xls.results.consolidate import consolidate
from piao_xls.results.export import COLUMNS, DECISION_COLUMNS, write_csv, write_csv_excel
from piao_xls.results.summary import write_summary

pytestmark = pytest.mark.libreoffice
MAX_PAGES = 8
TIMEOUT = 300


@pytest.fixture(scope="module")
def soffice(tmp_path_factory):
    """convert(files, fmt, outdir, infilter=None): soffice --convert-to with a private profile."""
    from libreoffice import find_soffice, require_libreoffice

    require_libreoffice()
    for tool in ("pdfinfo", "pdftotext"):
        if shutil.which(tool) is None:
            if os.environ.get("CI", "").strip().lower() == "true":
                pytest.fail(f"{tool} missing (poppler-utils)", pytrace=False)
            pytest.skip(f"{tool} missing (apt-get install poppler-utils)")
    profile = tmp_path_factory.mktemp("lo-profile")
    exe = find_soffice()

    def convert(files: list[Path], fmt: str, outdir: Path, infilter: str | None = None) -> list[Path]:
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
        if infilter:
            cmd.append(f"--infilter={infilter}")
        cmd += ["--convert-to", fmt, "--outdir", str(outdir), *map(str, files)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        out = [outdir / f"{f.stem}.{fmt.split(':')[0]}" for f in files]
        missing = [p.name for p in out if not p.is_file()]
        assert not missing, f"soffice did not convert {missing}: {proc.stdout}\n{proc.stderr}"
        return out

    return convert


@pytest.fixture(scope="module")
def outputs(plan, tmp_path_factory, bundled_dir):
    root = tmp_path_factory.mktemp("lo-summary")
    # the workbooks as generated, returned empty: every value missing, a finding for each
    write_summary(consolidate([bundled_dir], plan), root / "riepilogo-vuoto.xlsx")
    full = consolidate([build_inbox(plan, root / "inbox")], plan)
    partial = consolidate([build_inbox(plan, root / "inbox-no-st", without=("ST",))], plan)
    write_summary(full, root / "riepilogo.xlsx")
    write_summary(partial, root / "riepilogo-senza-st.xlsx")
    write_csv(full, root / "csv")
    write_csv_excel(full, root / "csv-excel")
    return root


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [" ".join(subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                                    capture_output=True, text=True, check=True).stdout.split())
            for i in range(1, n + 1)]


@pytest.mark.parametrize("name", ["riepilogo", "riepilogo-senza-st", "riepilogo-vuoto"])
def test_the_summary_prints_in_few_a4_pages_with_whole_charts(soffice, outputs, plan, name):
    (pdf,) = soffice([outputs / f"{name}.xlsx"], "pdf", outputs / f"pdf-{name}")
    pages = _pages(pdf)
    # every workbook returned empty: two pages of findings, and the Decisioni page, one more
    assert len(pages) <= MAX_PAGES + (name == "riepilogo-vuoto"), len(pages)
    for i, text in enumerate(pages, start=1):
        assert f"Pagina {i} di {len(pages)}" in text and plan.comune in text, i
    # a chart's title is at its top, its legend at its bottom: a chart cut by a page break leaves them apart
    overview = [i for i, t in enumerate(pages) if "Punteggio per settore e fasce di valutazione" in t]
    assert len(overview) == 1 and "Limite fascia D: 70" in pages[overview[0]]  # the band lines, labelled
    titles = [t.count("raggiungimento degli obiettivi") for t in pages]
    legends = [t.count("Target 100%") for t in pages]
    assert titles == legends and sum(titles) == len(plan.sectors), (titles, legends)
    everything = "\n".join(pages)
    assert "Non valutato" in everything if name.endswith("st") else "non rendicontato (vale 0)" in everything


def test_the_printed_figures_are_italian(soffice, outputs):
    (pdf,) = soffice([outputs / "riepilogo.xlsx"], "pdf", outputs / "pdf-figures")
    text = "\n".join(_pages(pdf))
    assert "1.234.567,89 €" in text and "1.300.000,00 €" in text
    assert "05/12/2025" in text and "90%" in text and "94,44%" in text


CSV_FILTER = "CSV:{sep},34,76,1,,{lang},false,true,false,false,false,-1,true"  # 13th token: evaluate formulas
NUMERIC = {(file, col) for file, cols in COLUMNS.values() for col, _, kind in cols if kind in ("number", "int")}
DATES = {(file, col) for file, cols in COLUMNS.values() for col, _, kind in cols if kind == "date"}


def _cells(xlsx: Path):
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).worksheets[0]
    return [list(r) for r in ws.iter_rows()]


@pytest.mark.parametrize("flavour", ["csv", "csv-excel"])
def test_both_csv_flavours_open_in_libreoffice_as_numbers_and_never_as_formulas(soffice, outputs, flavour):
    files = sorted((outputs / flavour).glob("*.csv"))
    lang = 1040 if flavour == "csv-excel" else 1033  # Italian Excel reads "0,9"; open data is locale-free
    right = 59 if flavour == "csv-excel" else 44
    for sep in (44, 59, 9):
        converted = soffice(files, "xlsx", outputs / f"lo-{flavour}-{sep}", CSV_FILTER.format(sep=sep, lang=lang))
        for xlsx in converted:
            rows = _cells(xlsx)
            formulas = [c.coordinate for r in rows for c in r if c.data_type == "f"]
            assert formulas == [], (flavour, sep, xlsx.stem, formulas)
            if sep != right:
                continue
            header = [c.value for c in rows[0]]
            columns = DECISION_COLUMNS if xlsx.stem == "decisions" else COLUMNS[_table(xlsx.stem)][1]
            assert header == [col for col, _, _ in columns], xlsx.stem
            for r in rows[1:]:
                for name, cell in zip(header, r, strict=False):
                    if cell.value is None:
                        continue
                    if (xlsx.stem, name) in NUMERIC:
                        assert isinstance(cell.value, (int, float)), (xlsx.stem, name, cell.value)
                    elif (xlsx.stem, name) in DATES:
                        assert isinstance(cell.value, datetime), (xlsx.stem, name, cell.value)
        indicators = next(x for x in converted if x.stem == "indicators")
        if sep == right:
            rows = _cells(indicators)
            header = [c.value for c in rows[0]]
            rec = {r[2].value: {h: c.value for h, c in zip(header, r, strict=False)} for r in rows[1:]}
            assert rec["SF-6.1"]["numeratore"] == BIG_NUMERATOR
            assert rec["SF-4.1"]["valore"] == NEGATIVE
            assert rec["SF-1.2"]["data"] == datetime(2025, 12, 5)
            assert isinstance(rec["SF-6.1"]["analisi_scostamenti"], str)


def _table(file: str) -> str:
    return next(name for name, (f, _) in COLUMNS.items() if f == file)
