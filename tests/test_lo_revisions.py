"""The summary's Revisioni and Andamento sheets printed by a real LibreOffice: on A4, every column on the page
(the first and the last header on each page), the Italian words whole. Skipped locally without LibreOffice,
failed under CI=true (tests/libreoffice.py)."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
import yaml
from summary_case import build_inbox
from test_lo_summary import _pages, soffice  # noqa: F401 (the fixture)
from test_revisions import revised_data

from piao_xls.core.revisions import Act, PlanVersion, revision_rows
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.results.export import to_json_dict
from piao_xls.results.summary import write_summary

pytestmark = pytest.mark.libreoffice


def test_revisioni_and_andamento_print_whole_on_a4(soffice, plan, tmp_path):  # noqa: F811
    v2, _ = parse_plan(yaml.dump(revised_data(plan), allow_unicode=True, sort_keys=False), "v2.yaml")
    assert v2 is not None
    versions = [PlanVersion(1, plan, Act("Delibera di Giunta comunale n. 12", date(2025, 1, 30))),
                PlanVersion(2, v2, Act("Delibera di Giunta comunale n. 80", date(2025, 10, 15),
                                       "Rimodulazione dopo il monitoraggio al 30/09"))]
    c = consolidate([build_inbox(v2, tmp_path / "inbox")], v2)
    c.revisions = revision_rows(versions, date(2025, 9, 30))
    doc = json.loads(json.dumps(to_json_dict(c)))
    earlier = []
    for year in (2022, 2023, 2024):
        d = copy.deepcopy(doc)
        d["year"] = year
        earlier.append(d)
    c.earlier = earlier
    out = tmp_path / "riepilogo.xlsx"
    write_summary(c, out)
    (pdf,) = soffice([out], "pdf", tmp_path / "pdf")
    pages = _pages(pdf)
    revisions = [t for t in pages if "Revisioni del piano approvate nel corso dell'anno" in t]
    history = [t for t in pages if "Valori degli indicatori negli anni" in t]
    assert revisions and history
    for text in revisions:  # fitted to the page width: the first and the last column on every page
        assert "Versione" in text and "Segnalazione al Nucleo (verifica dei tempi)" in text
    printed = " ".join(revisions)  # wrapped cells: pdftotext interleaves the lines of neighbouring cells
    for words in ("Delibera di Giunta", "n. 80 del", "15/10/2025", "dopo il termine", "30/09/2025",
                  "obiettivo SF-10 aggiunto", "obiettivo SF-9 tolto (era «MONITORAGGIO UTENZE»)"):
        assert words in printed, words
    for text in history:
        assert "Indicatore" in text and "Valore 2022" in text and "Valore 2025" in text and "Note" in text
    for i, text in enumerate(pages, start=1):
        assert f"Pagina {i} di {len(pages)}" in text
