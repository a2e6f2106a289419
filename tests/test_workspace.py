"""The workspace: init, finding it from a sub-folder, settings errors, the ledger, and the command-line
conventions every command shares (Italian, exit codes, --json on stdout, check on folders)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from piao_xls.cli import EXIT_CODES, cli
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import bundled_plan_path
from piao_xls.workspace.ledger import Ledger
from piao_xls.workspace.settings import SETTINGS_NAME, find_workspace, load_settings


def invoke(*args, cwd: Path | None = None):
    pre = ["-C", str(cwd)] if cwd else []
    return CliRunner().invoke(cli, [*pre, *args])


@pytest.fixture
def ws(tmp_path):
    r = invoke("init", str(tmp_path / "ws"), "--scadenza", "2026-01-31")
    assert r.exit_code == 0, r.output
    return tmp_path / "ws"


def test_init_writes_settings_plan_and_folders(ws):
    s = load_settings(ws)
    assert (s.comune, s.year, s.deadline.isoformat()) == ("Truccazzano", 2025, "2026-01-31")
    assert s.plan.read_bytes() == bundled_plan_path().read_bytes() and s.plan.parent.parent == ws
    for key in ("moduli", "bozze", "ricevuti", "posta", "riscontri", "risultati"):
        assert s.folder(key).is_dir() and s.folder(key).parent == ws
    text = (ws / SETTINGS_NAME).read_text(encoding="utf-8")
    assert "# Le password non vanno mai scritte qui" in text and "password =" not in text
    assert s.address("SF") == "sf.responsabile@example.invalid" and s.address("nucleo") == "nucleo@example.invalid"
    assert find_workspace(ws / "ricevuti") == ws


def test_commands_find_the_workspace_from_a_sub_folder(ws):
    r = invoke("stato", "--json", cwd=ws / "ricevuti")
    assert r.exit_code == 1  # everything is missing
    data = json.loads(r.output)
    assert data["comune"] == "Truccazzano" and {p["status"] for p in data["parties"]} == {"missing"}


def test_outside_a_workspace_the_workspace_commands_are_a_usage_error(tmp_path):
    for cmd in ("stato", "send", "collect", "reply", "remind"):
        r = invoke(cmd, cwd=tmp_path)
        assert r.exit_code == 2, (cmd, r.output)
        assert "nessuna area di lavoro trovata" in r.output and "piao-xls crea" in r.output


def test_init_refuses_an_existing_or_nested_workspace(ws):
    again = invoke("init", str(ws))
    assert again.exit_code == 2 and "esiste già" in again.output
    nested = invoke("init", str(ws / "ricevuti" / "altro"))
    assert nested.exit_code == 2 and "si trova già dentro l'area di lavoro" in nested.output


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('ricevuti = "ricevuti"', 'ricevuti = "moduli/ricevuti"'), "non possono coincidere"),
    (lambda t: t.replace('risultati = "risultati"', 'risultati = "ricevuti"'), "non possono coincidere"),
    (lambda t: t.replace('bozze = "bozze"', 'bozze = "../fuori"'), "deve essere una sottocartella"),
    (lambda t: t.replace("anno = 2025", "anno = duemila"), "riga 7: valore non valido"),
    (lambda t: t.replace("scadenza = 2026-01-31", 'scadenza = "fine gennaio"'), "scriverla come 31/01/2026"),
    (lambda t: t.replace('invio = "bozze"', 'invio = "piccione"'), "invio deve essere"),
])
def test_bad_settings_are_a_usage_error_naming_the_file(ws, edit, message):
    path = ws / SETTINGS_NAME
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    r = invoke("stato", cwd=ws)
    assert r.exit_code == 2 and message in r.output and str(path) in r.output, r.output


@pytest.mark.parametrize(("edit", "words"), [
    (lambda t: t.replace('SF = "sf.', 'sf = "sf.'), "[indirizzi] «sf» non è un settore del piano né «nucleo» o «esterno» "
                                                     "(forse «SF»?): gli indirizzi indicati non saranno usati"),
    (lambda t: t.replace('nucleo = "nucleo@', 'nucelo = "nucleo@'), "[indirizzi] «nucelo» non è un settore del piano "
                                                                   "né «nucleo» o «esterno» (forse «nucleo»?)"),
    (lambda t: t.replace("# SA = [\"collaboratore", 'XY = ["collaboratore'),
     "[delegati] «XY» non è un settore del piano né «nucleo» o «esterno»: gli indirizzi indicati non saranno "
     "riconosciuti come delegati"),
])
def test_an_address_under_a_code_the_plan_does_not_have_is_named(ws, edit, words):
    """A typo in a sector code of the settings would leave a Responsabile without the form, or refuse a delegate's
    return: every command that loads the plan says so (a warning: the rest of the settings still work)."""
    path = ws / SETTINGS_NAME
    text = path.read_text(encoding="utf-8")
    path.write_text(edit(text), encoding="utf-8")
    assert path.read_text(encoding="utf-8") != text
    r = invoke("stato", cwd=ws)
    assert words in r.output and str(path) in r.output, r.output
    path.write_text(text, encoding="utf-8")
    assert "non è un settore del piano" not in invoke("stato", cwd=ws).output


def test_the_ledger_is_append_only(tmp_path):
    with Ledger(tmp_path / "l.sqlite", create=True, identity={"comune": "Prova", "anno": "2025"}) as led:
        led.add_event("prova", a=1)
        led.add_message("out", "invio", day="2026-01-01", sector="SF", message_id="<x@y>")
        led.add_file("0" * 64, "ricevuto", tmp_path / "x.xlsx", 10, "SF")
        led.add_check("0" * 64, "x.xlsx", "x.xlsx", "SF", "accepted", [])
    db = sqlite3.connect(tmp_path / "l.sqlite")
    for sql in ("DELETE FROM events", "UPDATE messages SET sector = 'SA'", "DELETE FROM files", "DELETE FROM checks",
                "UPDATE workspace SET value = 'Altro'", "DELETE FROM workspace"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1


def _filled_sf(plan, folder: Path) -> Path:
    book = sector_workbook(plan, plan.sector("SF"))
    path = folder / book.filename
    path.write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=1)))
    return path


def test_check_takes_folders_and_records_results_in_the_workspace(ws, plan, tmp_path):
    inbox = tmp_path / "arrivati"
    (inbox / "sub").mkdir(parents=True)
    good = _filled_sf(plan, inbox / "sub")
    (inbox / "leggimi.txt").write_text("non è un modulo")
    r = invoke("check", str(inbox), cwd=ws)
    assert r.exit_code == 0, r.output
    assert f"{good}: accettato" in r.output and "leggimi.txt: ignorato" in r.output
    (inbox / "rotto.xlsx").write_bytes(b"PK\x03\x04 rotto")
    r = invoke("check", str(inbox), "--json", cwd=ws)
    assert r.exit_code == 1
    files = json.loads(r.output)["files"]
    assert sorted(Path(f["path"]).name for f in files) == ["PIAO-2025-SF-Finanziario.xlsx", "rotto.xlsx"]
    with Ledger(ws / "registro.sqlite") as led:
        assert [(c["name"], c["status"]) for c in led.checks()] == [
            ("PIAO-2025-SF-Finanziario.xlsx", "accepted"), ("rotto.xlsx", "rejected"),
            ("PIAO-2025-SF-Finanziario.xlsx", "accepted")]


def test_without_plan_a_workspace_uses_its_plan_and_names_the_plan_of_a_foreign_file(tmp_path, plan):
    other = tmp_path / "altro.yaml"
    other.write_text(bundled_plan_path().read_text(encoding="utf-8").replace("plan_id: truccazzano-2025",
                                                                             "plan_id: altro-comune-2025"))
    r = invoke("init", str(tmp_path / "ws"), "--plan", str(other))
    assert r.exit_code == 0, r.output
    book = _filled_sf(plan, tmp_path)  # a workbook of the bundled plan
    r = invoke("check", str(book), cwd=tmp_path / "ws")
    assert r.exit_code == 1
    assert "WB-IDENTITY" in r.output and "«truccazzano-2025», atteso «altro-comune-2025»" in r.output
    # same plan id, another version of the plan: the finding names the plan and both fingerprints
    changed = tmp_path / "ritoccato.yaml"
    changed.write_text(bundled_plan_path().read_text(encoding="utf-8").replace('title: "', 'title: "Rev. ', 1))
    r = invoke("check", str(book), "--plan", str(changed))
    assert r.exit_code == 1
    assert "un'altra versione del piano «truccazzano-2025»" in r.output and plan.fingerprint[:12] in r.output


def test_consolidate_json_is_stdout_and_json_file_a_file(ws, plan, tmp_path):
    book = _filled_sf(plan, ws / "ricevuti")
    r = invoke("consolidate", "--json", "--json-file", str(tmp_path / "r.json"), cwd=ws)
    assert r.exit_code == 1  # other sectors not received
    printed = json.loads(r.output)
    assert printed == json.loads((tmp_path / "r.json").read_text())
    assert {"sectors", "findings"} <= set(printed)
    assert (ws / "risultati" / "PIAO-2025-Riepilogo.xlsx").is_file()
    assert not list((ws / "moduli").rglob("*Riepilogo*"))  # never among the inputs or the forms
    assert book.exists()


def test_every_command_speaks_italian_and_lists_the_exit_codes():
    from test_docs import COMMANDS

    top = invoke("--help")
    assert "Codici di uscita" in top.output
    for code, text in EXIT_CODES.items():
        assert f"{code}  {text}" in top.output
    for name, _ in COMMANDS:
        out = invoke(*name.split(), "--help").output
        assert "Uso:" in out and "Mostra questo aiuto ed esce." in out and "Esempio:" in out, name
        assert "Show this message" not in out and "Usage:" not in out and "Example:" not in out, name
        for english in ("[OPTIONS]", " TEXT", "INTEGER", " PATH", "DIRECTORY", "default:", "env var"):
            assert english not in out, (name, english)


@pytest.mark.parametrize("args", [["check"], ["generate", "--jobs", "0"], ["consolidate", "--nessuna"],
                                  ["check", "/non/esiste.xlsx"], ["nessuno"]])
def test_usage_errors_exit_2_in_italian(args, tmp_path):
    r = invoke(*args, cwd=tmp_path)
    assert r.exit_code == 2, r.output
    assert "Errore:" in r.output and "Error:" not in r.output and "Usage:" not in r.output


def test_init_with_another_comune_s_plan_keeps_its_addresses(tmp_path):
    from piao_xls.forms.samples import synthetic_plan_yaml

    text = synthetic_plan_yaml(sectors=3, objectives=2, indicators=1)
    text = text.replace("responsabile: {name: Responsabile 2, title: Dott.}",
                        'responsabile: {name: "Anna \\"Nina\\" D\'Amico", email: anna.damico@comune.example.invalid}')
    plan_file = tmp_path / "sintetico.yaml"
    plan_file.write_text(text, encoding="utf-8")
    r = invoke("init", str(tmp_path / "ws"), "--plan", str(plan_file))
    assert r.exit_code == 0, r.output
    s = load_settings(tmp_path / "ws")
    assert s.comune == "Sintetico" and s.address("S002") == "anna.damico@comune.example.invalid"
    assert s.address("S001") == "s001.responsabile@example.invalid"
    r = invoke("send", "--dry-run", "--json", cwd=tmp_path / "ws")
    assert r.exit_code == 1  # the forms are not generated yet, and the placeholders are refused
    outcomes = {a["code"]: a["outcome"] for a in json.loads(r.output)["actions"]}
    assert outcomes.pop("S001") == "indirizzo di esempio"
    assert set(outcomes.values()) == {"indirizzo di esempio"}  # anna.damico@comune.example.invalid too
