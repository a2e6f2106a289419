"""The workspace: one folder per comune and year, found from any sub-folder (as git finds its repository).

The settings file ``piao-xls.toml`` is written by :func:`init_workspace` with Italian comments: the
finance office edits it. Passwords never go in it (an environment variable, or a prompt).
Inputs (received files, incoming mail) and outputs (forms, drafts, feedback, results) never share a folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
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

    def authorized(self, code: str, plan=None) -> set[str]:
        """Addresses allowed to return the workbook of ``code``: the Responsabile and the delegates."""
        out = {a.lower() for a in (self.address(code, plan), *self.delegates.get(code, ())) if a}
        return out


def find_workspace(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` holding a settings file, or None."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / SETTINGS_NAME).is_file():
            return d
    return None


def _where(path: Path, e: Exception) -> str:
    return f"{path}: {e}"


def load_settings(root: str | Path) -> Settings:
    root = Path(root).resolve()
    path = root / SETTINGS_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise WorkspaceError(f"{path}: impossibile leggere il file delle impostazioni ({e.strerror or e})") from e
    except tomllib.TOMLDecodeError as e:
        raise WorkspaceError(f"{path}: file delle impostazioni non valido ({e})") from e
    except UnicodeDecodeError as e:
        raise WorkspaceError(f"{path}: il file delle impostazioni non è in UTF-8") from e

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
            deadline = date.fromisoformat(deadline)
        except ValueError:
            deadline = None
    if not isinstance(deadline, date):
        raise WorkspaceError(f"{path}: [ente] scadenza deve essere una data AAAA-MM-GG")
    folders_raw = section("cartelle")
    folders = {k: (root / text(folders_raw, k, "cartelle", k)).resolve() for k in FOLDER_KEYS}
    _check_folders(path, root, folders)
    addresses = {str(k): v.strip() for k, v in section("indirizzi").items() if isinstance(v, str)}
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
        folders=folders)


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
        "# Termine per la restituzione dei moduli compilati (AAAA-MM-GG).",
        f"scadenza = {deadline.isoformat()}",
        "# Quanti giorni prima della scadenza iniziano i solleciti (piao-xls remind).",
        "solleciti_giorni_prima = 7",
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
        "# Se il piano indica l'email del Responsabile, è già riportata qui.",
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
    if (root / SETTINGS_NAME).exists():
        raise WorkspaceError(f"{root / SETTINGS_NAME}: l'area di lavoro esiste già")
    outer = find_workspace(root.parent) if root.parent != root else None
    if outer is not None:
        raise WorkspaceError(f"{root}: si trova già dentro l'area di lavoro {outer}")
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
