"""Counts a person reads agree with their noun: «1 segnalazione: 1 errore», «2 segnalazioni: 1 errore, 1 avviso»."""

from __future__ import annotations

import re

from click.testing import CliRunner
from summary_case import build_inbox

from piao_xls.cli import cli

AGREES = {"segnalazion": ("e", "i"), "error": ("e", "i"), "avvis": ("o", "i"), "file lett": ("o", "i"),
          "ignorat": ("o", "i")}


def _disagreements(text: str) -> list[str]:
    out = []
    for stem, (one, many) in AGREES.items():
        for m in re.finditer(rf"\b(\d+) {stem}(\w)\b", text):
            n, ending = int(m.group(1)), m.group(2)
            if ending != (one if n == 1 else many):
                out.append(m.group(0))
    return out


def test_check_and_consolidate_count_in_good_italian(plan, tmp_path):
    inbox = build_inbox(plan, tmp_path / "inbox")
    runner = CliRunner()
    check = runner.invoke(cli, ["check", str(inbox)])
    assert re.search(r"\b\d+ segnalazion[ei]: \d+ error[ei]", check.output), check.output
    # SF's form has one error (a hostile analysis), AV's two: the singular and the plural, side by side
    assert re.search(r"SF-Finanziario\.xlsx: .*\b1 segnalazione: 1 errore\)", check.output), check.output
    assert re.search(r"AV-Polizia-Locale\.xlsx: .*\b2 segnalazioni: 2 errori\)", check.output)
    out = runner.invoke(cli, ["consolidate", str(inbox), "-o", str(tmp_path / "r.xlsx"), "--jobs", "1"])
    assert "file letti" in out.output or "file letto" in out.output
    assert _disagreements(check.output + out.output) == []


def test_the_checker_of_agreement_catches_a_wrong_plural():
    assert _disagreements("1 segnalazioni (0 errori, 1 avvisi); 2 file letto") == ["1 segnalazioni", "1 avvisi",
                                                                                   "2 file letto"]
