"""Plan versions and revisions (docs/revisions.md): the diff, the workspace's versions, refused revisions that
change nothing, a return made on a superseded version, and the timeline check — on the bundled plan, with real
plan files, workbooks and the command line."""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from piao_xls import load_plan
from piao_xls.cli import cli
from piao_xls.core.revisions import Act, Change, PlanVersion, check_revision, diff_plans, timeline_findings
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.plan.planbook import export_bytes, plan_to_data, plan_to_yaml
from piao_xls.plan.planfile import parse_plan
from piao_xls.returns.reader import read_workbook

ADOPTION = ("--atto", "Delibera di Giunta comunale n. 12", "--data", "30/01/2025")
REVISION = ("--atto", "Delibera di Giunta comunale n. 45", "--data", "15/07/2025", "--motivo",
            "Rimodulazione dopo il monitoraggio al 30/06")


def revised_data(plan, *, targets=True, remove=True, add=True, weights=None) -> dict:
    """The bundled plan's data with the revision of the issue: two targets changed (SF-1.1, SF-6.1), SF-9 removed,
    SF-10 added (same weight, so the sector still sums to 100)."""
    d = plan_to_data(plan)
    sf = next(s for s in d["sectors"] if s["code"] == "SF")
    if targets:
        sf["objectives"][0]["indicators"][0]["target"] = "90%"
        sf["objectives"][5]["indicators"][0]["target"] = "Accertamento del 90% delle somme stanziate nel Bilancio 2025"
    if remove:
        removed = sf["objectives"].pop(8)
    else:
        removed = copy.deepcopy(sf["objectives"][8])
    if add:
        new = copy.deepcopy(removed)
        new.update(number=10, title="DIGITALIZZAZIONE DEI PAGAMENTI",
                   indicators=[{"profilo": "Quantità", "description": "Pagamenti tramite pagoPA sul totale",
                                "target": "almeno 80%"}])
        if not remove:
            sf["objectives"][8]["weight"] = 5
            new["weight"] = 5
        sf["objectives"].append(new)
    for number, w in (weights or {}).items():
        next(o for o in sf["objectives"] if o["number"] == number)["weight"] = w
    return d


