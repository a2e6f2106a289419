"""The workspace: one folder per comune and year, found from any sub-folder (as git finds its repository).

The settings file ``piao-xls.toml`` is written by :func:`init_workspace` with Italian comments: the
finance office edits it. Passwords never go in it (an environment variable, or a prompt).
Inputs (received files, incoming mail) and outputs (forms, drafts, feedback, results) never share a folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]

SETTINGS_NAME = "piao-xls.toml"
LEDGER_NAME = "registro.sqlite"
FOLDER_KEYS = ("moduli", "bozze", "ricevuti", "rifiutati", "posta", "riscontri", "risultati")
INPUT_FOLDERS = ("ricevuti", "rifiutati", "posta")  # what arrives from outside
PLACEHOLDER_DOMAIN = "example.invalid"
# one address: local part @ a domain of at least two labels (no spaces, no quotes, no IP literal)
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                      r"[A-Za-z]{2,63}")
# domains reserved for examples (RFC 2606): never a real recipient
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
_EXAMPLE_TLDS = (".invalid", ".example", ".localhost")


def split_addresses(text: str) -> list[str]:
    """The addresses of one party: "a@x; b@x", "a@x, b@x" or "Nome <a@x>" (a TOML list is joined first).

    Returns each entry as written (a display name kept), in order, without blanks; separators inside
    quotes or angle brackets do not split, and a comma after a text without "@" belongs to a display name
    written without quotes ("Rossi, Mario <mario.rossi@comune.it>")."""
    out: list[str] = []
    cur: list[str] = []
    quote = angle = False
    for ch in text:
        if ch == '"':
            quote = not quote
        elif ch == "<" and not quote:
            angle = True
        elif ch == ">" and not quote:
            angle = False
        if ch in ";,\n" and not quote and not angle:
            piece = "".join(cur)
            if ch == "," and "@" not in piece and piece.strip():
                cur.append(ch)  # "Rossi, Mario <…>": the comma is the name's
                continue
            out.append(piece.strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [x for x in out if x]


_SPECIALS = set('()<>@,;:\\".[]')


def as_mailbox(entry: str) -> str:
    """One entry of :func:`split_addresses` as a mail header holds it: a display name with a comma or another
    special character is quoted ("Rossi, Mario <m@x>" → '"Rossi, Mario" <m@x>'), so that no mail client reads
    it as two addresses; an entry without a display name is left as it is."""
    text = entry.strip()
    if not text.endswith(">") or "<" not in text:
        return text
    name, _, addr = text[:-1].rpartition("<")
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not name:
        return f"<{addr.strip()}>"
    if _SPECIALS & set(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr.strip()}>"


def address_problem(entry: str) -> str:
    """Why one address cannot be used ("" when it can), in Italian."""
    addr = entry.strip()
    if "<" in addr:
        addr = addr.rpartition("<")[2].partition(">")[0].strip() if addr.endswith(">") else ""
    if not addr or not _ADDRESS.fullmatch(addr) or ".." in addr:
        return f"«{entry}» non è un indirizzo di posta valido (forma: nome.cognome@comune.it)"
    domain = addr.rpartition("@")[2].lower()
    if domain in _EXAMPLE_DOMAINS or domain.endswith(_EXAMPLE_TLDS):
        return (f"«{addr}» è un indirizzo di esempio (scritto da «piao-xls crea»): sostituirlo con quello vero in "
                f"{SETTINGS_NAME}, sezione [indirizzi]")
    return ""


class WorkspaceError(Exception):
    """A workspace problem, with an Italian message naming the file (and line when known)."""


@dataclass(frozen=True)
class Server:
    host: str = ""
    port: int = 0
    security: str = "starttls"  # starttls, tls, nessuna
    user: str = ""
    password_env: str = ""
    ca: str = ""  # a CA file for servers with an internal certificate
    folder: str = "INBOX"


@dataclass(frozen=True)
class Settings:
    root: Path
    comune: str
    year: int
    plan: Path
    deadline: date
    remind_days_before: int = 7
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    addresses: dict[str, str] = field(default_factory=dict)  # sector code, "nucleo", "esterno" -> address
    delegates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    send_mode: str = "bozze"  # bozze (.eml drafts) or smtp
    sender: str = ""
    smtp: Server = field(default_factory=Server)
    imap: Server = field(default_factory=Server)
    folders: dict[str, Path] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # Italian: unknown sections and keys, with the closest known one
    #: objectives assigned or changed after this day are flagged to the Nucleo (None: 30 September of the year)
    revision_cutoff: date | None = None

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_NAME

    @property
    def ledger_path(self) -> Path:
        return self.root / LEDGER_NAME

    def folder(self, key: str) -> Path:
        return self.folders[key]

    def address(self, code: str, plan=None) -> str:
        """The address of a sector's Responsabile (settings first, then the plan) or of a source."""
        if self.addresses.get(code):
            return self.addresses[code]
        if plan is not None and code not in ("nucleo", "esterno"):
            try:
                return plan.sector(code).responsabile.email
            except KeyError:
                return ""
        return ""

    def recipients(self, code: str, plan=None) -> list[str]:
        """The addresses of ``code`` (several are written "a@x; b@x" or as a TOML list), as mail headers hold them."""
        return [as_mailbox(a) for a in split_addresses(self.address(code, plan))]

    def authorized(self, code: str, plan=None) -> set[str]:
        """Addresses allowed to return the workbook of ``code``: the Responsabile(s) and the delegates."""
        from email.utils import parseaddr

        out = {parseaddr(a)[1].lower() or a.lower() for a in (*self.recipients(code, plan),
                                                                *self.delegates.get(code, ())) if a}
        return out


    def party_warnings(self, plan) -> list[str]:
        """Italian warnings for the codes of [indirizzi] and [delegati] that are not a party of ``plan`` (a sector
        code, ``nucleo`` or ``esterno``): their addresses would never be used, and a delegate would be refused."""
        import difflib

        known = [s.code for s in plan.sectors] + ["nucleo", "esterno"]
        out = []
        for section, codes in (("indirizzi", self.addresses), ("delegati", self.delegates)):
            for code in codes:
                if code in known:
                    continue
                near = [k for k in known if k.lower() == code.strip().lower()] or difflib.get_close_matches(
                    code, known, n=1, cutoff=0.5)
                hint = f" (forse «{near[0]}»?)" if near else ""
                use = ("gli indirizzi indicati non saranno usati" if section == "indirizzi"
                       else "gli indirizzi indicati non saranno riconosciuti come delegati")
                out.append(f"[{section}] «{code}» non è un settore del piano né «nucleo» o «esterno»{hint}: {use}")
        return out


