"""Clerk mistakes, each answered in Italian with the right exit code, and nothing written or sent.

Inside a workspace (with real addresses, the forms generated and SF already sent) and outside one.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailservers import free_port
from test_year import real_addresses, set_key

from piao_xls.cli import cli

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200 + "Workbook".encode("utf-16-le")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 50
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 50


def _zip(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(n, "<x/>")
    return buf.getvalue()


DOCX = _zip(["[Content_Types].xml", "word/document.xml"])
ZIP = _zip(["moduli/PIAO-2025-SF-Finanziario.xlsx"])
FILES = {"PIAO-2025.pdf": PDF, "piano.xls": XLS, "piano.docx": DOCX, "foto.jpg": JPEG, "scansione.png": PNG,
         "moduli.zip": ZIP}


def toml(edit):
    def apply(ws: Path) -> None:
        path = ws / "piao-xls.toml"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return apply


def address(code: str, value: str):
    return lambda ws: set_key(ws / "piao-xls.toml", "indirizzi", code, value)


def changed_address(ws: Path) -> None:
    set_key(ws / "piao-xls.toml", "indirizzi", "SF", '"pietro.pastore@comune.test"')


def smtp_at(host: str, port: int):
    def apply(ws: Path) -> None:
        for key, value in (("invio", '"smtp"'),):
            set_key(ws / "piao-xls.toml", "posta", key, value)
        for key, value in (("host", f'"{host}"'), ("porta", str(port)), ("sicurezza", '"nessuna"')):
            set_key(ws / "piao-xls.toml", "smtp", key, value)
    return apply


def imap_at(host: str, port: int):
    def apply(ws: Path) -> None:
        for key, value in (("host", f'"{host}"'), ("porta", str(port)), ("sicurezza", '"nessuna"')):
            set_key(ws / "piao-xls.toml", "imap", key, value)
    return apply


CLOSED = free_port()  # nothing listens there

# (id, setup of the workspace, arguments, exit code, Italian text expected)
IN_WORKSPACE = [
    ("placeholders", toml(lambda t: t.replace("@comune.test", "@example.invalid")), ["invia"], 1,
     "è un indirizzo di esempio"),
    ("placeholder-dry-run", toml(lambda t: t.replace("@comune.test", "@example.invalid")), ["invia", "--dry-run"], 1,
     "sostituirlo con quello vero"),
    ("placeholder-remind", toml(lambda t: t.replace("@comune.test", "@example.invalid")),
     ["sollecita", "--oggi", "2026-01-30"], 1, "indirizzo di esempio"),
    ("not-an-address", address("SA", '"dott. pastore"'), ["invia", "--settore", "SA"], 1,
     "«dott. pastore» non è un indirizzo di posta valido"),
    ("no-domain-dot", address("SA", '"pastore@comune"'), ["invia", "--settore", "SA"], 1,
     "non è un indirizzo di posta valido"),
    ("double-at", address("SA", '"pastore@@comune.it"'), ["invia", "--settore", "SA"], 1,
     "non è un indirizzo di posta valido"),
    ("unclosed-bracket", address("SA", '"Pietro <pastore@comune.it"'), ["invia", "--settore", "SA"], 1,
     "non è un indirizzo di posta valido"),
    ("one-bad-of-two", address("SA", '"pastore@comune.it; segreteria"'), ["invia", "--settore", "SA"], 1,
     "«segreteria» non è un indirizzo"),
    ("space-in-address", address("SA", '"pietro pastore@comune.it"'), ["invia", "--settore", "SA"], 1,
     "non è un indirizzo di posta valido"),
    ("empty-address", address("SA", '""'), ["invia", "--settore", "SA"], 1, "manca l'indirizzo di SA"),
    ("unknown-sector", None, ["invia", "--settore", "XX"], 2, "nessun settore con questo codice"),
    ("sector-lowercase", None, ["invia", "--settore", "sa"], 2, "forse «SA»"),
    ("english-alias-unknown-sector", None, ["send", "--settore", "FIN"], 2, "i codici sono: SA, SF, ST, AV"),
    ("address-changed-send", changed_address, ["invia", "--settore", "SF"], 1,
     "piao-xls invia --resend --settore SF"),
    ("address-changed-stato", changed_address, ["stato"], 1, "ma ora l'indirizzo è pietro.pastore@comune.test"),
    ("date-unquoted-impossible", toml(lambda t: t.replace("scadenza = 2026-01-31", "scadenza = 31/02/2026")),
     ["stato"], 2, "riga 11:"),
    ("date-words", toml(lambda t: t.replace("scadenza = 2026-01-31", 'scadenza = "fine gennaio"')), ["stato"], 2,
     "scriverla come 31/01/2026"),
    ("date-impossible-quoted", toml(lambda t: t.replace("scadenza = 2026-01-31", 'scadenza = "32/01/2026"')),
     ["stato"], 2, "non è una data esistente"),
    ("unclosed-quote", toml(lambda t: t.replace('comune = "Truccazzano"', 'comune = "Truccazzano')), ["stato"], 2,
     "virgoletta di chiusura"),
    ("year-in-words", toml(lambda t: t.replace("anno = 2025", "anno = duemila")), ["stato"], 2,
     "valore non valido"),
    ("key-twice", toml(lambda t: t.replace("anno = 2025", "anno = 2025\nanno = 2026")), ["stato"], 2,
     "scritta due volte"),
    ("send-mode", toml(lambda t: t.replace('invio = "bozze"', 'invio = "posta"')), ["invia"], 2,
     "invio deve essere"),
    ("smtp-refused", smtp_at("127.0.0.1", CLOSED), ["invia", "--settore", "SA"], 3, "connessione rifiutata"),
    ("smtp-unknown-host", smtp_at("posta.nessun-dominio.invalid", 587), ["invia", "--settore", "SA"], 3,
     "nome del server"),
    ("imap-refused", imap_at("127.0.0.1", CLOSED), ["raccogli"], 3, "connessione rifiutata"),
    ("imap-not-configured", None, ["raccogli"], 3, "server IMAP non configurato"),
    ("collect-missing-path", None, ["raccogli", "allegati-che-non-ci-sono"], 2, "non esiste"),
    ("collect-pdf", None, ["raccogli", "@PIAO-2025.pdf"], 2, "il file è un documento PDF"),
    ("collect-word", None, ["raccogli", "@piano.docx"], 2, "il file è un documento Word"),
    ("collect-image", None, ["raccogli", "@foto.jpg"], 2, "il file è un'immagine JPEG"),
    ("collect-zip", None, ["raccogli", "@moduli.zip"], 2, "estrarre il modulo compilato"),
    ("collect-xls", None, ["raccogli", "@piano.xls"], 2, "salvarlo come «Cartella di lavoro di Excel (.xlsx)»"),
    ("check-pdf", None, ["controlla", "@PIAO-2025.pdf"], 1, "il file è un documento PDF"),
    ("check-image", None, ["controlla", "@scansione.png"], 1, "il file è un'immagine PNG"),
    ("remind-date", None, ["sollecita", "--oggi", "ieri"], 2, "non è una data"),
    ("init-inside", None, ["crea", "ricevuti/altro"], 2, "si trova già dentro l'area di lavoro"),
]

OUTSIDE = [  # run in a folder that holds the workspace PIAO-2025/ and the files above
    ("stato-beside", ["stato"], 2, "qui vicino c'è: PIAO-2025"),
    ("send-beside", ["invia"], 2, "«cd PIAO-2025»"),
    ("collect-beside", ["raccogli", "."], 2, "piao-xls -C PIAO-2025 COMANDO"),
    ("init-around", ["crea", "."], 2, "contiene già l'area di lavoro"),
    ("init-existing", ["crea", "PIAO-2025"], 2, "l'area di lavoro esiste già"),
    ("init-pdf-plan", ["crea", "PIAO-2026", "--plan", "PIAO-2025.pdf"], 2, "documento PDF"),
    ("init-date", ["crea", "PIAO-2026", "--scadenza", "30/02/2026"], 2, "non è una data esistente"),
    ("plan-pdf", ["piano", "verifica", "PIAO-2025.pdf"], 1, "piao-xls piano modello -o piano.xlsx"),
    ("plan-xls", ["piano", "verifica", "piano.xls"], 1, "salvarlo come «Cartella di lavoro di Excel (.xlsx)»"),
    ("plan-word", ["plan", "check", "piano.docx"], 1, "il file è un documento Word, non un piano"),
    ("plan-image", ["piano", "verifica", "foto.jpg"], 1, "il file è un'immagine JPEG"),
    ("plan-zip", ["piano", "verifica", "moduli.zip"], 1, "un archivio compresso (.zip), non un piano"),
    ("plan-import-pdf", ["piano", "importa", "PIAO-2025.pdf"], 1, "il file è un documento PDF"),
    ("generate-pdf", ["genera", "PIAO-2025.pdf"], 2, "il file è un documento PDF"),
    ("relazione-nothing", ["relazione", "--no-pdf"], 2, "oppure --results FILE.json"),
    ("relazione-results-pdf", ["relazione", "--results", "PIAO-2025.pdf", "--no-pdf"], 2,
     "il file è un documento PDF, non il JSON dei risultati"),
    ("relazione-decisions-word", ["relazione", "PIAO-2025", "--decisions", "piano.docx", "--no-pdf"], 2,
     "il file è un documento Word, non le decisioni del Nucleo"),
    ("consolidate-decisions-image", ["consolida", "PIAO-2025", "--decisions", "foto.jpg"], 2,
     "il file è un'immagine JPEG"),
]


def _snapshot(root: Path) -> dict:
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
             if p.is_file() and p.name != "registro.sqlite"}
    db = root / "PIAO-2025" / "registro.sqlite"
    if db.exists():
        con = sqlite3.connect(db)
        files["ledger"] = [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("files", "messages", "checks")]
        con.close()
    return files


@pytest.fixture
def place(tmp_path):
    runner = CliRunner()
    ws = tmp_path / "PIAO-2025"
    assert runner.invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"]).exit_code == 0
    real_addresses(ws / "piao-xls.toml")
    assert runner.invoke(cli, ["-C", str(ws), "genera"]).exit_code == 0
    assert runner.invoke(cli, ["-C", str(ws), "invia", "--settore", "SF"]).exit_code == 0
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def _args(args: list[str], folder: Path) -> list[str]:
    return [str(folder / a[1:]) if a.startswith("@") else a for a in args]


def _run(args: list[str], cwd: Path):
    import os

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(old)


@pytest.mark.parametrize(("setup", "args", "code", "text"), [c[1:] for c in IN_WORKSPACE],
                         ids=[c[0] for c in IN_WORKSPACE])
def test_a_mistake_in_the_workspace(place, setup, args, code, text):
    ws = place / "PIAO-2025"
    if setup:
        setup(ws)
    before = _snapshot(place)
    r = _run(_args(args, place), ws)
    out = r.output
    assert r.exit_code == code, (out, r.exception)
    assert text in out, out
    assert "Traceback" not in out and "Error:" not in out and "Errno" not in out
    assert not re.search(r"\b(Invalid|Expected|Illegal|Connection|refused|No such file)\b", out), out
    if code == 2 or args[0] in ("invia", "send"):
        assert _snapshot(place) == before  # nothing written, nothing sent, nothing in the ledger
    else:  # stato and the checks record an event or a check result, never a message or a file
        after = _snapshot(place)
        assert {k: v for k, v in after.items() if k != "ledger"} == {k: v for k, v in before.items() if k != "ledger"}
        assert after["ledger"][:2] == before["ledger"][:2]


@pytest.mark.parametrize(("args", "code", "text"), [c[1:] for c in OUTSIDE], ids=[c[0] for c in OUTSIDE])
def test_a_mistake_outside_the_workspace(place, args, code, text):
    before = _snapshot(place)
    r = _run(args, place)
    assert r.exit_code == code, (r.output, r.exception)
    assert text in r.output, r.output
    assert "Traceback" not in r.output and "Error:" not in r.output and "directive" not in r.output
    assert _snapshot(place) == before


def test_the_table_has_at_least_thirty_mistakes():
    assert len(IN_WORKSPACE) + len(OUTSIDE) >= 30


def test_settings_warn_about_unknown_sections_and_keys_naming_the_closest(place):
    ws = place / "PIAO-2025"
    path = ws / "piao-xls.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("[indirizzi]", "[Indirizzi]")
                    .replace('host = ""\nporta = 587', 'hots = ""\nporta = 587'), encoding="utf-8")
    r = CliRunner().invoke(cli, ["-C", str(ws), "invia", "--dry-run", "--json"])
    assert "sezione [Indirizzi] sconosciuta, ignorata: forse [indirizzi]?" in r.output
    assert "[smtp] hots: impostazione sconosciuta, ignorata: forse host?" in r.output


def test_dates_as_the_clerk_writes_them_and_several_addresses(place):
    ws = place / "PIAO-2025"
    path = ws / "piao-xls.toml"
    text = path.read_text(encoding="utf-8").replace("scadenza = 2026-01-31", "scadenza = 28/02/2026")
    path.write_text(text, encoding="utf-8")
    set_key(path, "indirizzi", "SA", '"pastore@comune.test; segreteria.sa@comune.test"')
    set_key(path, "indirizzi", "ST", '["tecnico@comune.test", "Ufficio Tecnico <ut@comune.test>"]')
    r = CliRunner().invoke(cli, ["-C", str(ws), "invia", "--settore", "SA", "--settore", "ST"])
    assert r.exit_code == 0, r.output
    from email import message_from_bytes, policy

    tos = sorted(str(message_from_bytes(p.read_bytes(), policy=policy.default)["To"])
                 for p in (ws / "bozze").glob("*-invio-S[AT]-*.eml"))
    assert tos == ["Ufficio Tecnico <ut@comune.test>, tecnico@comune.test"[:0] + "pastore@comune.test, "
                   "segreteria.sa@comune.test", "tecnico@comune.test, Ufficio Tecnico <ut@comune.test>"]
    state = json.loads(CliRunner().invoke(cli, ["-C", str(ws), "stato", "--json"]).output)
    assert state["deadline"] == "2026-02-28"


def test_genera_outside_a_workspace_says_where_it_writes(tmp_path):
    r = _run(["genera"], tmp_path)
    assert r.exit_code == 0, r.output
    assert f"fuori da un'area di lavoro: i moduli vanno in {tmp_path.resolve() / 'output' / '2025'}" in r.output
    assert (tmp_path / "output" / "2025").is_dir()