def write_plan(path: Path, data: dict) -> Path:
    plan, _ = parse_plan(yaml.dump(data, allow_unicode=True, sort_keys=False), str(path))
    if plan is None:  # a plan with errors is written as it is (the tests of refusals need one)
        path.write_text(yaml.dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    else:
        path.write_text(plan_to_yaml(plan), encoding="utf-8")
    return path


def filled_form(plan, code: str, seed: int = 3) -> bytes:
    """A sector's form filled in as a Responsabile would (every yellow cell, with analyses)."""
    book = sector_workbook(plan, plan.sector(code))
    sheet = next(s for s in book.sheets if s.kind != "instructions")
    return render(book, prefill=sample_values(sheet, seed=seed))


def tree(root: Path) -> dict[str, str]:
    """Every file of a folder with its SHA-256 (to tell that nothing changed)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def ws(tmp_path):
    ws = tmp_path / "PIAO-2025"
    r = CliRunner().invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"])
    assert r.exit_code == 0, r.output
    return ws


def run(ws: Path, *args: str, code: int | None = 0):
    r = CliRunner().invoke(cli, ["-C", str(ws), *args])
    if code is not None:
        assert r.exit_code == code, (args, r.output, r.exception)
    return r


# --- the diff (pure) --------------------------------------------------------------------------------------

def test_the_diff_names_every_change_per_objective_and_indicator(tmp_path, plan):
    d = revised_data(plan, weights={6: 15, 2: 15})
    sf = next(s for s in d["sectors"] if s["code"] == "SF")
    sf["objectives"][4]["indicators"][0]["description"] = "Rispetto dei tempi medi di pagamento"
    sf["objectives"][0]["steps"][0]["tempi"] = "Ottobre"
    sf["objectives"][3]["indicators"][0]["previous"] = 2
    new = parse_plan(yaml.dump(d, allow_unicode=True, sort_keys=False), "v2.yaml")[0]
    assert new is not None
    diff = diff_plans(plan, new)
    got = {(c.level, c.item_id, c.change) for c in diff.changes}
    assert got == {
        ("indicator", "SF-1.1", Change.TARGET), ("indicator", "SF-6.1", Change.TARGET),
        ("objective", "SF-9", Change.REMOVED), ("objective", "SF-10", Change.ADDED),
        ("indicator", "SF-10.1", Change.ADDED), ("objective", "SF-6", Change.WEIGHT),
        ("objective", "SF-2", Change.WEIGHT), ("indicator", "SF-5.1", Change.WORDING),
        ("objective", "SF-1", Change.DEADLINE), ("indicator", "SF-4.1", Change.BASELINE)}
    by = {(c.item_id, c.change): c for c in diff.changes}
    assert by["SF-6", Change.WEIGHT].before == "20%" and by["SF-6", Change.WEIGHT].after == "15%"
    assert by["SF-1.1", Change.TARGET].italian() == "indicatore SF-1.1: target «100%» → «90%»"
    assert by["SF-9", Change.REMOVED].italian() == "obiettivo SF-9 tolto (era «MONITORAGGIO UTENZE»)"
    assert by["SF-1", Change.DEADLINE].after == "Ottobre"
    # the carry-over rule: only identical indicators carry their values
    assert diff.carries_over("SF-3.1") and diff.carries_over("SF-1.2")
    for changed in ("SF-1.1", "SF-6.1", "SF-5.1", "SF-4.1", "SF-10.1", "SF-9.1"):
        assert not diff.carries_over(changed)
    assert diff.carries_over("SF-2.1")  # its objective's weight changed, not the indicator
    assert set(diff.changed_objectives()) == {"SF-1", "SF-2", "SF-4", "SF-5", "SF-6", "SF-10"}
    assert diff_plans(plan, plan).empty
    # other sectors untouched
    assert not diff.in_sector("SA") and all(diff.carries_over(i.id) for i in plan.sector("SA").indicators)


def test_check_revision_refuses_dates_and_removed_objectives_already_reported(plan):
    new = parse_plan(yaml.dump(revised_data(plan), allow_unicode=True, sort_keys=False), "v2.yaml")[0]
    v1 = PlanVersion(1, plan, Act("Delibera di Giunta comunale n. 12", date(2025, 1, 30)))
    ok = check_revision(v1, new, Act("Delibera di Giunta comunale n. 45", date(2025, 7, 15)), (), date(2025, 1, 30))
    assert ok == []
    early = check_revision(v1, new, Act("Delibera n. 45", date(2025, 1, 10)), (), date(2025, 1, 30))
    assert [f.code for f in early] == ["REV-DATE"] and "prima dell'adozione del piano (30/01/2025)" in early[0].message
    from piao_xls.core.revisions import Reported

    reported = check_revision(v1, new, Act("Delibera n. 45", date(2025, 7, 15)),
                              [Reported("SF", "PIAO-2025-SF-Finanziario.xlsx", "2025-07-01T10:00:00+00:00")])
    assert [f.code for f in reported] == ["REV-REMOVED-REPORTED"]
    assert "SF-9" in reported[0].message and "01/07/2025" in reported[0].message
    # a return of another sector does not block it
    assert check_revision(v1, new, Act("Delibera n. 45", date(2025, 7, 15)),
                          [Reported("SA", "x.xlsx", "2025-07-01")]) == []
    assert [f.code for f in check_revision(v1, plan, Act("D. n. 45", date(2025, 7, 15)))] == ["REV-NO-CHANGE"]


def test_act_organ_and_number():
    a = Act("Delibera di Giunta comunale n. 45/2025", date(2025, 7, 15), "motivo")
    assert (a.organ, a.number) == ("Delibera di Giunta comunale", "45/2025")
    assert a.italian() == "Delibera di Giunta comunale n. 45/2025 del 15/07/2025"
    assert Act("Deliberazione G.C. numero 7", date(2025, 3, 1)).number == "7"
    assert Act("Decreto del Sindaco", date(2025, 3, 1)).number == ""


# --- the workspace --------------------------------------------------------------------------------------------

def test_adoption_revision_and_the_workbook_for_the_nucleo(ws, tmp_path, plan):
    v2 = write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))
    before = tree(ws)
    r = run(ws, "piano", "revisione", str(v2), *REVISION, code=1)  # no adoption yet: refused, nothing written
    assert "REV-NO-ADOPTION" in r.output and "piao-xls piano adozione" in r.output
    assert tree(ws) == before
    run(ws, "piano", "adozione", *ADOPTION)
    assert "REV-DATE" in run(ws, "piano", "adozione", *ADOPTION, code=1).output  # only once
    r = run(ws, "piano", "revisione", str(v2), *REVISION)
    assert "registrata la versione 2 (Delibera di Giunta comunale n. 45 del 15/07/2025)" in r.output
    assert "indicatore SF-1.1: target «100%» → «90%»" in r.output
    assert "obiettivo SF-10 aggiunto: «DIGITALIZZAZIONE DEI PAGAMENTI»" in r.output
    assert "obiettivo SF-9 tolto" in r.output
    # the plan in force is the revision, for every command
    assert 'piano = "piano/versioni/v2-piano-v2.yaml"' in (ws / "piao-xls.toml").read_text(encoding="utf-8")
    assert (ws / "piano" / "versioni" / "v2-piano-v2.yaml").read_bytes() == v2.read_bytes()
    out = json.loads(run(ws, "piano", "verifica", "--json").output)
    assert out["fingerprint"] == load_plan(v2).fingerprint
    # the ledger records both versions with their acts, and refuses to change them
    db = sqlite3.connect(ws / "registro.sqlite")
    rows = db.execute("SELECT number, act, act_date, organ, act_number, reason FROM versions ORDER BY id").fetchall()
    assert rows == [(1, "Delibera di Giunta comunale n. 12", "2025-01-30", "Delibera di Giunta comunale", "12", ""),
                    (2, "Delibera di Giunta comunale n. 45", "2025-07-15", "Delibera di Giunta comunale", "45",
                     "Rimodulazione dopo il monitoraggio al 30/06")]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM versions")
    db.close()
    # the workbook for the Nucleo
    wb = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Versioni-del-piano.xlsx")
    versions = [[c.value for c in row] for row in wb["Versioni"].iter_rows(min_row=4)]
    assert [v[:5] for v in versions] == [
        ["1", "Delibera di Giunta comunale n. 12", "Delibera di Giunta comunale", "12", "30/01/2025"],
        ["2", "Delibera di Giunta comunale n. 45", "Delibera di Giunta comunale", "45", "15/07/2025"]]
    changes = [[c.value for c in row] for row in wb["Modifiche"].iter_rows(min_row=4)]
    assert ["1 → 2", "15/07/2025", "SF", "indicatore", "SF-1.1", "target", "100%", "90%"] in changes
    assert ["1 → 2", "15/07/2025", "SF", "obiettivo", "SF-9", "tolto", "MONITORAGGIO UTENZE", ""] in changes
    assert ["1 → 2", "15/07/2025", "SF", "obiettivo", "SF-10", "aggiunto", "", "DIGITALIZZAZIONE DEI PAGAMENTI"] \
        in changes
    assert all(isinstance(v, str) for row in changes for v in row)
    # versioni and differenze
    r = run(ws, "piano", "versioni")
    assert "Versione 2 (revisione): Delibera di Giunta comunale n. 45 del 15/07/2025 — motivo: Rimodulazione" in r.output
    assert "Termine per assegnare o modificare obiettivi: 30/09/2025" in r.output
    r = run(ws, "piano", "differenze")
    assert "Settore SF - Finanziario" in r.output and "indicatore SF-6.1: target" in r.output
    assert run(ws, "piano", "differenze", "2", "2").output.strip() == "nessuna differenza"
    data = json.loads(run(ws, "plan", "diff", "1", "2", "--json").output)  # the English alias
    assert {"level": "objective", "id": "SF-10", "sector": "SF", "change": "added", "before": "",
            "after": "DIGITALIZZAZIONE DEI PAGAMENTI"} in data["changes"]
    assert "non è registrata" in run(ws, "piano", "differenze", "7", code=2).output


def test_a_revision_of_a_plan_workbook(ws, tmp_path, plan):
    """A revision written in the plan workbook (as the clerk edits it) is recorded like a YAML one."""
    run(ws, "piano", "adozione", *ADOPTION)
    new = parse_plan(yaml.dump(revised_data(plan), allow_unicode=True, sort_keys=False), "v2.yaml")[0]
    book = tmp_path / "piano-v2.xlsx"
    book.write_bytes(export_bytes(new))
    r = run(ws, "piano", "revisione", str(book), *REVISION)
    assert "indicatore SF-1.1: target «100%» → «90%»" in r.output
    assert 'piano = "piano/versioni/v2-piano-v2.xlsx"' in (ws / "piao-xls.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ["weights", "before_adoption", "before_last_revision", "no_change",
                                  "other_plan", "removes_reported"])
def test_a_bad_revision_is_refused_and_nothing_changes(ws, tmp_path, plan, case):
    run(ws, "piano", "adozione", *ADOPTION)
    v2 = write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))
    args = list(REVISION)
    expect = ""
    if case == "weights":  # SF-6 from 20 to 25: SF sums 105
        v2 = write_plan(tmp_path / "piano-v2b.yaml", revised_data(plan, weights={6: 25}))
        expect = "PLAN-WEIGHTS"
    elif case == "before_adoption":
        args[3] = "15/01/2025"
        expect = "REV-DATE"
    elif case == "before_last_revision":
        run(ws, "piano", "revisione", str(v2), *REVISION)
        v3 = write_plan(tmp_path / "piano-v3.yaml", revised_data(plan, weights={6: 15, 2: 15}))
        v2, args[3] = v3, "01/07/2025"
        expect = "REV-DATE"
    elif case == "no_change":
        v2 = write_plan(tmp_path / "uguale.yaml", plan_to_data(plan))
        expect = "REV-NO-CHANGE"
    elif case == "other_plan":
        d = revised_data(plan)
        d["year"] = 2026
        v2 = write_plan(tmp_path / "altro.yaml", d)
        expect = "REV-PLAN"
    elif case == "removes_reported":  # SF returned its form, then a revision removes SF-9
        (tmp_path / "allegati").mkdir()
        (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(plan, "SF"))
        run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
        expect = "REV-REMOVED-REPORTED"
    before = tree(ws)
    r = run(ws, "piano", "revisione", str(v2), *args, code=1)
    assert expect in r.output and "Nulla è stato registrato né modificato" in r.output, r.output
    assert tree(ws) == before  # settings, plan files, ledger, results: all as they were
    if case == "weights":
        assert "sommano 105 invece di 100" in r.output
    if case == "removes_reported":
        assert "obiettivo SF-9" in r.output and "ha già restituito il modulo" in r.output


# --- a return made on a superseded version --------------------------------------------------------------

def test_a_return_on_the_old_version_carries_unchanged_values_and_asks_again_for_the_rest(ws, tmp_path, plan):
    run(ws, "piano", "adozione", *ADOPTION)
    run(ws, "genera")
    v1_form = ws / "moduli" / "2025" / "PIAO-2025-SF-Finanziario.xlsx"
    assert v1_form.exists()
    old_filled = filled_form(plan, "SF", seed=5)
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *REVISION)
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(old_filled)
    r = run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    assert "REV-OLD-VERSION" in r.output and "WB-IDENTITY" not in r.output and "WB-TAMPERED" not in r.output
    assert "compilato sulla versione 1 (Delibera di Giunta comunale n. 12 del 30/01/2025)" in r.output
    assert "è in vigore la versione 2 (Delibera di Giunta comunale n. 45 del 15/07/2025)" in r.output
    assert "Da compilare di nuovo sul modulo della versione 2: SF-1.1, SF-6.1, SF-10.1" in r.output
    st = json.loads(run(ws, "stato", "--json", code=None).output)
    sf = next(p for p in st["parties"] if p["code"] == "SF")
    assert sf["status"] == "rejected"  # to correct: the sector must send the form of version 2
    # the reply, in the thread, carries the form of version 2 with the values that carry over already in
    text = (ws / "piao-xls.toml").read_text(encoding="utf-8")
    (ws / "piao-xls.toml").write_text(text.replace("@example.invalid", "@comune.test"), encoding="utf-8")
    r = run(ws, "rispondi", code=None)
    drafts = list((ws / "bozze").glob("*risposta-SF*.eml"))
    assert len(drafts) == 1, (r.output, list((ws / "bozze").iterdir()))
    msg = message_from_bytes(drafts[0].read_bytes(), policy=policy.default)
    body = msg.get_body(("plain",)).get_content()
    assert "compilato su una versione precedente del piano" in body and "SF-1.1, SF-6.1, SF-10.1" in body
    (part,) = [p for p in msg.iter_attachments() if p.get_filename() == "PIAO-2025-SF-Finanziario.xlsx"]
    attached = tmp_path / "nuovo.xlsx"
    attached.write_bytes(part.get_content())
    v2_plan = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    back = read_workbook(attached, v2_plan)  # a form of version 2: no identity or tamper finding
    assert not [f for f in back.findings if f.code in ("WB-IDENTITY", "WB-TAMPERED", "REV-OLD-VERSION")]
    asked = {f.message.split()[1] for f in back.findings if f.code == "WB-MISSING"}
    assert asked == {"SF-1.1", "SF-6.1", "SF-10.1"}  # only those are left to fill in
    first = read_workbook(tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx", plan)
    for iid in ("SF-1.2", "SF-3.1", "SF-4.1", "SF-7.1"):
        assert back.sectors["SF"].values[iid] == first.sectors["SF"].values[iid], iid
    # year end on version 2: carried values count, the others are not reported
    out = tmp_path / "risultati.json"
    run(ws, "consolida", "--json-file", str(out), code=1)
    c = json.loads(out.read_text(encoding="utf-8"))
    inds = {i["indicator"]: i for i in c["indicators"] if i["sector"] == "SF"}
    assert "SF-9.1" not in inds and "SF-10.1" in inds  # scored on version 2
    assert inds["SF-3.1"]["status"] == "scored" and inds["SF-1.2"]["status"] == "scored"
    for again in ("SF-1.1", "SF-6.1", "SF-10.1"):
        assert inds[again]["status"] == "missing", inds[again]
    assert any(f["code"] == "REV-OLD-VERSION" for f in c["findings"])
    # the Nucleo's annex says which form was on which version
    annex = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Versioni-del-piano.xlsx")["Moduli"]
    rows = [[c.value for c in row] for row in annex.iter_rows(min_row=4)]
    assert [r[1:4] for r in rows] == [["SF", "1", "Delibera di Giunta comunale n. 12 del 30/01/2025"]]
    # the Responsabile sends the form of version 2: it counts, accepted
    new_plan = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    (tmp_path / "allegati2").mkdir()
    (tmp_path / "allegati2" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(new_plan, "SF", seed=6))
    r = run(ws, "raccogli", str(tmp_path / "allegati2"), code=None)
    assert "REV-OLD-VERSION" not in r.output
    st = json.loads(run(ws, "stato", "--json", code=None).output)
    assert next(p for p in st["parties"] if p["code"] == "SF")["status"] in ("accepted", "accepted_with_warnings")
    run(ws, "consolida", code=None)
    annex = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Versioni-del-piano.xlsx")["Moduli"]
    assert sorted(row[2].value for row in annex.iter_rows(min_row=4)) == ["1", "2"]


def test_a_form_of_an_unknown_version_is_still_refused(ws, tmp_path, plan):
    """Only recorded versions are read on their plan: a form of any other plan stays WB-IDENTITY."""
    run(ws, "piano", "adozione", *ADOPTION)
    other = parse_plan(yaml.dump(revised_data(plan, weights={6: 15, 2: 15}), allow_unicode=True,
                                 sort_keys=False), "x.yaml")[0]
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(other, "SF"))
    r = run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    assert "WB-IDENTITY" in r.output and "REV-OLD-VERSION" not in r.output


# --- the timeline check -------------------------------------------------------------------------------------

def test_the_timeline_flags_late_objectives_in_the_summary(ws, tmp_path, plan):
    run(ws, "piano", "adozione", *ADOPTION)
    late = ("--atto", "Delibera di Giunta comunale n. 80", "--data", "15/10/2025")
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *late)
    r = run(ws, "piano", "versioni")
    assert "obiettivo SF-10 assegnato con la versione 2 (Delibera di Giunta comunale n. 80 del 15/10/2025), " \
           "dopo il termine del 30/09/2025" in r.output
    assert "obiettivo SF-1 modificato" in r.output and "obiettivo SF-6 modificato" in r.output
    assert "SA-" not in r.output
    (tmp_path / "allegati").mkdir()
    new_plan = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(new_plan, "SF"))
    run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    out = tmp_path / "r.json"
    run(ws, "consolida", "--json-file", str(out), code=1)
    found = [f for f in json.loads(out.read_text(encoding="utf-8"))["findings"] if f["code"] == "REV-LATE"]
    assert {f["sector"] for f in found} == {"SF"} and len(found) == 3
    wb = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Riepilogo.xlsx")
    texts = [str(c.value) for row in wb["Anomalie"].iter_rows() for c in row if c.value]
    assert sum("obiettivo SF-10 assegnato con la versione 2" in t and "dopo il termine del 30/09/2025" in t
               for t in texts) == 1
    # a cut-off set in the settings moves the check
    text = (ws / "piao-xls.toml").read_text(encoding="utf-8")
    (ws / "piao-xls.toml").write_text(text.replace("termine_revisioni = 2025-09-30",
                                                   "termine_revisioni = 31/10/2025"), encoding="utf-8")
    assert "REV-LATE" not in run(ws, "piano", "versioni").output


def test_timeline_flags_a_change_after_the_deadline_it_measures(plan):
    """SF-1.2 measures «Novembre» (30/11/2025): a revision of it in December is after the period it measures."""
    d = plan_to_data(plan)
    sf = next(s for s in d["sectors"] if s["code"] == "SF")
    sf["objectives"][0]["indicators"][1]["target"] = "Dicembre"
    new = parse_plan(yaml.dump(d, allow_unicode=True, sort_keys=False), "v2.yaml")[0]
    v1 = PlanVersion(1, plan, Act("Delibera n. 12", date(2025, 1, 30)))
    v2 = PlanVersion(2, new, Act("Delibera n. 99", date(2025, 12, 5)))
    found = timeline_findings([v1, v2], date(2025, 12, 31))
    assert [f.code for f in found] == ["REV-LATE"] and "dopo la scadenza che misura" in found[0].message
    assert "SF-1.2" in found[0].message
    assert timeline_findings([v1, PlanVersion(2, new, Act("Delibera n. 99", date(2025, 10, 5)))],
                             date(2025, 12, 31)) == []
    # the plan adopted after the cut-off
    late = timeline_findings([PlanVersion(1, plan, Act("Delibera n. 12", date(2025, 10, 2)))], date(2025, 9, 30))
    assert len(late) == 1 and "adottato il 02/10/2025" in late[0].message


def test_an_old_ledger_gains_the_versions_table(ws):
    db = sqlite3.connect(ws / "registro.sqlite")
    db.execute("DROP TABLE versions")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    run(ws, "piano", "adozione", *ADOPTION)
    db = sqlite3.connect(ws / "registro.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 5
    assert db.execute("SELECT number FROM versions").fetchall() == [(1,)]
    db.close()


@pytest.mark.libreoffice
def test_old_version_return_completed_in_libreoffice(ws, tmp_path, plan, libreoffice):
    """The Responsabile types the version 1 form in LibreOffice; the plan is revised; the return is read on version
    1, the reply brings the version 2 form with the unchanged values in; the Responsabile types only the three
    values asked again, in LibreOffice: accepted, and the year end on version 2 scores every SF indicator."""
    from scenario import SF_ANALYSES, SF_VALUES

    def typed(value) -> str:  # what a person types (the test profile is en-US)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and abs(value) <= 1 and value not in (0.0, -3.0):
            return f"{value * 100:g}%"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def type_all(path: Path, layout, values: dict, out: Path) -> Path:
        with libreoffice.open(path) as doc:
            for key, value in values.items():
                assert doc.type_into(layout.name, layout.inputs[key].ref, typed(value)), key
            return doc.save_as(out, "xlsx")

    run(ws, "piano", "adozione", *ADOPTION)
    run(ws, "genera")
    v1_layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    returned = type_all(ws / "moduli" / "2025" / "PIAO-2025-SF-Finanziario.xlsx", v1_layout,
                        {**SF_VALUES, **SF_ANALYSES}, tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx")
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *REVISION)
    assert "REV-OLD-VERSION" in run(ws, "raccogli", str(tmp_path / "allegati"), code=None).output
    text = (ws / "piao-xls.toml").read_text(encoding="utf-8")
    (ws / "piao-xls.toml").write_text(text.replace("@example.invalid", "@comune.test"), encoding="utf-8")
    run(ws, "rispondi", code=None)
    (draft,) = (ws / "bozze").glob("*risposta-SF*.eml")
    msg = message_from_bytes(draft.read_bytes(), policy=policy.default)
    (part,) = list(msg.iter_attachments())
    (tmp_path / "nuovo").mkdir()
    new_form = tmp_path / "nuovo" / part.get_filename()
    new_form.write_bytes(part.get_content())
    v2 = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    v2_layout = sector_workbook(v2, v2.sector("SF")).sheets[1]
    again = {"SF-1.1|value": 0.95, "SF-6.1|numerator": 180000.0, "SF-6.1|denominator": 200000.0,
             "SF-10.1|value": 0.85}
    type_all(new_form, v2_layout, again, tmp_path / "allegati2" / "PIAO-2025-SF-Finanziario.xlsx")
    r = run(ws, "raccogli", str(tmp_path / "allegati2"), code=None)
    assert "REV-OLD-VERSION" not in r.output and "WB-MISSING" not in r.output, r.output
    out = tmp_path / "r.json"
    run(ws, "consolida", "--json-file", str(out), code=None)
    c = json.loads(out.read_text(encoding="utf-8"))
    inds = {i["indicator"]: i for i in c["indicators"] if i["sector"] == "SF"}
    first = read_workbook(returned, plan).sectors["SF"].values
    for iid, i in inds.items():
        if iid == "SF-2.1":  # the Nucleo's, not received
            continue
        assert i["status"] == "scored", (iid, i)
    assert inds["SF-1.1"]["actual_values"]["value"] == pytest.approx(0.95)
    assert inds["SF-6.1"]["achievement"] == pytest.approx(1.0)  # 90% of the new target of 90%
    assert inds["SF-4.1"]["actual_values"]["value"] == first["SF-4.1"]["value"] == -3.0  # carried over, as typed
    assert inds["SF-1.2"]["actual_values"]["date"] == "2025-11-15"
    old = [f for f in c["findings"] if f["code"] == "REV-OLD-VERSION"]
    assert len(old) == 1 and old[0]["severity"] == "warning" and "non conta più" in old[0]["message"]
    assert not [f for f in c["findings"] if f["code"] == "WB-CONFLICT"]


def test_revision_entries_group_changes_by_objective(plan):
    new = parse_plan(yaml.dump(revised_data(plan, weights={6: 15, 2: 15}), allow_unicode=True, sort_keys=False),
                     "v2.yaml")[0]
    from piao_xls.core.revisions import revision_entries

    v1 = PlanVersion(1, plan, Act("Delibera di Giunta comunale n. 12", date(2025, 1, 30)))
    v2 = PlanVersion(2, new, Act("Delibera di Giunta comunale n. 45", date(2025, 7, 15), "Rimodulazione"))
    assert revision_entries([v1]) == []
    (entry,) = revision_entries([v1, v2])
    assert entry.version is v2 and entry.previous is v1
    groups = {g.objective_id: g for g in entry.objectives}
    assert list(groups) == ["SF-1", "SF-2", "SF-6", "SF-10", "SF-9"]
    assert groups["SF-6"].lines == ("obiettivo SF-6: peso «20%» → «15%»",
                                    "indicatore SF-6.1: target «Accertamento del 100% delle somme stanziate nel "
                                    "Bilancio 2025» → «Accertamento del 90% delle somme stanziate nel Bilancio 2025»")
    assert groups["SF-9"].title == "MONITORAGGIO UTENZE" and groups["SF-10"].lines[1].startswith("indicatore SF-10.1")


def test_a_version_file_changed_by_hand_is_named_and_nothing_crashes(ws, tmp_path, plan):
    run(ws, "piano", "adozione", *ADOPTION)
    stored = ws / "piano" / "versioni" / "v1-truccazzano-2025.yaml"
    stored.write_text(stored.read_text(encoding="utf-8").replace("RECUPERO EVASIONE", "RECUPERO EVASIONI"),
                      encoding="utf-8")
    r = run(ws, "piano", "versioni", code=1)
    assert "è stato modificato dopo la registrazione" in r.output and "v1-truccazzano-2025.yaml" in r.output
    r = run(ws, "consolida", code=2)
    assert "è stato modificato dopo la registrazione" in r.output
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(plan, "SF"))
    r = run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output


def test_genera_after_a_revision_replaces_blank_forms_of_the_old_version_only(ws, tmp_path, plan):
    run(ws, "piano", "adozione", *ADOPTION)
    run(ws, "genera")
    forms = ws / "moduli" / "2025"
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *REVISION)
    (forms / "PIAO-2025-SA-Amministrazione.xlsx").write_bytes(filled_form(plan, "SA"))  # filled on version 1
    r = run(ws, "genera", code=2)
    assert "PIAO-2025-SA-Amministrazione.xlsx contiene già" in r.output and "SF-Finanziario" not in r.output
    (forms / "PIAO-2025-SA-Amministrazione.xlsx").unlink()
    run(ws, "genera")
    v2 = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    assert read_workbook(forms / "PIAO-2025-SF-Finanziario.xlsx", v2).findings[0].code == "WB-MISSING"  # version 2


def test_the_relazione_tells_every_revision_with_its_act_and_changes(ws, tmp_path, plan):
    """The results carry the revisions (act, date, reason, changes per objective) and the Relazione has the
    chapter on what changed during the year, in its body, from the same data."""
    import docx

    run(ws, "piano", "adozione", *ADOPTION)
    act = ("--atto", "Delibera di Giunta comunale n. 45", "--data", "15/07/2025", "--motivo",
           "nuovo obiettivo sui pagamenti digitali")
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *act)
    new_plan = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(new_plan, "SF"))
    run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    out = tmp_path / "r.json"
    run(ws, "consolida", "--json-file", str(out), code=None)
    (rev,) = json.loads(out.read_text(encoding="utf-8"))["revisions"]
    assert (rev["version"], rev["date"], rev["reason"]) == (2, "2025-07-15", "nuovo obiettivo sui pagamenti digitali")
    assert {c["objective"] for c in rev["changes"]} == {"SF-1", "SF-6", "SF-9", "SF-10"}
    run(ws, "relazione", "--no-pdf", code=None)
    (path,) = [p for p in (ws / "risultati").glob("*Relazione-Performance.docx")]
    doc = docx.Document(str(path))
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert "Delibera di Giunta comunale n. 45 del 15/07/2025" in text
    assert "nuovo obiettivo sui pagamenti digitali" in text
    assert "SF-10 «DIGITALIZZAZIONE DEI PAGAMENTI»" in text and "La Giunta ha modificato il piano una volta" in text


def _docx_text(path: Path) -> str:
    import docx

    doc = docx.Document(str(path))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def test_summary_relazione_and_annex_tell_revisions_late_changes_and_form_versions(ws, tmp_path, plan):
    """A revision after the cut-off, one return on version 1 and one on version 2: the summary's Revisioni sheet
    lists the act and the changes per objective with the words of the Relazione, the timeline flags are in the
    summary, the Relazione and the annex, and the annex says which form was on which version."""
    run(ws, "piano", "adozione", *ADOPTION)
    late = ("--atto", "Delibera di Giunta comunale n. 80", "--data", "15/10/2025", "--motivo",
            "nuovo obiettivo sui pagamenti digitali")
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *late)
    new_plan = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(new_plan, "SF"))
    (tmp_path / "allegati" / "PIAO-2025-SA-Amministrazione.xlsx").write_bytes(filled_form(plan, "SA"))
    run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    out = tmp_path / "r.json"
    run(ws, "consolida", "--json-file", str(out), code=None)
    data = json.loads(out.read_text(encoding="utf-8"))
    (rev,) = data["revisions"]
    by_obj = {c["objective"]: c for c in rev["changes"]}
    assert by_obj["SF-10"]["late"] == "dopo il termine del 30/09/2025 fissato nelle impostazioni"
    assert {s["sectors"]: s["plan_version"] for s in data["sources"]} == {"SF": 2, "SA": 1}
    names = {s["sectors"]: Path(s["path"]).name for s in data["sources"]}

    wb = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Riepilogo.xlsx")
    assert "Revisioni" in wb.sheetnames
    sheet = wb["Revisioni"]
    assert [c.value for c in sheet[3]] == ["Versione", "Atto", "Motivo", "Obiettivo", "Modifiche",
                                           "Segnalazione al Nucleo (verifica dei tempi)"]
    rows = {r[3]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert set(rows) == {"SF-1", "SF-6", "SF-9", "SF-10"}
    assert rows["SF-1"][:3] == (2, "Delibera di Giunta comunale n. 80 del 15/10/2025",
                                "nuovo obiettivo sui pagamenti digitali")
    assert "indicatore SF-1.1: target «100%» → «90%»" in rows["SF-1"][4]
    assert rows["SF-10"][4].startswith("SF-10 «DIGITALIZZAZIONE DEI PAGAMENTI»: obiettivo SF-10 aggiunto")
    assert rows["SF-10"][5] == "dopo il termine del 30/09/2025 fissato nelle impostazioni"
    assert rows["SF-9"][5] is None  # a removal is not an objective assigned late
    assert sheet.page_setup.orientation == "landscape"
    fonti = wb["Fonti"]
    head = [c.value for c in fonti[3]]
    assert head[3:5] == ["Settori", "Versione del piano"]
    assert {r[3]: r[4] for r in fonti.iter_rows(min_row=4, values_only=True)} == {"SA": "1", "SF": "2"}

    run(ws, "relazione", "--no-pdf", code=None)
    (path,) = list((ws / "risultati").glob("*Relazione-Performance.docx"))
    text = _docx_text(path)
    # the same words in the summary and in the Relazione
    assert rows["SF-1"][4].replace(";\n", "; ") in text
    assert "3 obiettivi sono stati assegnati o modificati in ritardo" in text
    assert "SF-10 (dopo il termine del 30/09/2025 fissato nelle impostazioni)" in text
    annex = _docx_text(path.with_name(f"{path.stem}-Allegato-tecnico.docx"))
    assert "Le versioni del piano e la verifica dei tempi" in annex
    assert "Versione del piano\n2 (Delibera di Giunta comunale n. 80 del 15/10/2025)" in annex  # section 1
    assert "Verifica dei tempi: 3 segnalazioni" in annex
    assert "obiettivo SF-10 assegnato con la versione 2 (Delibera di Giunta comunale n. 80 del 15/10/2025)" in annex
    lines = annex.split("\n")
    sa, sf = (len(lines) - 1 - lines[::-1].index(names[k]) for k in ("SA", "SF"))  # the last table: the versions
    assert lines[sa + 2] == "1" and lines[sf + 2] == "2"  # File, Settori, Versione del piano


def test_after_a_revision_invia_sends_only_the_changed_sectors_in_their_thread(ws, tmp_path, plan):
    """Every form carries the plan's fingerprint, so after a revision every form is new; only the sectors whose form
    changed get it again (the plan with that sector alone: its fingerprint), in the thread of the form they had,
    with a paragraph naming the act; the others are told unchanged, and --resend still sends them."""
    text = (ws / "piao-xls.toml").read_text(encoding="utf-8")
    (ws / "piao-xls.toml").write_text(text.replace("@example.invalid", "@comune.test"), encoding="utf-8")
    run(ws, "piano", "adozione", *ADOPTION)
    run(ws, "genera")
    first = json.loads(run(ws, "invia", "--json").output)["actions"]
    assert {a["outcome"] for a in first} == {"bozza preparata"}
    sf_first = next(a["message_id"] for a in first if a["code"] == "SF")
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *REVISION)
    run(ws, "genera")
    again = {a["code"]: a for a in json.loads(run(ws, "invia", "--json").output)["actions"]}
    assert again["SF"]["outcome"] == "bozza preparata"
    assert again["nucleo"]["outcome"] == "bozza preparata"  # the Nucleo measures SF's indicators too
    assert again["esterno"]["outcome"] == "invariato: non reinviato"  # the external source: SA's only
    sectors = [s.code for s in plan.sectors]
    for code in sectors:
        if code != "SF":
            assert again[code]["outcome"] == "invariato: non reinviato", again[code]
            assert "versione 2 (Delibera di Giunta comunale n. 45 del 15/07/2025) non cambia nulla per questo " \
                   "settore" in again[code]["problems"][0]
    drafts = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in (ws / "bozze").glob("*invio-SF*.eml")]
    assert len(drafts) == 2
    (msg,) = [m for m in drafts if m["Message-ID"] == again["SF"]["message_id"]]
    assert msg["In-Reply-To"] == sf_first and sf_first in msg["References"]
    body = msg.get_body(("plain",)).get_content()
    assert "Il piano è stato modificato con la versione 2 (Delibera di Giunta comunale n. 45 del 15/07/2025): " \
           "questo modulo sostituisce quello della versione 1" in body
    (part,) = list(msg.iter_attachments())
    attached = tmp_path / "v2.xlsx"
    attached.write_bytes(part.get_content())
    v2 = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    assert not [f for f in read_workbook(attached, v2).findings if f.code in ("WB-IDENTITY", "WB-TAMPERED")]
    # nothing left to send; --resend sends an unchanged sector its form of version 2
    assert {a["outcome"] for a in json.loads(run(ws, "invia", "--json").output)["actions"]} <= {
        "già inviato", "invariato: non reinviato"}
    sa = json.loads(run(ws, "invia", "--json", "--resend", "--settore", "SA").output)["actions"]
    assert [a["outcome"] for a in sa] == ["bozza preparata"]


def test_forms_say_their_plan_version_and_it_is_checked_like_the_rest(ws, tmp_path, plan):
    """In a workspace with recorded versions every form names its version and act in the Istruzioni sheet and in
    its properties; the form reads back clean (on its version too, after a revision), and a version line changed
    in the file alone is tampering."""
    import zipfile

    from tests import zipmut

    run(ws, "piano", "adozione", *ADOPTION)
    run(ws, "genera")
    form = ws / "moduli" / "2025" / "PIAO-2025-SF-Finanziario.xlsx"
    wb = openpyxl.load_workbook(form)
    lines = [c.value for row in wb["Istruzioni"].iter_rows(max_row=4) for c in row if c.value]
    assert lines[1] == "Versione del piano: 1 (Delibera di Giunta comunale n. 12 del 30/01/2025)."
    props = zipfile.ZipFile(form).read("docProps/custom.xml").decode()
    assert "1 (Delibera di Giunta comunale n. 12 del 30/01/2025)" in props
    assert {f.code for f in read_workbook(form, plan).findings} == {"WB-MISSING"}  # blank: nothing else to say
    v1_form = tmp_path / "v1.xlsx"
    v1_form.write_bytes(form.read_bytes())
    # after a revision the new forms say version 2; a blank form of version 1 still reads on its version
    run(ws, "piano", "revisione", str(write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))), *REVISION)
    run(ws, "genera")
    wb = openpyxl.load_workbook(form)
    assert [c.value for row in wb["Istruzioni"].iter_rows(min_row=2, max_row=2) for c in row if c.value] == [
        "Versione del piano: 2 (Delibera di Giunta comunale n. 45 del 15/07/2025)."]
    v2 = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
    assert {f.code for f in read_workbook(form, v2).findings} == {"WB-MISSING"}
    from piao_xls.returns.versions import read_on_versions
    from piao_xls.workspace.ledger import Ledger
    from piao_xls.workspace.planversions import versions

    with Ledger(ws / "registro.sqlite") as led:
        known = versions(led)
    old = read_on_versions(v1_form, v2, known)
    assert "WB-TAMPERED" not in {f.code for f in old.findings} and "REV-OLD-VERSION" in {f.code for f in old.findings}
    # the version said in the properties but not in the sheet (or the other way round): tampering
    data = v1_form.read_bytes()
    custom = zipmut.parts(data)["docProps/custom.xml"].replace(b"n. 12 del 30/01/2025", b"n. 99 del 30/01/2025")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(zipmut.edit(data, {"docProps/custom.xml": custom}))
    found = read_workbook(bad, plan).findings
    assert any(f.code == "WB-TAMPERED" and f.sheet == "Istruzioni" for f in found), [str(f) for f in found]