def find_workspace(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` holding a settings file, or None."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / SETTINGS_NAME).is_file():
            return d
    return None


#: every section and key the settings file knows ([indirizzi] and [delegati] take any party code)
KNOWN: dict[str, tuple[str, ...] | None] = {
    "ente": ("comune", "anno", "piano", "scadenza", "solleciti_giorni_prima", "termine_revisioni"),
    "contatto": ("nome", "email", "telefono"),
    "indirizzi": None,
    "delegati": None,
    "posta": ("invio", "mittente"),
    "smtp": ("host", "porta", "sicurezza", "utente", "password_env", "ca"),
    "imap": ("host", "porta", "sicurezza", "utente", "password_env", "ca", "cartella"),
    "cartelle": FOLDER_KEYS,
}
DAY_FORMS = "31/01/2026 (giorno/mese/anno) oppure 2026-01-31"
_TOML_IT = (  # tomllib's messages -> what the clerk should check
    ("Invalid value", "valore non valido: un testo va tra virgolette (\"...\"), un numero senza virgolette"),
    ("Illegal character", "carattere non ammesso: forse manca la virgoletta di chiusura di un testo"),
    ("Unterminated string", "testo senza la virgoletta di chiusura"),
    ("Expected newline or end of document after a statement",
     "dopo il valore la riga deve finire: un testo con spazi va tra virgolette, un commento inizia con #"),
    ("Cannot overwrite a value", "questa impostazione è scritta due volte"),
    ("Cannot declare", "questa sezione è scritta due volte"),
    ("Expected '=' after a key", "manca «=» dopo il nome dell'impostazione"),
    ("Invalid initial character for a key part", "nome dell'impostazione non valido (lettere, cifre, _ e -)"),
    ("Invalid statement", "riga non valida: si scrive «nome = valore» oppure «[sezione]»"),
    ("Unclosed array", "elenco senza la parentesi quadra di chiusura «]»"),
    ("Unclosed table", "sezione senza la parentesi quadra di chiusura «]»"),
    ("Expected ']' at the end of a table declaration", "sezione senza la parentesi quadra di chiusura «]»"),
)
_UNQUOTED_DAY = re.compile(r"^(\s*[A-Za-z0-9_\-\"]+\s*=\s*)(\d{1,2})[/.](\d{1,2})[/.](\d{4})(\s*(?:#.*)?)$")


def parse_day(text: str) -> date:
    """A date as the clerk writes it: 31/01/2026, 31-01-2026, 31.01.2026 or 2026-01-31 (ValueError in Italian)."""
    t = text.strip()
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", t)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return date.fromisoformat(t)
    except ValueError:
        raise ValueError(f"«{text}» non è una data esistente: scriverla come {DAY_FORMS}") from None
    raise ValueError(f"«{text}» non è una data: scriverla come {DAY_FORMS}")


def _toml_error(path: Path, text: str, e: Exception) -> str:
    """tomllib's error as Italian, with the line's text and a caret under the column."""
    msg = str(e)
    where = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    reason = next((it for en, it in _TOML_IT if msg.startswith(en)), "sintassi non valida")
    if not where:
        return f"{path}: file delle impostazioni non valido: {reason}"
    line, col = int(where.group(1)), int(where.group(2))
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    if line > len(lines) and lines:  # at the end of the document: point after the last line
        line, shown, col = len(lines), lines[-1], len(lines[-1]) + 1
    col = min(max(col, 1), len(shown) + 1)
    return (f"{path}, riga {line}: {reason}\n    {shown}\n    {' ' * (col - 1)}^")


def _unknown(raw: dict) -> list[str]:
    """Warnings for sections and keys the settings file does not know, naming the closest known one."""
    import difflib

    def near(name: str, known) -> str:
        lower = {k.lower(): k for k in known}
        got = lower.get(name.lower()) or next(iter(difflib.get_close_matches(name.lower(), list(lower), 1, 0.6)), "")
        return lower.get(got, got)

    out = []
    for sec, body in raw.items():
        if sec not in KNOWN:
            guess = near(sec, KNOWN)
            out.append(f"sezione [{sec}] sconosciuta, ignorata" + (
                f": forse [{guess}]? (i nomi delle sezioni si scrivono in minuscolo)" if guess else ""))
            continue
        keys = KNOWN[sec]
        if keys is None or not isinstance(body, dict):
            continue
        for key in body:
            if key not in keys:
                guess = near(key, keys)
                out.append(f"[{sec}] {key}: impostazione sconosciuta, ignorata" + (f": forse {guess}?" if guess else
                                                                                     f" (previste: {', '.join(keys)})"))
    return out


def _dates_as_written(text: str) -> str:
    """``scadenza = 31/01/2026`` (not TOML) read as the date it means: the line becomes ``2026-01-31``."""
    out = []
    for line in text.split("\n"):
        m = _UNQUOTED_DAY.match(line)
        if m:
            try:
                day = date(int(m.group(4)), int(m.group(3)), int(m.group(2)))
                line = f"{m.group(1)}{day.isoformat()}{m.group(5)}"
            except ValueError:
                pass  # not a real date: left to the parser's message
        out.append(line)
    return "\n".join(out)


def no_workspace_message(here: Path) -> str:
    """Outside a workspace: which workspaces are below or beside ``here``, and how to use one."""
    here = Path(here).resolve()
    near = workspaces_near(here)
    if not near:
        return ("nessuna area di lavoro trovata in questa cartella né in quelle superiori: crearla con "
                "«piao-xls crea PIAO-2025» (poi «cd PIAO-2025»), oppure indicarne una con «piao-xls -C CARTELLA»")
    shown = []
    for w in near[:5]:
        try:
            shown.append(str(w.relative_to(here)))
        except ValueError:
            shown.append(str(w))
    first = shown[0]
    return (f"questa cartella non è dentro un'area di lavoro, ma qui vicino c'è: {', '.join(shown)}; entrarvi con "
            f"«cd {first}» oppure usare «piao-xls -C {first} COMANDO»")


def workspaces_near(here: Path, depth: int = 2) -> list[Path]:
    """Workspaces in ``here`` and its sub-folders (``depth`` levels) and beside it (its parent's sub-folders)."""
    found: list[Path] = []

    def walk(d: Path, level: int) -> None:
        try:
            children = sorted(c for c in d.iterdir() if c.is_dir() and not c.name.startswith("."))
        except OSError:
            return
        for c in children[:500]:
            if (c / SETTINGS_NAME).is_file():
                found.append(c)
            elif level > 1:
                walk(c, level - 1)

    walk(here, depth)
    if here.parent != here:
        walk(here.parent, 1)
    return list(dict.fromkeys(found))


def check_new_workspace(target: str | Path) -> None:
    """Refuse (WorkspaceError) a new workspace inside another, around another, or where one already is."""
    root = Path(target).resolve()
    if (root / SETTINGS_NAME).exists():
        raise WorkspaceError(f"{root / SETTINGS_NAME}: l'area di lavoro esiste già (per usarla: cd {root})")
    outer = find_workspace(root.parent) if root.parent != root else None
    if outer is not None:
        raise WorkspaceError(f"{root}: si trova già dentro l'area di lavoro {outer}: un'area di lavoro non può "
                             "contenerne un'altra (crearla altrove, fuori da quella cartella)")
    inner = workspaces_near(root, depth=3) if root.is_dir() else []
    inner = [w for w in inner if root in w.parents]
    if inner:
        raise WorkspaceError(f"{root}: contiene già l'area di lavoro {inner[0]}: un'area di lavoro non può "
                             f"contenerne un'altra; per usarla: cd {inner[0]}")


def load_settings(root: str | Path) -> Settings:
    root = Path(root).resolve()
    path = root / SETTINGS_NAME
    from ..sheetio.oserrors import os_reason

    try:
        source = path.read_text(encoding="utf-8").lstrip("\ufeff")  # Notepad may write a BOM
    except OSError as e:
        raise WorkspaceError(f"{path}: impossibile leggere il file delle impostazioni ({os_reason(e)})") from e
    except UnicodeDecodeError as e:
        raise WorkspaceError(f"{path}: il file delle impostazioni non è in UTF-8 (salvarlo come «UTF-8» dal "
                             "Blocco note)") from e
    try:
        raw = tomllib.loads(_dates_as_written(source))
    except tomllib.TOMLDecodeError as e:
        raise WorkspaceError(_toml_error(path, source, e)) from e

    def section(name: str) -> dict:
        v = raw.get(name, {})
        if not isinstance(v, dict):
            raise WorkspaceError(f"{path}: la sezione [{name}] deve essere una tabella")
        return v

    def text(sec: dict, key: str, where: str, default: str = "") -> str:
        v = sec.get(key, default)
        if not isinstance(v, str):
            raise WorkspaceError(f"{path}: [{where}] {key} deve essere un testo tra virgolette")
        return v.strip()

    def integer(sec: dict, key: str, where: str, default: int) -> int:
        v = sec.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool):
            raise WorkspaceError(f"{path}: [{where}] {key} deve essere un numero intero")
        return v

    ente = section("ente")
    for key in ("comune", "anno", "piano", "scadenza"):
        if key not in ente:
            raise WorkspaceError(f"{path}: manca [ente] {key}")
    deadline = ente["scadenza"]
    if isinstance(deadline, str):
        try:
            deadline = parse_day(deadline)
        except ValueError as e:
            raise WorkspaceError(f"{path}: [ente] scadenza: {e}") from e
    if not isinstance(deadline, date) or isinstance(deadline, datetime):
        raise WorkspaceError(f"{path}: [ente] scadenza deve essere una data: scriverla come {DAY_FORMS}")
    cutoff = ente.get("termine_revisioni")
    if isinstance(cutoff, str):
        try:
            cutoff = parse_day(cutoff)
        except ValueError as e:
            raise WorkspaceError(f"{path}: [ente] termine_revisioni: {e}") from e
    if cutoff is not None and (not isinstance(cutoff, date) or isinstance(cutoff, datetime)):
        raise WorkspaceError(f"{path}: [ente] termine_revisioni deve essere una data: scriverla come {DAY_FORMS}")
    folders_raw = section("cartelle")
    folders = {k: (root / text(folders_raw, k, "cartelle", k)).resolve() for k in FOLDER_KEYS}
    _check_folders(path, root, folders)
    addresses = {}
    for k, v in section("indirizzi").items():
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            v = "; ".join(x.strip() for x in v if x.strip())
        if not isinstance(v, str):
            raise WorkspaceError(f"{path}: [indirizzi] {k} deve essere un indirizzo tra virgolette, o più indirizzi "
                                 "come \"a@comune.it; b@comune.it\" oppure [\"a@comune.it\", \"b@comune.it\"]")
        addresses[str(k)] = v.strip()
    delegates = {}
    for k, v in section("delegati").items():
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise WorkspaceError(f"{path}: [delegati] {k} deve essere un elenco di indirizzi")
        delegates[str(k)] = tuple(x.strip() for x in v if x.strip())

    def server(name: str, port: int, security: str, env: str) -> Server:
        s = section(name)
        sec = text(s, "sicurezza", name, security).lower()
        if sec not in ("starttls", "tls", "nessuna"):
            raise WorkspaceError(f"{path}: [{name}] sicurezza deve essere \"starttls\", \"tls\" o \"nessuna\"")
        return Server(text(s, "host", name), integer(s, "porta", name, port), sec, text(s, "utente", name),
                      text(s, "password_env", name, env), text(s, "ca", name), text(s, "cartella", name, "INBOX"))

    posta = section("posta")
    mode = text(posta, "invio", "posta", "bozze").lower()
    if mode not in ("bozze", "smtp"):
        raise WorkspaceError(f"{path}: [posta] invio deve essere \"bozze\" oppure \"smtp\"")
    contatto = section("contatto")
    ca = {}
    for name in ("smtp", "imap"):
        c = section(name).get("ca", "")
        ca[name] = str((root / c).resolve()) if isinstance(c, str) and c else ""
    smtp = server("smtp", 587, "starttls", "PIAO_XLS_SMTP_PASSWORD")
    imap = server("imap", 993, "tls", "PIAO_XLS_IMAP_PASSWORD")
    return Settings(
        root=root, comune=text(ente, "comune", "ente"), year=integer(ente, "anno", "ente", 0),
        plan=(root / text(ente, "piano", "ente")).resolve(), deadline=deadline,
        remind_days_before=integer(ente, "solleciti_giorni_prima", "ente", 7),
        contact_name=text(contatto, "nome", "contatto"), contact_email=text(contatto, "email", "contatto"),
        contact_phone=text(contatto, "telefono", "contatto"), addresses=addresses, delegates=delegates,
        send_mode=mode, sender=text(posta, "mittente", "posta"),
        smtp=Server(**{**smtp.__dict__, "ca": ca["smtp"]}), imap=Server(**{**imap.__dict__, "ca": ca["imap"]}),
        folders=folders, warnings=tuple(_unknown(raw)), revision_cutoff=cutoff)


def _check_folders(path: Path, root: Path, folders: dict[str, Path]) -> None:
    """Every folder inside the workspace; no two the same or one inside another (inputs never mix with outputs)."""
    for k, f in folders.items():
        if f == root or root not in f.parents:
            raise WorkspaceError(f"{path}: [cartelle] {k} deve essere una sottocartella dell'area di lavoro")
    items = sorted(folders.items())
    for i, (k1, f1) in enumerate(items):
        for k2, f2 in items[i + 1:]:
            if f1 == f2 or f1 in f2.parents or f2 in f1.parents:
                raise WorkspaceError(f"{path}: [cartelle] {k1} e {k2} non possono coincidere né stare l'una "
                                     "dentro l'altra (i file ricevuti non si mescolano con quelli prodotti)")


def _q(s: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(s, ensure_ascii=False)


def _key(code: str) -> str:
    return code if re.fullmatch(r"[A-Za-z0-9_-]+", code) else _q(code)


def _comment(text: str) -> str:
    return " ".join(text.split())


def placeholder(code: str) -> str:
    return f"{code.lower()}.responsabile@{PLACEHOLDER_DOMAIN}" if code not in ("nucleo", "esterno") else \
        f"{code}@{PLACEHOLDER_DOMAIN}"


def settings_text(plan, plan_rel: str, deadline: date) -> str:
    """The settings file for a new workspace, commented in Italian."""
    lines = [
        "# Impostazioni dell'area di lavoro piao-xls: un comune, un anno.",
        "# Le password non vanno mai scritte qui: si leggono dalla variabile d'ambiente indicata",
        "# (password_env) oppure vengono chieste a video.",
        "",
        "[ente]",
        f"comune = {_q(plan.comune)}",
        f"anno = {plan.year}",
        "# Il piano (file YAML o cartella di lavoro del piano), relativo a questa cartella.",
        f"piano = {_q(plan_rel)}",
        "# Termine per la restituzione dei moduli compilati (2026-01-31 oppure 31/01/2026).",
        f"scadenza = {deadline.isoformat()}",
        "# Quanti giorni prima della scadenza iniziano i solleciti (piao-xls sollecita).",
        "solleciti_giorni_prima = 7",
        "# Obiettivi assegnati o modificati da una revisione dopo questa data sono segnalati al Nucleo.",
        f"termine_revisioni = {date(plan.year, 9, 30).isoformat()}",
        "",
        "[contatto]",
        "# A chi si rivolgono i Responsabili per domande: compare in ogni messaggio.",
        'nome = "Servizio Finanziario"',
        f"email = {_q('ragioneria@' + PLACEHOLDER_DOMAIN)}",
        'telefono = ""',
        "",
        "[indirizzi]",
        "# Indirizzo di ciascun Responsabile (per codice del settore), del Nucleo di Valutazione e delle",
        "# fonti esterne. Gli indirizzi @example.invalid sono esempi: sostituirli con quelli veri.",
        "# Se il piano indica l'email del Responsabile, è già riportata qui. Più indirizzi per un settore:",
        "# SF = \"primo@comune.it; secondo@comune.it\"  oppure  SF = [\"primo@comune.it\", \"secondo@comune.it\"]",
    ]
    for s in plan.sectors:
        addr = s.responsabile.email or placeholder(s.code)
        lines.append(f"{_key(s.code)} = {_q(addr)}  # {_comment(s.responsabile.display or s.name)}")
    lines += [f"nucleo = {_q(placeholder('nucleo'))}  # Nucleo di Valutazione",
              f"esterno = {_q(placeholder('esterno'))}  # fonti esterne (certificazioni)",
              "",
              "[delegati]",
              "# Altri indirizzi autorizzati a restituire il modulo di un settore, per esempio:",
              f"# {_key(plan.sectors[0].code) if plan.sectors else 'SF'} = [\"collaboratore@comune.example.invalid\"]",
              "",
              "[posta]",
              "# \"bozze\": un messaggio .eml per destinatario nella cartella delle bozze, da aprire e inviare",
              "# con Outlook o Thunderbird; \"smtp\": invio diretto con il server indicato sotto.",
              'invio = "bozze"',
              f"mittente = {_q('ragioneria@' + PLACEHOLDER_DOMAIN)}",
              "",
              "[smtp]",
              "# Server della posta in uscita. sicurezza: \"starttls\" (porta 587), \"tls\" (porta 465) o \"nessuna\".",
              'host = ""',
              "porta = 587",
              'sicurezza = "starttls"',
              'utente = ""',
              'password_env = "PIAO_XLS_SMTP_PASSWORD"',
              "# Certificato dell'autorità (facoltativo), per un server con certificato interno.",
              'ca = ""',
              "",
              "[imap]",
              "# Casella in cui arrivano i moduli compilati: viene solo letta, mai modificata.",
              'host = ""',
              "porta = 993",
              'sicurezza = "tls"',
              'utente = ""',
              'cartella = "INBOX"',
              'password_env = "PIAO_XLS_IMAP_PASSWORD"',
              'ca = ""',
              "",
              "[cartelle]",
              "# Sottocartelle dell'area di lavoro. I file ricevuti e quelli prodotti stanno sempre in cartelle",
              "# diverse.",
              '# moduli: i moduli generati; bozze: i messaggi da inviare; ricevuti: gli allegati ricevuti che',
              '# contano; rifiutati: gli allegati messi da parte (mittente non autorizzato o non determinabile);',
              '# posta: i messaggi ricevuti, così come sono arrivati; riscontri: le note di riscontro;',
              '# risultati: il riepilogo di fine anno.',
              ]
    lines += [f"{k} = {_q(k)}" for k in FOLDER_KEYS]
    return "\n".join(lines) + "\n"


def init_workspace(target: str | Path, plan_path: Path, plan, deadline: date | None = None) -> Settings:
    """Create a workspace in ``target``: settings file, a copy of the plan, the sub-folders."""
    from ..sheetio.atomic import write_bytes_atomic, write_text_atomic

    root = Path(target).resolve()
    check_new_workspace(root)
    root.mkdir(parents=True, exist_ok=True)
    rel = f"piano/{plan_path.name}"
    write_bytes_atomic(root / rel, Path(plan_path).read_bytes())
    deadline = deadline or date(plan.year + 1, 1, 31)
    write_text_atomic(root / SETTINGS_NAME, settings_text(plan, rel, deadline))
    for k in FOLDER_KEYS:
        (root / k).mkdir(exist_ok=True)
    settings = load_settings(root)
    from .ledger import Ledger

    Ledger(settings.ledger_path, create=True, identity=ledger_identity(settings)).close()
    return settings


def ledger_identity(settings: Settings) -> dict[str, str]:
    """What identifies the workspace in its ledger: the comune and the year."""
    return {"comune": settings.comune, "anno": str(settings.year)}


def days_to(settings: Settings, today: date) -> int:
    """Days from ``today`` to the return deadline (negative once it has passed)."""
    return (settings.deadline - today).days
