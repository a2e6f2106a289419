"""The ``piao-xls`` command line: a thin click layer over the library, in Italian.

It parses options, calls the library and turns library exceptions into clear messages. Everything
it prints for a person is Italian (click's own messages too, through :data:`_CLICK_IT`); JSON keys
stay English. Exit codes are the same for the same situation in every command (:data:`EXIT_CODES`).
``--json`` always means "print the result as JSON on stdout"; ``--json-file FILE`` writes it to a file.
Heavy modules (openpyxl, pandas, xlsxwriter) are imported inside the commands that need them,
so that ``piao-xls --help`` and ``piano verifica`` start fast.
"""

from __future__ import annotations

import gc
import gettext
import json
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from .core import __version__
from .core.gcpause import end_without_freeing, ends_without_freeing

OK, FINDINGS, USAGE, MAIL = 0, 1, 2, 3
EXIT_CODES = {
    OK: "tutto in ordine",
    FINDINGS: "esito negativo: file rifiutati o da correggere, errori trovati da piano verifica o piano importa, "
              "settori non valutati, indirizzi o moduli mancanti",
    USAGE: "errore d'uso: opzioni o argomenti errati, file mancanti, piano con errori, impostazioni non valide",
    MAIL: "errore di posta: server SMTP o IMAP non raggiungibile o che rifiuta l'accesso",
}

# --- click's own messages, in Italian: a gettext catalogue ------------------------------------------------

#: the catalogue of click's messages: piao_xls/locale/it/LC_MESSAGES/click.po, compiled to click.mo
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: the modules of click that show a message (each binds gettext's ``gettext`` as ``_``, and ``ngettext``, on import)
CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
                 "click.termui", "click.types", "click.utils", "click.shell_completion", "click._termui_impl")


def click_catalogue() -> gettext.GNUTranslations:
    """The Italian catalogue of click's messages (stdlib gettext, from the compiled ``click.mo``)."""
    return gettext.translation("click", LOCALE_DIR, languages=["it"])  # type: ignore[return-value]


def compile_click_catalogue() -> Path:
    """Compile ``click.po`` into ``click.mo`` after editing it (babel); returns the ``.mo`` written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = LOCALE_DIR / "it" / "LC_MESSAGES" / "click.po"
    with po.open("rb") as f:
        catalogue = read_po(f)
    out = po.with_suffix(".mo")
    with out.open("wb") as f:
        write_mo(f, catalogue)
    return out


def _italian_click() -> None:
    """Bind click's ``_`` and ``ngettext`` to the catalogue. gettext's process-wide domain would instead choose the
    language from the environment, for every library in the process and for LibreOffice started from it; the
    tool speaks Italian whatever the locale, and only to its own user."""
    import importlib

    catalogue = click_catalogue()
    for name in CLICK_MODULES:
        names = vars(importlib.import_module(name))
        if "_" in names:
            names["_"] = catalogue.gettext
        if "ngettext" in names:
            names["ngettext"] = catalogue.ngettext


_italian_click()


class _Command(click.Command):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPZIONI]")
        super().__init__(*args, **kwargs)


class _Group(click.Group):
    """Commands have Italian names; the English names of earlier versions are kept as aliases, shown in
    brackets in the list of commands (``piao-xls send`` is ``piao-xls invia``)."""

    command_class = _Command

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPZIONI]")
        kwargs.setdefault("subcommand_metavar", "COMANDO [ARGOMENTI]...")
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, str] = {}  # alias -> name

    def alias(self, name: str, *aliases: str) -> None:
        for a in aliases:
            self.aliases[a] = name

    def get_command(self, ctx: click.Context, cmd_name: str):
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def format_commands(self, ctx: click.Context, formatter) -> None:
        found = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            also = [a for a, n in self.aliases.items() if n == name]
            found.append((name + (f" ({', '.join(also)})" if also else ""), cmd))
        width = formatter.width - 6 - max((len(label) for label, _ in found), default=0)
        rows = [(label, cmd.get_short_help_str(limit=max(width, 30))) for label, cmd in found]
        if rows:
            with formatter.section(click_catalogue().gettext("Commands")):
                formatter.write_dl(rows)


_Group.group_class = _Group


class UsageProblem(click.ClickException):
    """A usage error of ours (exit 2), printed as «Errore: ...»."""

    exit_code = USAGE


class MailProblem(click.ClickException):
    exit_code = MAIL


PLAN_HELP = ("Piano (file YAML o cartella di lavoro del piano .xlsx, .ods). Predefinito: il piano dell'area di "
             "lavoro, fuori da un'area di lavoro il piano incluso templates/truccazzano-2025.yaml.")
JSON_HELP = "Stampa il risultato in JSON (chiavi in inglese) invece del testo."

# --- the workspace -------------------------------------------------------------------------


def _settings(required: bool = False):
    """The workspace settings found from the current folder (or ``-C DIR``), or None outside one."""
    from .workspace.settings import WorkspaceError, find_workspace, load_settings

    ctx = click.get_current_context(silent=True)
    start = (ctx.find_root().obj or {}).get("dir") if ctx else None
    root = find_workspace(start or Path.cwd())
    if root is None:
        if required:
            from .workspace.settings import no_workspace_message

            raise UsageProblem(no_workspace_message(Path(start or Path.cwd())))
        return None
    try:
        settings = load_settings(root)
    except WorkspaceError as e:
        raise UsageProblem(str(e)) from e
    for w in settings.warnings:  # never ignored silently
        click.echo(f"Attenzione: {settings.settings_file}: {w}", err=True)
    return settings


def _ledger(settings, create: bool = False):
    """The workspace's ledger; missing, foreign or newer: a usage error saying how to restore it."""
    from .workspace.ledger import Ledger, LedgerError

    try:
        return Ledger(settings.ledger_path, create=create, identity=workspace_identity(settings))
    except LedgerError as e:
        raise UsageProblem(str(e)) from e


def workspace_identity(settings) -> dict[str, str]:
    from .workspace.settings import ledger_identity

    return ledger_identity(settings)


@click.group(cls=_Group)
def registro() -> None:
    """Il registro dell'area di lavoro (registro.sqlite): ogni invio, ricezione e verifica."""


@registro.command("nuovo")
def registro_nuovo() -> None:
    """Crea un registro vuoto quando quello dell'area di lavoro è andato perso.

    Da usare solo se non esiste una copia di sicurezza del registro: nel registro nuovo nessun
    modulo risulta inviato né ricevuto, quindi «invia» invierà di nuovo tutti i moduli e «raccogli»
    leggerà di nuovo tutti i messaggi della casella. Un registro esistente non viene mai sostituito.

    \b
    Esempio:
      piao-xls registro nuovo
    """
    s = _settings(required=True)
    if s.ledger_path.exists():
        raise UsageProblem(f"il registro {s.ledger_path} esiste già: non viene sostituito (per ripristinarne "
                           "uno da una copia di sicurezza, spostare prima altrove quello presente)")
    with _ledger(s, create=True) as led:
        led.add_event("registro nuovo")
    click.echo(f"creato un registro vuoto in {s.ledger_path}: nessun modulo risulta inviato né ricevuto; "
               "«piao-xls invia» invierà di nuovo tutti i moduli e «piao-xls raccogli» rileggerà tutta la casella")


def _event(settings, command: str, **detail) -> None:
    if settings is None:
        return
    with _ledger(settings) as led:
        led.add_event(command, **detail)


def _plan_path(plan: str | None, settings=None) -> Path:
    from .plan.planfile import bundled_plan_path

    if plan:
        return Path(plan)
    if settings is not None:
        return settings.plan
    return bundled_plan_path()


def _load_plan_or_exit(plan: str | None, settings=None):
    """Load a plan; on errors print them and exit 2 (a usage error for every command but `piano verifica`)."""
    from .plan.load import check_plan

    path = _plan_path(plan, settings)
    p, findings = check_plan(path)
    if p is None:
        for f in findings:
            if f.severity == "error":
                click.echo(str(f).replace(": error ", ": errore ", 1), err=True)
        click.echo(f"Errore: il piano {path} contiene errori: correggerlo (piao-xls piano verifica {path})", err=True)
        raise click.exceptions.Exit(USAGE)
    if settings is not None:
        for w in settings.party_warnings(p):  # an address under a code the plan does not have is never used
            click.echo(f"Attenzione: {settings.settings_file}: {w}", err=True)
    return p


# in JSON on stdout: DEL, C1, line separators, bidirectional controls, lone surrogates (json escapes C0 itself)
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _print_json(data) -> None:
    """JSON on stdout, readable (UTF-8) but never carrying a terminal control from a file: DEL, C1, line
    separators, bidirectional controls and lone surrogates are written as JSON \\u escapes (json itself
    escapes C0)."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _exit_codes_text() -> str:
    return "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="\b\nCodici di uscita (uguali per tutti i comandi):\n" + _exit_codes_text())
@click.version_option(__version__, prog_name="piao-xls")
@click.option("-C", "directory", metavar="CARTELLA", type=click.Path(file_okay=False, exists=True), default=None,
              help="Lavora come se il comando fosse avviato in questa cartella.")
@click.pass_context
def cli(ctx: click.Context, directory: str | None) -> None:
    """Dal piano della Performance del PIAO ai moduli Excel protetti per ogni
    Responsabile, e ritorno: invio, raccolta, verifica e valutazione.

    \b
    L'anno dell'ufficio finanziario:
      piao-xls crea PIAO-2025               # l'area di lavoro del comune e dell'anno
      piao-xls genera                       # i moduli per i Responsabili
      piao-xls invia                        # un messaggio per Responsabile, modulo allegato
      piao-xls raccogli                     # gli allegati ricevuti (posta, .msg, cartelle)
      piao-xls stato                        # chi ha inviato, chi manca, chi deve correggere
      piao-xls rispondi                     # le correzioni, in risposta ai messaggi
      piao-xls sollecita                    # i solleciti, vicino alla scadenza
      piao-xls consolida                    # il riepilogo di fine anno per il Nucleo
      piao-xls relazione                    # la bozza della Relazione sulla Performance
    \b
    Il piano:
      piao-xls piano modello -o piano.xlsx  # un piano nuovo: compilare la cartella, poi
      piao-xls piano importa piano.xlsx     #   leggerla in piano.yaml
      piao-xls piano verifica               # verificare il piano
    \b
    I nomi inglesi dei comandi (init, generate, send, collect, status, reply, remind,
    check, consolidate, plan check/template/import/export) restano validi.
    """
    ctx.ensure_object(dict)
    ctx.obj["dir"] = directory


# --- plan ---------------------------------------------------------------------------------


@cli.group("piano")
def plan() -> None:
    """Lavorare con i file del piano.

    \b
    Esempio:
      piao-xls piano verifica templates/truccazzano-2025.yaml --verbose
    """


@plan.command("verifica")
@click.argument("plan_file", metavar="[PIANO]", required=False)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.option("-v", "--verbose", is_flag=True, help="Mostra come è stato interpretato ogni obiettivo.")
@click.option("--qualita", is_flag=True, help="Aggiunge il rapporto sulla qualità del piano per il Nucleo di "
              "Valutazione (obiettivi misurabili, target di miglioramento, pesi, collegamento con il DUP) e lo "
              "scrive in una cartella di lavoro.")
@click.option("--rapporto", type=click.Path(dir_okay=False), default=None,
              help="Dove scrivere il rapporto sulla qualità (predefinito: qualita-<piano>.xlsx nella cartella "
              "corrente).")
def plan_check(plan_file: str | None, as_json: bool, verbose: bool, qualita: bool, rapporto: str | None) -> None:
    """Verifica un piano e ne mostra un riepilogo per settore.

    Con --qualita aggiunge il rapporto sulla qualità del piano (docs/plan-quality.md) e lo scrive in una
    cartella di lavoro da stampare. Codice di uscita 0 senza errori, 1 con errori (anche i controlli della
    qualità che il piano indica come errori).

    \b
    Esempio:
      piao-xls piano verifica --json
      piao-xls piano verifica piano.yaml --qualita --rapporto qualita.xlsx
    """
    from .plan.load import check_plan
    from .plan.report import plan_summary, plan_summary_text

    if rapporto and not qualita:
        raise UsageProblem("--rapporto si usa con --qualita")
    path = _plan_path(plan_file, None if plan_file else _settings())
    read: list = []
    p, findings = check_plan(path, read=read)
    summary = plan_summary(p, findings, read)
    failed = bool(summary["errors"])
    text = None if as_json else plan_summary_text(p, findings, str(path), verbose=verbose,
                                                  read=read if verbose else None)
    if qualita and p is not None:
        from .plan.quality import check_quality, quality_summary, quality_text, quality_workbook
        from .sheetio.atomic import write_bytes_atomic

        flags = check_quality(p)
        out = Path(rapporto) if rapporto else Path(f"qualita-{p.plan_id}.xlsx")
        try:
            write_bytes_atomic(out, quality_workbook(p, flags))
        except OSError as e:
            raise UsageProblem(f"impossibile scrivere il rapporto {out}: {e.strerror or e}") from None
        summary["quality"] = {**quality_summary(p, flags), "report": str(out)}
        failed = failed or any(f.severity == "error" for f in flags)
        if text is not None:
            text += f"\n\n{quality_text(p, flags)}\nRapporto per il Nucleo di Valutazione scritto in {out}"
    elif qualita and text is not None:
        text += "\n\nIl rapporto sulla qualità richiede un piano senza errori: li corregga e ripeta il comando."
    if as_json:
        _print_json(summary)
    else:
        click.echo(text)
    sys.exit(FINDINGS if failed else OK)


def _refuse_overwrite(path: Path, force: bool, ours: str = "") -> None:
    """Refuse to replace an existing file unless --force (or, with ``ours``, a file we wrote, starting so)."""
    if force or not path.exists():
        return
    if ours:
        try:
            if path.read_text(encoding="utf-8").startswith(ours):
                return
        except (OSError, UnicodeDecodeError):
            pass
    raise UsageProblem(f"{path} esiste già; usare --force per sovrascriverlo")


@plan.command("modello")
@click.option("-o", "--output", default="piano.xlsx", show_default=True, type=click.Path(dir_okay=False),
              help="La cartella di lavoro del piano da scrivere.")
@click.option("--force", is_flag=True, help="Sovrascrive un file esistente.")
def plan_template(output: str, force: bool) -> None:
    """Scrive una cartella di lavoro del piano vuota, da compilare con Excel o LibreOffice.

    Un foglio per tabella (Ente, Settori, Uffici, Personale, Attività, Obiettivi, Modalità,
    Indicatori, Punteggio) con elenchi a discesa e messaggi di aiuto; si rilegge con `piano importa`.

    \b
    Esempio:
      piao-xls piano modello -o piano.xlsx
    """
    from .plan.planbook import template_bytes
    from .sheetio.atomic import write_bytes_atomic

    out = Path(output)
    _refuse_overwrite(out, force)
    write_bytes_atomic(out, template_bytes())
    click.echo(f"scritto {out}; compilarlo, poi eseguire: piao-xls piano importa {out}")


@plan.command("importa")
@click.argument("book", metavar="CARTELLA", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Il file del piano (YAML) da scrivere. Predefinito: CARTELLA con estensione .yaml.")
@click.option("--force", is_flag=True, help="Sovrascrive un file del piano esistente non scritto da `piano importa`.")
def plan_import(book: str, output: str | None, force: bool) -> None:
    """Legge una cartella di lavoro del piano in un file YAML, con le verifiche di `piano verifica`.

    Le segnalazioni indicano foglio e cella. Mostra come sarà valutato ogni obiettivo (come
    `piano verifica --verbose`). Codice di uscita 1, e nessun file scritto, se ci sono errori.

    \b
    Esempio:
      piao-xls piano importa piano.xlsx -o piano.yaml
    """
    from .plan.planbook import IMPORT_HEADER, check_book, plan_to_yaml
    from .plan.planfile import parse_plan
    from .plan.report import plan_summary_text
    from .sheetio.atomic import write_text_atomic

    read: list = []  # with errors, still print how every target read is interpreted
    p, findings = check_book(book, read=read)
    click.echo(plan_summary_text(p, findings, book, verbose=True, read=read))
    if p is None:
        sys.exit(FINDINGS)
    out = Path(output) if output else Path(book).with_suffix(".yaml")
    _refuse_overwrite(out, force, ours=IMPORT_HEADER)
    text = plan_to_yaml(p, header=f"{IMPORT_HEADER} {Path(book).name}")
    again, _ = parse_plan(text, str(out))
    if again is None or again.fingerprint != p.fingerprint:  # a bug guard: the YAML must load as the same plan
        raise click.ClickException("errore interno: il file YAML scritto non si rilegge come lo stesso piano")
    write_text_atomic(out, text)
    click.echo(f"scritto {out} (impronta {p.fingerprint[:16]})")


@plan.command("esporta")
@click.argument("plan_file", metavar="[PIANO]", required=False)
@click.option("-o", "--output", default="piano.xlsx", show_default=True, type=click.Path(dir_okay=False),
              help="La cartella di lavoro del piano da scrivere.")
@click.option("--force", is_flag=True, help="Sovrascrive un file esistente.")
def plan_export(plan_file: str | None, output: str, force: bool) -> None:
    """Scrive un piano come cartella di lavoro del piano, già compilata (l'inverso di `piano importa`).

    \b
    Esempio:
      piao-xls piano esporta templates/truccazzano-2025.yaml -o piano.xlsx
    """
    from .plan.planbook import check_book, export_bytes
    from .sheetio.atomic import write_bytes_atomic

    p = _load_plan_or_exit(plan_file, None if plan_file else _settings())
    out = Path(output)
    _refuse_overwrite(out, force)
    write_bytes_atomic(out, export_bytes(p))
    again, _ = check_book(out)
    if again is None or again.fingerprint != p.fingerprint:  # a bug guard: the workbook must import as the plan
        raise click.ClickException(f"errore interno: {out} non si rilegge come lo stesso piano")
    click.echo(f"scritto {out} ({len(p.sectors)} settori, {len(p.objectives)} obiettivi, "
               f"{len(p.indicators)} indicatori; impronta {p.fingerprint[:16]})")


# --- plan versions and revisions (docs/revisions.md) -------------------------------------------------


def _act(atto: str, data: str, motivo: str):
    """The act of an adoption or revision from the options (a usage error in Italian when the date is not one)."""
    from .core.revisions import Act
    from .workspace.settings import parse_day

    if not atto.strip():
        raise UsageProblem("--atto: indicare l'atto, per esempio \"Delibera di Giunta comunale n. 45\"")
    try:
        day = parse_day(data)
    except ValueError as e:
        raise UsageProblem(f"--data: {e}") from e
    return Act(" ".join(atto.split()), day, " ".join(motivo.split()))


def _version_problem(e) -> None:
    """A refused adoption or revision: every finding in Italian, then exit 1 (nothing was written)."""
    for f in e.findings:
        click.echo(f"{_severity(f.severity).capitalize()} {f.code}: {_printable(f.message)}" +
                   (f" ({_printable(f.file)})" if f.file and f.file not in f.message else ""), err=True)
    click.echo("Nulla è stato registrato né modificato nell'area di lavoro.", err=True)
    sys.exit(FINDINGS)


ACT_OPTIONS = (
    click.option("--atto", required=True, metavar="TESTO",
                 help="L'atto che approva, con organo e numero: \"Delibera di Giunta comunale n. 45\"."),
    click.option("--data", required=True, metavar="GG/MM/AAAA", help="La data dell'atto."),
    click.option("--motivo", default="", metavar="TESTO", help="Il motivo, come lo riporta l'atto."),
)


def _versions_for(s, p) -> tuple[list, list]:
    """In a workspace with recorded versions: the versions and the timeline check's findings."""
    if s is None:
        return [], []
    from .workspace.planversions import VersionError
    from .workspace.versions import for_consolidation

    with _ledger(s) as led:
        try:
            return for_consolidation(s, led)
        except VersionError as e:
            raise UsageProblem("; ".join(f.message for f in e.findings)) from e


def act_options(f):
    for option in reversed(ACT_OPTIONS):
        f = option(f)
    return f


@plan.command("adozione")
@act_options
def plan_adopt(atto: str, data: str, motivo: str) -> None:
    """Registra l'adozione del piano dell'area di lavoro (versione 1) con il suo atto.

    Il file del piano è conservato in piano/versioni/ e registrato nel registro. Serve prima di
    ogni revisione: la data di adozione è il riferimento della verifica dei tempi.

    \b
    Esempio:
      piao-xls piano adozione --atto "Delibera di Giunta comunale n. 12" --data 30/01/2025
    """
    from .workspace.planversions import VersionError
    from .workspace.versions import record_adoption

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    act = _act(atto, data, motivo)
    with _ledger(s) as led:
        try:
            v = record_adoption(s, led, p, act)
        except VersionError as e:
            _version_problem(e)
        led.add_event("piano adozione", act=act.text, date=act.day.isoformat(), fingerprint=p.fingerprint)
    click.echo(f"registrata la versione {v.number} del piano: {v.act.italian()} (impronta {v.fingerprint[:16]})")


@plan.command("revisione")
@click.argument("plan_file", metavar="PIANO", type=click.Path(exists=True, dir_okay=False))
@act_options
def plan_revise(plan_file: str, atto: str, data: str, motivo: str) -> None:
    """Registra una revisione del piano approvata con un atto: diventa il piano in vigore.

    PIANO è il piano modificato (YAML o cartella di lavoro del piano). Prima di registrare
    controlla che il piano non abbia errori (pesi che sommano 100...), che la data non preceda
    l'adozione né l'ultima revisione e che non tolga obiettivi già rendicontati; altrimenti non
    scrive nulla. Stampa le differenze e scrive risultati/PIAO-<anno>-Versioni-del-piano.xlsx per
    il Nucleo. Dopo la revisione: «piao-xls genera» per i moduli della nuova versione.

    \b
    Esempio:
      piao-xls piano revisione piano-v2.yaml --atto "Delibera di Giunta comunale n. 45" \\
          --data 15/07/2025 --motivo "Rimodulazione degli obiettivi dopo il monitoraggio"
    """
    from .workspace.planversions import VersionError
    from .workspace.versions import diff_lines, revise

    s = _settings(required=True)
    act = _act(atto, data, motivo)
    with _ledger(s) as led:
        try:
            r = revise(s, led, plan_file, act)
        except VersionError as e:
            _version_problem(e)
    click.echo(f"registrata la {r.version.italian()}, in vigore da ora (prima: versione {r.previous.number})")
    for line in diff_lines(r.diff):
        click.echo(_printable(line))
    click.echo(f"Modifiche per il Nucleo di Valutazione: {r.book}")
    click.echo("Per i moduli della nuova versione: piao-xls genera, poi piao-xls invia (solo ai settori il cui "
               "modulo è cambiato)")


@plan.command("versioni")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def plan_versions(as_json: bool) -> None:
    """Elenca le versioni del piano con i loro atti e la verifica dei tempi.

    \b
    Esempio:
      piao-xls piano versioni
    """
    from .core.revisions import timeline_findings, versions_text
    from .workspace.planversions import VersionError
    from .workspace.versions import cutoff

    s = _settings(required=True)
    with _ledger(s) as led:
        try:
            from .workspace.planversions import versions

            known = versions(led)
        except VersionError as e:
            _version_problem(e)
    late = timeline_findings(known, cutoff(s)) if known else []
    if as_json:
        _print_json({"versions": [{"number": v.number, "act": v.act.text, "organ": v.act.organ,
                                   "act_number": v.act.number, "date": v.act.day.isoformat(),
                                   "reason": v.act.reason, "fingerprint": v.fingerprint} for v in known],
                     "cutoff": cutoff(s).isoformat(), "findings": [f.to_dict() for f in late]})
        return
    if not known:
        click.echo("nessuna versione registrata: registrare l'adozione con «piao-xls piano adozione --atto … "
                   "--data …»")
        return
    for line in versions_text(known):
        click.echo(_printable(line))
    click.echo(f"Termine per assegnare o modificare obiettivi: {cutoff(s):%d/%m/%Y}")
    for f in late:
        click.echo(f"Avviso {f.code}: {_printable(f.message)}")


@plan.command("differenze")
@click.argument("old", metavar="[DA]", required=False)
@click.argument("new", metavar="[A]", required=False)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def plan_diff(old: str | None, new: str | None, as_json: bool) -> None:
    """Mostra le differenze tra due versioni del piano, per obiettivo e indicatore.

    DA e A sono numeri di versione dell'area di lavoro oppure file del piano. Senza argomenti:
    dalla versione precedente a quella in vigore; con un solo argomento: da quello al piano in vigore.

    \b
    Esempio:
      piao-xls piano differenze 1 2
      piao-xls piano differenze piano-2025.yaml piano-2025-v2.yaml
    """
    from .core.revisions import diff_plans
    from .workspace.planversions import VersionError
    from .workspace.versions import diff_lines

    def pick(arg: str | None, known: list, default):
        if arg is None:
            return default
        if arg.isdigit():
            found = [v for v in known if v.number == int(arg)]
            if not found:
                raise UsageProblem(f"la versione {arg} non è registrata (versioni: "
                                   f"{', '.join(str(v.number) for v in known) or 'nessuna'})")
            return found[0].plan
        return _load_plan_or_exit(arg)

    s = _settings()
    known: list = []
    if s is not None:
        from .workspace.planversions import versions

        with _ledger(s) as led:
            try:
                known = versions(led)
            except VersionError as e:
                _version_problem(e)
    if (old is None or new is None) and s is None and not (old and new):
        raise UsageProblem("fuori da un'area di lavoro indicare i due file del piano da confrontare")
    current = _load_plan_or_exit(None, s) if s is not None else None
    default_old = known[-2].plan if len(known) >= 2 else None
    a = pick(old, known, default_old)
    b = pick(new, known, current)
    if a is None or b is None:
        raise UsageProblem("c'è una sola versione registrata: indicare le due versioni o i due file da confrontare")
    d = diff_plans(a, b)
    if as_json:
        _print_json({"from": a.fingerprint, "to": b.fingerprint,
                     "changes": [{"level": c.level, "id": c.item_id, "sector": c.sector, "change": c.change.value,
                                  "before": c.before, "after": c.after} for c in d.changes]})
        return
    if d.empty:
        click.echo("nessuna differenza")
        return
    for line in diff_lines(d):
        click.echo(_printable(line))


@plan.command("anno-successivo")
@click.option("--plan", "plan_file", default=None, type=click.Path(dir_okay=False), help=PLAN_HELP)
@click.option("--risultati", "results_file", type=click.Path(exists=True, dir_okay=False),
              help="Il JSON dei risultati scritto da «consolida --json-file» (predefinito nell'area di lavoro: i "
                   "moduli ricevuti).")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="La cartella di lavoro del piano da scrivere. Predefinito: risultati/PIAO-<anno+1>-piano.xlsx "
                   "nell'area di lavoro, altrimenti output/<anno>-risultati/.")
@click.option("--force", is_flag=True, help="Sovrascrive un file esistente.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def plan_next_year(plan_file: str | None, results_file: str | None, output: str | None, force: bool,
                   as_json: bool) -> None:
    """Scrive la bozza del piano dell'anno successivo come cartella di lavoro del piano.

    Settori, obiettivi e indicatori mantengono i loro codici; i valori validati di quest'anno
    diventano i valori di partenza («Valore dell'anno precedente»). Nessun target è ripreso in
    silenzio: ogni target è elencato da confermare, e quelli che nominano quest'anno da riscrivere.
    La bozza si completa in Excel o LibreOffice e si legge con «piano importa».

    \b
    Esempio:
      piao-xls piano anno-successivo -o piano-2026.xlsx
      piao-xls piano anno-successivo --plan piano-2025.yaml --risultati risultati.json -o piano-2026.xlsx
    """
    from .core import italian
    from .core.nextyear import ReviewKind
    from .results.consolidate import consolidate as run
    from .results.nextyear import NextYearError, validated_values, values_from_json, write_draft
    from .workspace.year import results_file as results_path

    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    try:
        if results_file:
            values = values_from_json(results_file, p)
        elif s is not None:
            known, _ = _versions_for(s, p)
            received: list[str | Path] = [*_year_received(s)]
            c = run(received, p, versions=known)
            values = validated_values(c.evaluation) if c.evaluation is not None else {}
        else:
            raise UsageProblem("fuori da un'area di lavoro indicare --risultati FILE.json (scritto da «piao-xls "
                               "consolida --json-file»)")
        out = Path(output) if output else results_path(s, p, f"PIAO-{p.year + 1}-piano.xlsx")
        _refuse_overwrite(out, force)
        draft = write_draft(p, values, out)
    except NextYearError as e:
        raise click.ClickException(str(e)) from e
    if s is not None:
        _event(s, "piano anno-successivo", output=str(out), year=draft.plan.year, baselines=len(
            draft.of(ReviewKind.BASELINE)))
    if as_json:
        _print_json({"output": str(out), "plan_id": draft.plan.plan_id, "year": draft.plan.year,
                     "fingerprint": draft.plan.fingerprint,
                     "reviews": [{"id": r.item_id, "kind": r.kind.value, "text": r.text} for r in draft.reviews]})
        return
    n_base, n_old = len(draft.of(ReviewKind.BASELINE)), len(draft.of(ReviewKind.TARGET_OLD_YEAR))
    click.echo(f"scritto {out}: bozza del piano {draft.plan.year} ({len(draft.plan.sectors)} settori, "
               f"{len(draft.plan.objectives)} obiettivi, {len(draft.plan.indicators)} indicatori)")
    click.echo(f"Valori di partenza dal {p.year}: {italian.plural(n_base, 'indicatore', 'indicatori')}")
    for kind, head in ((ReviewKind.TARGET_OLD_YEAR, f"Da riscrivere (nominano il {p.year} o un anno precedente)"),
                       (ReviewKind.TARGET_TO_CONFIRM, "Target ripresi, da confermare o cambiare"),
                       (ReviewKind.NO_BASELINE, "Senza valore di partenza")):
        items = draft.of(kind)
        if items:
            click.echo(f"{head}: {len(items)}")
            for r in items:
                click.echo(f"  {_printable(r.text)}")
    if n_old:
        click.echo("Dopo le modifiche: piao-xls piano importa " + str(out))


# --- the workspace ------------------------------------------------------------------------------


@cli.command("crea")
@click.argument("directory", metavar="[CARTELLA]", required=False, default=".",
                type=click.Path(file_okay=False))
@click.option("--plan", "plan_file", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Il piano da usare (viene copiato nell'area di lavoro). Predefinito: il piano incluso.")
@click.option("--scadenza", "deadline", default=None, metavar="GG/MM/AAAA",
              help="Termine di restituzione dei moduli (31/01/2026 oppure 2026-01-31). Predefinito: 31 gennaio "
                   "dell'anno dopo il piano.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def init(directory: str, plan_file: str | None, deadline: str | None, as_json: bool) -> None:
    """Crea l'area di lavoro di un comune e di un anno.

    Scrive il file delle impostazioni piao-xls.toml (commentato, da completare con gli indirizzi e i
    dati della posta), una copia del piano e le sottocartelle: moduli, bozze, ricevuti, posta,
    riscontri, risultati. I comandi avviati in qualsiasi sottocartella trovano l'area di lavoro.

    \b
    Esempio:
      piao-xls crea PIAO-2025 --plan piano.yaml --scadenza 2026-01-31
    """
    from .workspace.settings import WorkspaceError, check_new_workspace, init_workspace, parse_day

    when = None
    if deadline:
        try:
            when = parse_day(deadline)
        except ValueError as e:
            raise UsageProblem(f"--scadenza: {e}") from e
    try:
        check_new_workspace(directory)  # before the plan is read: nothing written inside or around another
    except WorkspaceError as e:
        raise UsageProblem(str(e)) from e
    path = _plan_path(plan_file)
    p = _load_plan_or_exit(str(path))
    try:
        s = init_workspace(directory, path, p, when)
    except WorkspaceError as e:
        raise UsageProblem(str(e)) from e
    _event(s, "init", plan=str(s.plan), fingerprint=p.fingerprint)
    if as_json:
        _print_json({"root": str(s.root), "settings": str(s.settings_file), "plan": str(s.plan),
                     "folders": {k: str(v) for k, v in s.folders.items()}})
        return
    click.echo(f"creata l'area di lavoro {s.root} (Comune di {s.comune}, anno {s.year}, scadenza "
               f"{s.deadline:%d/%m/%Y})")
    click.echo(f"completare {s.settings_file} con gli indirizzi dei Responsabili e i dati della posta, poi: "
               "piao-xls genera")


def _when(iso: str) -> str:
    """A ledger time (UTC) as local time, to the minute."""
    if not iso:
        return "-"
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return iso


@cli.command()
@click.option("--monitoraggio", "round_day", is_flag=False, flag_value="ultimo", default=None, metavar="[GG/MM/AAAA]",
              help="Lo stato di un monitoraggio (senza data: l'ultimo aperto) invece di quello di fine anno.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def stato(round_day: str | None, as_json: bool) -> None:
    """L'anno a colpo d'occhio: per ogni settore inviato, ricevuto, esito, ultimo sollecito.

    Si legge dal registro dell'area di lavoro. Per ogni settore conta il file inviato per ultimo
    (data del messaggio, consegna PEC, o per un file salvato a mano il momento in cui è stato
    ricevuto): «stato» lo nomina, con i file che sostituisce; due file che non si possono ordinare
    sono in conflitto (piao-xls scegli). Codice di uscita 0 quando ogni modulo che conta è
    accettato, 1 quando qualcuno manca, è da correggere o è in conflitto.

    \b
    Esempio:
      piao-xls stato --json
      piao-xls stato --monitoraggio 30/06/2025
    """
    from .mail.campaign import changed_since_sent
    from .workspace.year import year_state

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    if round_day is not None:
        return _round_status(s, p, round_day, as_json)
    with _ledger(s) as led:
        state = year_state(s, p, led)
        changed = changed_since_sent(s, p, led)
        led.add_event("stato")
        counts = led.counts()
    if as_json:
        _print_json({"comune": s.comune, "year": s.year, "deadline": s.deadline.isoformat(),
                     "parties": [{**st.to_dict(), "address_changed": changed.get(st.code)} for st in state],
                     "ledger": counts})
    else:
        click.echo(f"Comune di {_printable(s.comune)} — PIAO {s.year} — scadenza {s.deadline:%d/%m/%Y}")
        for st in state:
            _echo_party(st, changed)
    sys.exit(OK if all(st.status in ("accepted", "accepted_with_warnings") for st in state) else FINDINGS)


def _round_status(s, p, round_day: str, as_json: bool) -> None:
    """``stato --monitoraggio``: the round at a glance, in the words of the year's ``stato``."""
    from .workspace.rounds import opened_rounds, round_state

    with _ledger(s) as led:
        if round_day == "ultimo":
            opened = opened_rounds(led)
            if not opened:
                raise UsageProblem("nessun monitoraggio aperto in questa area di lavoro: piao-xls monitoraggio apri DATA")
            day = opened[-1]
        else:
            day = _round_date(round_day, p)
        state = round_state(s, p, led, day)
        led.add_event("stato", round=day.isoformat())
    if as_json:
        _print_json({"comune": s.comune, "year": s.year, "round": day.isoformat(),
                     "parties": [st.to_dict() for st in state]})
    else:
        click.echo(f"Comune di {_printable(s.comune)} — PIAO {s.year} — monitoraggio al {day:%d/%m/%Y}")
        for st in state:
            _echo_party(st, {})
    sys.exit(OK if all(st.status in ("accepted", "accepted_with_warnings") for st in state) else FINDINGS)


def _echo_party(st, changed: dict) -> None:
    """One party in ``stato`` (the year's or a round's): sent, received, the file that counts, the files it
    supersedes or conflicts with, reminders, files set aside, messages not read."""
    from .core.status import STATUS_IT
    from .mail.campaign import resend_hint
    from .workspace.year import HOW_IT

    click.echo(f"{_printable(st.code):8} {STATUS_IT.get(st.status, st.status):22} {_printable(st.name)}")
    sent = f"{_when(st.sent_at)} a {_printable(st.sent_to)}" + (" (bozza)" if st.sent_how == "bozze" else "") \
        if st.sent_at else "non ancora"
    click.echo(f"         inviato: {sent}")
    how = HOW_IT.get(st.received_how, st.received_how)
    got = (f"{_when(st.received_at)}" + (f" da {_printable(st.received_from)}" if st.received_from else "") +
           (f", {how}" if how else "")) if st.received_at else "nulla"
    click.echo(f"         ricevuto: {got}")
    if st.file:
        click.echo(f"         conta: {_printable(st.file)}" + _sent_words(st.file_sent, st.file_sent_from))
    for old in st.superseded:
        click.echo(f"         sostituito: {_printable(old['file'])}{_sent_words(old['sent'], old['sent_from'])}"
                   f" — {STATUS_IT.get(old['status'], old['status'])}")
    if st.conflict:
        click.echo(f"         in conflitto: {_plural(len(st.conflict), 'file', 'file')} con valori diversi "
                   "che non si possono ordinare per momento dell'invio; nessuno conta finché non si sceglie")
        for c in st.conflict:
            click.echo(f"           {_printable(c['file'])}{_sent_words(c['sent'], c['sent_from'])}")
        click.echo(f"         per scegliere il file che conta: {st.resolve}")
    if st.code in changed and st.status == "missing":
        c = changed[st.code]
        click.echo(f"         attenzione: inviato a {_printable(c['sent_to'])}, ma ora l'indirizzo è "
                   f"{_printable(c['now'])}; {resend_hint(st.code)}")
    click.echo(f"         ultimo sollecito: {_when(st.last_reminder)}")
    for a in st.set_aside:
        click.echo(f"         messo da parte: {_printable(a['file'])} da "
                   f"{_printable(a['sender']) or 'mittente non determinabile'} ({_when(a['at'])}), "
                   f"in {_printable(a['path'])}")
    for m in st.not_read:
        click.echo(f"         messaggio non letto ({_when(m['at'])}): {_printable(m['message'])}")


#: where the time that decides which return counts comes from, as ``stato`` says it
SENT_FROM_IT = {"messaggio": "data del messaggio", "pec": "consegna PEC", "ricevuto": "file ricevuto",
                "raccolto": "data di raccolta"}


def _sent_words(sent: str, sent_from: str) -> str:
    if not sent:
        return " (momento dell'invio sconosciuto)"
    return f" (inviato il {_when(sent)}, {SENT_FROM_IT.get(sent_from, sent_from)})"


@cli.command("scegli")
@click.argument("code", metavar="CODICE")
@click.argument("file", metavar="FILE")
@click.option("--monitoraggio", "round_day", default=None, metavar="GG/MM/AAAA",
              help="Tra i file del monitoraggio a questa data invece che tra quelli di fine anno.")
def choose(code: str, file: str, round_day: str | None) -> None:
    """Sceglie quale file conta per un settore quando due file sono in conflitto.

    Conta sempre il file inviato per ultimo (data del messaggio, consegna PEC, o per un file
    salvato a mano il momento in cui è stato ricevuto). Quando due file con valori diversi non si
    possono ordinare (stesso momento, o momento sconosciuto), «stato» li mostra in conflitto e
    nessuno conta finché l'ufficio non sceglie: FILE è il nome mostrato da «stato» (nella cartella
    ricevuti). Un file inviato dopo sostituisce comunque quello scelto. La scelta resta nel registro.

    \b
    Esempio:
      piao-xls scegli SF SF-20260120-0a1b2c3d4e5f.xlsx
    """
    from .workspace.year import record_choice

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    as_of = _round_date(round_day, p) if round_day else None
    with _ledger(s) as led:
        try:
            got = record_choice(led, p, code, file, as_of.isoformat() if as_of is not None else "")
        except ValueError as e:
            raise UsageProblem(str(e)) from e
    click.echo(f"{_printable(code)}: conta {_printable(got.check['name'])} (scelto dall'ufficio); "
               + ("per vedere l'anno: piao-xls stato" if as_of is None else
                  f"per vedere il monitoraggio: piao-xls stato --monitoraggio {as_of:%d/%m/%Y}"))


cli.add_command(registro)


def _password(server, what: str) -> str | None:
    if not server.user:
        return None
    env = server.password_env
    if env and os.environ.get(env) is not None:
        return os.environ[env]
    if sys.stdin.isatty():
        return click.prompt(f"Password {what} per {server.user}", hide_input=True)
    raise UsageProblem(f"password {what} mancante: impostare la variabile d'ambiente {env or '(password_env)'}")


def _transport(settings, via: str | None):
    from .mail.transport import Drafts, MailError, Smtp

    mode = via or settings.send_mode
    if mode == "bozze":
        return Drafts(settings.folder("bozze"))
    try:
        return Smtp(settings.smtp, _password(settings.smtp, "SMTP"))
    except MailError as e:
        raise MailProblem(str(e)) from e


VIA_HELP = ("Come inviare: «bozze» (messaggi .eml nella cartella bozze, da aprire con Outlook o Thunderbird) o "
            "«smtp». Predefinito: [posta] invio delle impostazioni.")


def _show_actions(actions: list[dict], as_json: bool, empty: str) -> None:
    if as_json:
        _print_json({"actions": actions})
        return
    if not actions:
        click.echo(empty)
    for a in actions:
        click.echo(f"{a['code']:8} {a['outcome']:28} {a['to'] or '-'}" + (f"  {Path(a['file']).name}" if a.get("file")
                                                                          else ""))
        for problem in a.get("problems", []):
            click.echo(f"         {problem}")


def _run_mail(settings, via, job):
    from .mail.transport import MailError

    try:
        with _transport(settings, via) as transport, _ledger(settings) as led:
            return job(transport, led)
    except MailError as e:
        raise MailProblem(str(e)) from e


@cli.command("invia")
@click.option("--dry-run", is_flag=True, help="Mostra che cosa andrebbe a chi, senza inviare né scrivere nulla.")
@click.option("--resend", is_flag=True, help="Invia di nuovo anche i moduli già inviati.")
@click.option("--via", type=click.Choice(["bozze", "smtp"]), default=None, help=VIA_HELP)
@click.option("--settore", "only", multiple=True, metavar="CODICE",
              help="Solo questo settore (o «nucleo», «esterno»); ripetibile.")
@click.option("--monitoraggio", "round_day", default=None, metavar="GG/MM/AAAA",
              help="Invia i moduli del monitoraggio a questa data (piao-xls monitoraggio apri) invece di quelli di fine "
                   "anno.")
@click.option("--entro", "due", default=None, metavar="GG/MM/AAAA",
              help="Con --monitoraggio: la data entro cui restituire il modulo, scritta nel messaggio.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def send(dry_run: bool, resend: bool, via: str | None, only: tuple[str, ...], round_day: str | None,
         due: str | None, as_json: bool) -> None:
    """Invia a ogni Responsabile (e al Nucleo, alle fonti esterne) il suo modulo.

    Un messaggio per destinatario, in italiano, con la scadenza, che cosa compilare e a chi chiedere,
    e il modulo giusto in allegato. Un modulo già inviato non viene inviato di nuovo senza --resend;
    dopo una revisione del piano il nuovo modulo va solo a chi ha un modulo cambiato, nella stessa
    conversazione del precedente (gli altri: «invariato: non reinviato»). Ogni messaggio è
    registrato con il suo Message-ID. Più indirizzi per un settore si scrivono
    "a@comune.it; b@comune.it". Nulla parte verso un indirizzo di esempio (@example.invalid) o non
    valido; se l'indirizzo è cambiato dopo l'invio lo dice, con il comando per inviare di nuovo.
    Codice di uscita 1 se un indirizzo o un modulo manca o non va, 2 per un settore sconosciuto.

    \b
    Esempio:
      piao-xls invia --dry-run
      piao-xls invia --monitoraggio 30/06/2025 --entro 15/07/2025
    """
    from .mail.campaign import REFUSED, STALE_FORM, UnknownParty, check_parties
    from .mail.campaign import send as run
    from .workspace.settings import parse_day

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    try:
        check_parties(p, only)  # before any connection or draft
    except UnknownParty as e:
        raise UsageProblem(str(e)) from e
    as_of = _round_date(round_day, p) if round_day else None
    if due and as_of is None:
        raise UsageProblem("--entro vale solo con --monitoraggio")
    try:
        by = parse_day(due) if due else None
    except ValueError as e:
        raise UsageProblem(f"--entro: {e}") from e
    actions = (_run_mail(s, "bozze" if dry_run else via,
                         lambda t, led: run(s, p, led, t, dry_run=dry_run, resend=resend, only=only, as_of=as_of,
                                            due=by)))
    if not dry_run:  # a dry run writes nothing, not even to the ledger
        _event(s, "send", actions=actions, **({"round": as_of.isoformat()} if as_of else {}))
    _show_actions(actions, as_json, "nessun destinatario")
    if not dry_run and not as_json and any(a["outcome"] == "bozza preparata" for a in actions):
        click.echo(f"bozze in {s.folder('bozze')}: aprirle con Outlook o Thunderbird e inviarle")
    if any(a["outcome"] == STALE_FORM for a in actions) and not as_json:
        click.echo("Errore: i moduli non corrispondono al piano dell'area di lavoro (il piano è cambiato dopo "
                   "«genera»): rigenerarli con «piao-xls genera», poi ripetere «piao-xls invia»", err=True)
    refused = [a for a in actions if a["outcome"] in REFUSED]
    if refused and not as_json:
        click.echo(f"{_plural(len(refused), 'destinatario', 'destinatari')} da sistemare prima dell'invio: nulla è "
                   f"stato inviato {'loro' if len(refused) > 1 else 'a questo destinatario'}")
    sys.exit(FINDINGS if refused else OK)


@cli.command("raccogli")
@click.argument("source", metavar="[ORIGINE]", required=False, type=click.Path(exists=True))
@click.option("--strict-sender", is_flag=True,
              help="Rifiuta (invece di segnalare) un file inviato da chi non è il Responsabile né un delegato.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def collect(source: str | None, strict_sender: bool, as_json: bool) -> None:
    """Raccoglie i moduli compilati dalla posta, li salva e li verifica.

    ORIGINE è un modulo .xlsx o .ods salvato a mano, un messaggio di Outlook (.msg) o un .eml,
    un file mbox, una cartella Maildir, oppure una cartella (anche condivisa, con le sottocartelle)
    di moduli e messaggi; gli altri file (PDF, Word, .xls, immagini, archivi) sono elencati con che
    cosa sono e che cosa fare. Senza ORIGINE si legge la casella IMAP delle impostazioni, in sola
    lettura (nessun messaggio viene segnato come letto). Messaggi inoltrati e buste PEC (daticert.xml, postacert.eml) vengono
    aperti fino all'allegato originale. Ogni allegato passa per gli stessi controlli di sicurezza di
    `controlla` prima di essere salvato, con un nome sicuro e unico, una sola volta; il mittente viene
    confrontato con il Responsabile del settore e i suoi delegati. Codice di uscita 1 se un nuovo
    file è rifiutato.

    \b
    Esempio:
      piao-xls raccogli allegati/
      piao-xls raccogli --strict-sender
    """
    from .core.status import STATUS_IT
    from .mail.collect import collect as run
    from .mail.collect import imap_messages
    from .mail.sources import SourceError, read_local
    from .mail.transport import MailError

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    skipped: list = []
    with _ledger(s) as led:
        count = [0]

        def counted(messages):
            for m in messages:
                count[0] += 1
                yield m

        try:
            if source:
                messages, skipped = read_local(Path(source))
            else:
                messages = imap_messages(s.imap, _password(s.imap, "IMAP"), lambda mid: led.has_message(mid, "in"))
            got = run(s, p, led, counted(messages), strict_sender=strict_sender)
        except MailError as e:
            raise MailProblem(str(e)) from e
        except SourceError as e:
            raise UsageProblem(f"{_printable(str(source))}: {_printable(str(e))}") from e
        except (OSError, ValueError) as e:
            from .sheetio.oserrors import os_reason

            why = os_reason(e) if isinstance(e, OSError) else str(e)
            raise UsageProblem(f"{_printable(str(source))}: impossibile leggere i messaggi ({_printable(why)})") from e
        led.add_event("collect", source=source or f"imap://{s.imap.host}/{s.imap.folder}", messages=count[0],
                      new=sum(1 for c in got if c.outcome == "nuovo"))
    if as_json:
        _print_json({"messages": count[0], "items": [c.to_dict() for c in got],
                     "skipped": [k.to_dict() for k in skipped]})
    else:
        for c in got:
            esito = f" — {STATUS_IT.get(c.status, c.status)}" if c.status else ""
            via = {"pec": " (PEC)", "inoltro": " (inoltrato)"}.get(c.via, "")
            who = (f"da {_printable(c.sender)}" if c.sender else "(file salvato a mano)" if c.filename
                   else "da mittente sconosciuto")
            rnd = f" [monitoraggio al {date.fromisoformat(c.round):%d/%m/%Y}]" if c.round else ""
            click.echo(f"{_printable(c.sector) or '-':8} {c.outcome}{esito}: {_printable(c.filename or c.subject)} "
                       f"{who}{via}{rnd}")
            for f in c.findings:
                click.echo(_finding_line(f["severity"], f["code"], f.get("sheet"), f.get("cell"), f["message"]))
        for k in skipped:
            click.echo(f"-        ignorato: {_printable(k.path)}: {_printable(k.reason)}")
        fresh = sum(1 for c in got if c.outcome == "nuovo")
        click.echo(f"{_plural(count[0], 'messaggio o file letto', 'messaggi o file letti')}, "
                   f"{_plural(fresh, 'file nuovo', 'file nuovi')}"
                   + (f", {_plural(len(skipped), 'file ignorato', 'file ignorati')}" if skipped else ""))
        if not count[0] and source:
            click.echo(f"nessun messaggio e nessun modulo in {_printable(source)}: raccogli legge file .xlsx o .ods "
                       "salvati a mano, messaggi .eml o .msg (Outlook), file mbox e cartelle Maildir")
        elif fresh:
            click.echo("per vedere a che punto è l'anno: piao-xls stato")
    new = [c for c in got if c.outcome in ("nuovo", "rifiutato", "messo da parte", "non letto")]
    sys.exit(FINDINGS if any(c.status == "rejected" for c in new) else OK)


@cli.command("rispondi")
@click.option("--dry-run", is_flag=True, help="Mostra a chi si risponderebbe, senza inviare né scrivere nulla.")
@click.option("--via", type=click.Choice(["bozze", "smtp"]), default=None, help=VIA_HELP)
@click.option("--monitoraggio", "round_day", default=None, metavar="GG/MM/AAAA",
              help="Per il monitoraggio a questa data invece che per la rendicontazione di fine anno.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def reply(dry_run: bool, via: str | None, round_day: str | None, as_json: bool) -> None:
    """Risponde a ogni messaggio il cui modulo è da correggere, con la nota di riscontro.

    La risposta porta In-Reply-To e References del messaggio ricevuto e la nota in italiano con
    foglio e cella di ogni correzione (scritta anche nella cartella riscontri). Una sola risposta per file.
    Un file salvato a mano (senza messaggio) riceve un nuovo messaggio all'indirizzo del settore.

    \b
    Esempio:
      piao-xls rispondi --via smtp
      piao-xls rispondi --monitoraggio 30/06/2025
    """
    from .mail.campaign import reply as run

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    as_of = _round_date(round_day, p) if round_day else None
    actions = _run_mail(s, "bozze" if dry_run else via, lambda t, led: run(s, p, led, t, dry_run=dry_run, as_of=as_of))
    if not dry_run:  # a dry run writes nothing, not even to the ledger
        _event(s, "reply", actions=actions, **({"round": as_of.isoformat()} if as_of else {}))
    _show_actions(actions, as_json, "nessun modulo da correggere")
    from .mail.campaign import REFUSED

    sys.exit(FINDINGS if any(a["outcome"] in REFUSED for a in actions) else OK)


@cli.command("sollecita")
@click.option("--oggi", "today", default=None, metavar="AAAA-MM-GG", help="La data di oggi (per prove). "
              "Predefinito: la data del sistema.")
@click.option("--dry-run", is_flag=True, help="Mostra chi verrebbe sollecitato, senza inviare né scrivere nulla.")
@click.option("--via", type=click.Choice(["bozze", "smtp"]), default=None, help=VIA_HELP)
@click.option("--monitoraggio", "round_day", default=None, metavar="GG/MM/AAAA",
              help="Per il monitoraggio a questa data invece che per la rendicontazione di fine anno.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def remind(today: str | None, dry_run: bool, via: str | None, round_day: str | None, as_json: bool) -> None:
    """Sollecita chi non ha ancora restituito il modulo (o deve correggerlo).

    Solo da [ente] solleciti_giorni_prima giorni prima della scadenza in poi; mai due volte lo
    stesso giorno allo stesso destinatario. Codice di uscita 1 se un indirizzo manca o non va
    (nessun sollecito parte verso quel destinatario).

    \b
    Esempio:
      piao-xls sollecita --dry-run
      piao-xls sollecita --monitoraggio 30/06/2025
    """
    from .mail.campaign import remind as run
    from .mail.campaign import round_due

    s = _settings(required=True)
    p = _load_plan_or_exit(None, s)
    try:
        day = date.fromisoformat(today) if today else date.today()
    except ValueError as e:
        raise UsageProblem(f"--oggi: «{today}» non è una data AAAA-MM-GG") from e
    as_of = _round_date(round_day, p) if round_day else None
    actions = _run_mail(s, "bozze" if dry_run else via,
                        lambda t, led: run(s, p, led, t, today=day, dry_run=dry_run, as_of=as_of))
    if not dry_run:  # a dry run writes nothing, not even to the ledger
        _event(s, "remind", today=day.isoformat(), actions=actions, **({"round": as_of.isoformat()} if as_of else {}))
    deadline = s.deadline
    if as_of is not None:
        with _ledger(s) as led:
            deadline = round_due(led, as_of)
    if deadline is None:
        empty = ("nessun sollecito: il monitoraggio è stato inviato senza una data di restituzione "
                 "(piao-xls invia --monitoraggio DATA --entro GG/MM/AAAA)")
    else:
        days = (deadline - day).days
        empty = (f"nessun sollecito: mancano {days} giorni alla scadenza (i solleciti partono "
                 f"{s.remind_days_before} giorni prima)" if days > s.remind_days_before else "nessuno da sollecitare")
    _show_actions(actions, as_json, empty)
    from .mail.campaign import REFUSED

    sys.exit(FINDINGS if any(a["outcome"] in REFUSED for a in actions) else OK)


# --- forms and returns ---------------------------------------------------------------------------


@cli.command("genera")
@click.argument("plan_file", metavar="[PIANO]", required=False)
@click.option("-o", "--output", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Cartella; i file vanno in OUTPUT/<anno>/. Predefinito: la cartella moduli dell'area di lavoro, "
                   "fuori da un'area di lavoro «output».")
@click.option("--password", metavar="TESTO", envvar="PIAO_XLS_PASSWORD", default="", show_envvar=True,
              help="Password facoltativa di protezione dei fogli (evita modifiche accidentali; le manomissioni le "
                   "scoprono i controlli al ritorno, non la password).")
@click.option("--jobs", metavar="N", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Scrive i moduli in N processi paralleli.")
@click.option("--force", is_flag=True, help="Sovrascrive anche i file che contengono già valori compilati.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def generate(plan_file: str | None, out_dir: str | None, password: str, jobs: int, force: bool, as_json: bool) -> None:
    """Scrive i moduli da inviare ai Responsabili.

    Scrive PIAO-<anno>-<Comune>.xlsx (tutti i settori), un PIAO-<anno>-<codice>-<nome>.xlsx per
    settore e un modulo per ogni fonte esterna (Nucleo di Valutazione, certificazioni).

    \b
    Esempio:
      piao-xls genera -o output/
    """
    import functools

    from .forms.generate import RefuseOverwrite
    from .forms.generate import generate as run
    from .returns.reader import why_keep
    from .workspace.year import forms_folder

    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    target = out_dir or str(forms_folder(s))
    if s is None and not out_dir and not as_json:
        click.echo(f"fuori da un'area di lavoro: i moduli vanno in {Path(target).resolve() / str(p.year)} "
                   "(per un'area di lavoro: piao-xls crea; per un'altra cartella: -o CARTELLA)", err=True)
    try:
        keep = None if force else functools.partial(why_keep, plan=p)
        version = ""  # in a workspace with recorded versions, each form says which one it is made on
        if s is not None:
            from .core.revisions import version_of
            from .returns.versions import why_keep_on_versions
            from .workspace.planversions import usable_versions

            with _ledger(s) as led:
                known = usable_versions(led)
            v = version_of(p.fingerprint, known)
            version = v.label() if v is not None else ""
            if known and not force and not out_dir:  # a blank form of an earlier version may be replaced
                keep = functools.partial(why_keep_on_versions, plan=p, versions=known)
        written = run(p, target, password=password, jobs=jobs, keep=keep, version=version)
    except RefuseOverwrite as e:
        raise UsageProblem(str(e)) from e
    if s is not None:
        from .workspace.year import record_generated

        with _ledger(s) as led:
            record_generated(led, p, written)
    if as_json:
        _print_json({"files": [w.__dict__ for w in written]})
        return
    _echo_written(written)


def _echo_written(written) -> None:
    """«scritto FILE  [settore SF, 25.378 byte]» for each form ``genera`` or ``monitoraggio apri`` wrote."""
    from .core import italian

    for w in written:
        what = {"all": "tutti i settori", "sector": f"settore {','.join(w.sectors)}",
                "source": f"fonte {w.source} ({','.join(w.sectors)})"}[w.kind]
        click.echo(f"scritto {w.path}  [{what}, {italian.number(w.size, 0)} byte]")


def history_option(f):
    """--storico FILE (repeatable), shared by `consolida` and `relazione`: earlier years' results."""
    return click.option("--storico", "history_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                        metavar="FILE.json",
                        help="I risultati di un anno precedente (il JSON di «consolida --json-file» di quell'anno; "
                             "ripetibile): il riepilogo e la Relazione mostrano i valori di ogni indicatore negli "
                             "anni. In un'area di lavoro si leggono anche i .json della cartella storico/.")(f)


def _earlier(settings, plan, files: tuple[str, ...]) -> tuple[list[dict], list]:
    """The results of earlier years (the workspace's storico/ folder and --storico) and the HIST-FILE findings of
    those left out, each also printed as a warning."""
    from .results.history import earlier_in, load_earlier

    paths = [*(earlier_in(settings.root) if settings is not None else []), *map(Path, files)]
    earlier, found = load_earlier(paths, plan)
    for f in found:
        click.echo(f"Avviso: {f.file}: {f.message}", err=True)
    return earlier, found


def decisions_option(f):
    """--decisions FILE, shared by `consolida` and `relazione`."""
    return click.option("--decisions", "decisions_file", default=None, type=click.Path(exists=True, dir_okay=False),
                        help="Le decisioni del Nucleo: YAML, o una cartella di lavoro con il foglio «Decisioni» "
                             "(neutralizzare un obiettivo, dichiarare non applicabile un indicatore, correggere un "
                             "valore; vedere docs/scoring.md).")(f)


def plan_option(f):
    """--plan PLAN, shared by the commands that read returned workbooks."""
    return click.option("--plan", "plan_file", default=None, type=click.Path(dir_okay=False), help=PLAN_HELP)(f)




def _severity(sev: str) -> str:
    from .core.errors import SEVERITY_IT

    return SEVERITY_IT.get(sev, sev)


def _finding_line(severity: str, code: str, sheet: str | None, cell: str | None, message: str) -> str:
    """«  errore WB-VALUE 'SF - Finanziario'!E12: …», and with no place «  errore WB-OPEN: …» (no space before
    the colon): one finding as the reports of controlla and raccogli print it."""
    from .core.errors import Location

    ref = Location(sheet=sheet or None, cell=cell or None).ref
    where = f" {_printable(ref)}" if ref else ""
    return f"  {_severity(severity)} {code}{where}: {_printable(message)}"


@cli.command("controlla")
@click.argument("paths", metavar="PERCORSO...", nargs=-1, required=True, type=click.Path(exists=True))
@plan_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False),
              help="Scrive in questa cartella una nota di riscontro in italiano per ogni file.")
@click.option("--jobs", metavar="N", type=click.IntRange(1, 64), default=lambda: min(64, os.cpu_count() or 1),
              show_default="numero di processori", help="Legge i file in N processi paralleli.")
def check(paths: tuple[str, ...], plan_file: str | None, as_json: bool, feedback_dir: str | None, jobs: int) -> None:
    """Verifica i moduli restituiti: identità, manomissioni, ogni valore, campi obbligatori.

    PERCORSO sono file o cartelle (lette con le sottocartelle, come per `consolida`). In un'area
    di lavoro l'esito va nel registro. Codice di uscita 0 quando ogni file è accettato (anche con
    avvisi), 1 altrimenti.

    \b
    Esempio:
      piao-xls controlla ricevuti/ --feedback riscontri/
    """
    from .core.gcpause import paused_gc
    from .core.status import REJECTED, STATUS_IT
    from .returns.batch import expand_paths, read_all
    from .returns.feedback import feedback_names, feedback_text
    from .sheetio.atomic import write_text_atomic

    _batch_process()

    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    explicit = [Path(x) for x in paths if not Path(x).is_dir()]
    books, others = expand_paths([x for x in paths if Path(x).is_dir()])
    files = explicit + [b for b in books if b not in explicit]
    with paused_gc():
        results = read_all(files, p, jobs=jobs, keep_raw=True)
    if feedback_dir:
        for r, name in zip(results, feedback_names([r.path for r in results]), strict=True):
            write_text_atomic(Path(feedback_dir) / name, feedback_text(r, p))
    if s is not None:
        from .workspace.year import record_checks

        with _ledger(s) as led:
            record_checks(led, p, results)
    if as_json:
        _print_json({"files": [r.to_dict() for r in results], "skipped": [str(o) for o in others]})
    else:
        for r in results:
            click.echo(f"{_printable(r.path)}: {STATUS_IT.get(r.status, r.status)} (settori: "
                       f"{', '.join(r.sector_codes) or '-'}, {_findings_words(r.findings)})")
            for f in r.findings:
                click.echo(_finding_line(f.severity, f.code, f.location.sheet, f.location.cell, f.message))
        for o in others:
            click.echo(f"{_printable(str(o))}: ignorato (non è una cartella di lavoro)")
        received = s.folder("ricevuti").resolve() if s is not None else None
        outside = [x for x in paths
                   if received is not None and received not in (Path(x).resolve(), *Path(x).resolve().parents)]
        forms = any(all(f.code not in ("WB-OPEN", "WB-UNSAFE") for f in r.findings) for r in results)
        if outside and forms:  # checked only: not a return until collected
            click.echo(f"questi file sono solo verificati: per registrarli come ricevuti (e vederli in «stato») "
                       f"usare piao-xls raccogli {' '.join(outside)}")
    sys.exit(FINDINGS if any(r.status == REJECTED for r in results) else OK)


@cli.command("consolida")
@click.argument("paths", metavar="[PERCORSO]...", nargs=-1, required=False, type=click.Path(exists=True))
@plan_option
@click.option("-o", "--output", "summary", default=None, type=click.Path(dir_okay=False),
              help="Il riepilogo. Predefinito: risultati/PIAO-<anno>-Riepilogo.xlsx nell'area di lavoro, "
                   "altrimenti output/<anno>-risultati/PIAO-<anno>-Riepilogo.xlsx")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.option("--json-file", "json_file", type=click.Path(dir_okay=False),
              help="Scrive anche i risultati in JSON in questo file (schema: docs/summary.schema.json).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False),
              help="Scrive anche un CSV per tabella in questa cartella, come dati aperti (UTF-8, «,» tra i campi, "
                   "«.» per i decimali).")
@click.option("--csv-excel", "csv_excel_dir", type=click.Path(file_okay=False),
              help="Scrive anche un CSV per tabella in questa cartella per Excel in italiano (UTF-8 con BOM, «;» tra "
                   "i campi, «,» per i decimali).")
@click.option("--prefer-newest", is_flag=True,
              help="Fuori da un'area di lavoro: se due file dello stesso settore hanno valori diversi, usa quello "
                   "salvato per ultimo. In un'area di lavoro conta sempre il file inviato per ultimo, come dice "
                   "«stato».")
@decisions_option
@history_option
@click.option("--jobs", metavar="N", type=click.IntRange(1, 64), default=lambda: min(64, os.cpu_count() or 1),
              show_default="numero di processori", help="Legge i file in N processi paralleli.")
def consolidate(paths: tuple[str, ...], plan_file: str | None, summary: str | None, as_json: bool,
                json_file: str | None, csv_dir: str | None, csv_excel_dir: str | None, prefer_newest: bool,
                decisions_file: str | None, history_files: tuple[str, ...],
                jobs: int) -> None:
    """Legge ogni modulo restituito in PERCORSO e scrive il riepilogo di fine anno.

    PERCORSO sono file o cartelle (lette con le sottocartelle); in un'area di lavoro, senza
    PERCORSO, la cartella ricevuti. Codice di uscita 0 quando ogni settore è valutato da un
    modulo accettato, 1 altrimenti, 2 per errori d'uso.

    \b
    Esempio:
      piao-xls consolida ricevuti/ -o risultati/riepilogo.xlsx --json-file risultati.json --csv-excel csv/
    """
    _batch_process()
    from .core import italian
    from .results.consolidate import consolidate as run
    from .results.export import to_json_dict, write_csv, write_csv_excel, write_json
    from .results.summary import write_summary
    from .results.tables import SECTOR_STATUS_IT, label
    from .workspace.year import record_summary, summary_file

    if csv_dir and csv_excel_dir and Path(csv_dir).resolve() == Path(csv_excel_dir).resolve():
        raise UsageProblem("--csv e --csv-excel scrivono file con gli stessi nomi: indicare due cartelle diverse")
    _refuse_other_kind(decisions_file, "--decisions", ("text", "xlsx", "ods"),
                       "le decisioni del Nucleo (un file YAML o una cartella di lavoro con il foglio «Decisioni»)")
    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    if not paths:
        if s is None:
            raise UsageProblem("indicare almeno un file o una cartella (fuori da un'area di lavoro)")
        paths = tuple(_year_received(s))  # never a monitoring round's returns
    known, late = _versions_for(s, p)
    earlier, left_out = _earlier(s, p, history_files)
    with _Progress(enabled=not as_json and sys.stderr.isatty()) as progress:
        c = run(list(paths), p, prefer_newest=prefer_newest, jobs=jobs, progress=progress, decisions=decisions_file,
                versions=known, **_year_returns(s, p))
    c.found.extend(late)  # the timeline check, for the Nucleo (docs/revisions.md)
    c.earlier = earlier  # each indicator's values over the years
    c.found.extend(left_out)
    if known:  # the Nucleo's annex: every version, every change, which form was on which version
        from .workspace.versions import forms_on_versions, write_book

        write_book(s, known, forms_on_versions(c.sources, known))
    out = Path(summary) if summary else summary_file(s, p)
    write_summary(c, out)
    if json_file:
        write_json(c, json_file)
    if csv_dir:
        write_csv(c, csv_dir)
    if csv_excel_dir:
        write_csv_excel(c, csv_excel_dir)
    if s is not None:
        with _ledger(s) as led:
            record_summary(led, out, paths, c.ok, c.evaluation)
    if as_json:
        _print_json(to_json_dict(c))  # the same document as --json-file
    else:
        for sec in c.sectors:
            # as published: the band goes with the figure printed next to it
            score = (f"{italian.number(sec['score'], p.scoring.precision)} ({sec['band']})"
                     if sec["score"] is not None else "-")
            click.echo(f"{sec['code']:4} {score:>12}  {label(SECTOR_STATUS_IT, sec['status'])}")
            _echo_counts(c, sec["code"])
        errors = sum(1 for f in c.findings if f["severity"] == "error")
        _echo_decisions(c)
        _echo_skipped(c.skipped)
        click.echo(f"{_plural(len(c.results), 'file letto', 'file letti')}, "
                   f"{_plural(len(c.skipped), 'ignorato', 'ignorati')}, "
                   f"{_plural(errors, 'segnalazione di errore', 'segnalazioni di errore')}; riepilogo: {out}")
    sys.exit(OK if c.ok else FINDINGS)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True), metavar="[PERCORSO]...")
@plan_option
@click.option("--results", "results_file", type=click.Path(exists=True, dir_okay=False),
              help="Usa il JSON dei risultati scritto da «consolida --json-file» invece di leggere i PERCORSI.")
@decisions_option
@click.option("--prefer-newest", is_flag=True,
              help="Fuori da un'area di lavoro: se due file dello stesso settore hanno valori diversi, usa quello "
                   "salvato per ultimo. In un'area di lavoro conta sempre il file inviato per ultimo, come dice "
                   "«stato».")
@click.option("-o", "--output", "docx_file", default=None, type=click.Path(dir_okay=False),
              help="Il file .docx da scrivere (il .pdf va accanto). Predefinito: risultati/ nell'area di lavoro, "
                   "altrimenti output/<anno>-risultati/PIAO-<anno>-Relazione-Performance.docx")
@click.option("--no-pdf", is_flag=True, help="Scrive solo il .docx (il PDF richiede LibreOffice).")
@history_option
@click.option("--jobs", metavar="N", type=click.IntRange(1, 64), default=lambda: min(64, os.cpu_count() or 1),
              show_default="numero di processori", help="Legge i file in N processi paralleli.")
def relazione(paths: tuple[str, ...], plan_file: str | None, results_file: str | None, decisions_file: str | None,
              prefer_newest: bool, docx_file: str | None, no_pdf: bool, history_files: tuple[str, ...],
              jobs: int) -> None:
    """Scrive la bozza del capitolo sulla performance della Relazione sulla Performance (.docx e .pdf).

    Dai moduli restituiti nei PERCORSI (come «consolida»; in un'area di lavoro, predefinita la
    cartella dei file ricevuti) o dal JSON di un consolidamento (--results): la presentazione, il
    metodo, i risultati dell'ente e di ogni settore con gli indicatori e la spiegazione di ogni
    scostamento, le decisioni del Nucleo, le conclusioni. Accanto, l'allegato tecnico per il Nucleo
    (verifiche, anomalie, file esaminati). Il PDF e i numeri di pagina dell'indice sono di
    LibreOffice senza interfaccia.

    \b
    Esempio:
      piao-xls relazione ricevuti/ --decisions decisioni.yaml
      piao-xls relazione --results risultati.json -o relazione.docx
    """
    from .results.consolidate import consolidate as run
    from .results.relazione import RelazioneError, annex_path, load_results, results_of, write_relazione
    from .workspace.year import relazione_file

    _refuse_other_kind(results_file, "--results", ("text",),
                       "il JSON dei risultati: scriverlo con «piao-xls consolida --json-file risultati.json»")
    _refuse_other_kind(decisions_file, "--decisions", ("text", "xlsx", "ods"),
                       "le decisioni del Nucleo (un file YAML o una cartella di lavoro con il foglio «Decisioni»)")
    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    if not paths and not results_file and s is not None:
        paths = tuple(_year_received(s))  # never a monitoring round's returns
    if not paths and not results_file:
        raise UsageProblem("indicare le cartelle dei moduli ricevuti (PERCORSO) oppure --results FILE.json "
                           "(fuori da un'area di lavoro non c'è una cartella predefinita)")
    if paths and results_file:
        raise UsageProblem("indicare le cartelle dei moduli ricevuti (PERCORSO) oppure --results, non entrambi")
    if results_file and decisions_file:
        raise click.UsageError("con --results le decisioni sono quelle già applicate nel consolidamento: "
                               "rieseguire consolida con --decisions")
    earlier, left_out = _earlier(s, p, history_files)
    try:
        if results_file:
            data = load_results(results_file, p)
            if history_files or (earlier and "history" not in data):  # else the years the results already hold
                from .core.history import history_of

                data["history"] = history_of(p.year, data["indicators"], earlier)
        else:
            known, late = _versions_for(s, p)
            with _Progress(enabled=sys.stderr.isatty()) as progress:
                c = run(list(paths), p, prefer_newest=prefer_newest, jobs=jobs, progress=progress,
                        decisions=decisions_file, versions=known, **_year_returns(s, p))
            c.found.extend([*late, *left_out])
            c.earlier = earlier
            _echo_decisions(c)
            data = results_of(c)
        out = Path(docx_file) if docx_file else relazione_file(s, p)
        docx, pdf = write_relazione(data, p, out, pdf=not no_pdf)
    except RelazioneError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"scritto {docx}" + (f" e {pdf}" if pdf else " (PDF non richiesto)"))
    extra = annex_path(docx)
    click.echo(f"allegato tecnico per il Nucleo di Valutazione: {extra}"
               + (f" e {extra.with_suffix('.pdf')}" if pdf else ""))


def _year_received(settings) -> list[str]:
    """The year-end returns in the workspace: ricevuti/ without the monitoring rounds' folders."""
    from .workspace.rounds import year_received

    return [str(x) for x in year_received(settings)]


def _year_returns(settings, plan) -> dict:
    """In a workspace, what ``consolida`` and ``relazione`` need from the ledger to apply the year's rule (the
    return sent last counts, as ``stato`` says): when each file was sent, the returns that could not be read,
    the office's choices. Outside one, nothing: ``--prefer-newest`` keeps its meaning."""
    if settings is None:
        return {}
    from .workspace.versions import cutoff
    from .workspace.year import year_provenance

    with _ledger(settings) as led:
        provenance, unreadable, chosen = year_provenance(led, plan)
    return {"provenance": provenance, "unreadable": unreadable, "chosen": chosen, "cutoff": cutoff(settings)}


def _echo_counts(c, code: str) -> None:
    """Which file counts for a sector, when an earlier one was superseded (the correction loop)."""
    if c.evaluation is None:
        return
    sr = c.evaluation.sector(code)
    for used in sr.used:
        mine = {Path(x.provenance.file).name for x in sr.superseded if x.source == used.source}
        old = mine - {Path(used.provenance.file).name}
        if old:
            click.echo(f"     conta: {_printable(Path(used.provenance.file).name)} (inviato per ultimo; "
                       f"sostituisce {_plural(len(old), 'file precedente', 'file precedenti')})")


def _refuse_other_kind(path: str | None, option: str, allowed: tuple[str, ...], what: str) -> None:
    """Exit 2 when ``path`` is a PDF, a Word file, an image... instead of ``what``: say what it is."""
    if not path:
        return
    from .sheetio.filekind import describe, sniff_file

    try:
        kind = sniff_file(path)
    except OSError:
        return  # the command's own reading says why
    if kind not in allowed:
        raise UsageProblem(f"{option} {path}: il file è {describe(kind)}, non {what}")


def _echo_decisions(c) -> None:
    """One line on the decisions: none is applied silently."""
    nucleo = [d for d in c.decisions if d["origin"] == "nucleo"]
    applied = sum(1 for d in nucleo if d["applied"])
    refused = sum(1 for f in c.findings if f["code"] == "DEC-INVALID")
    plan = sum(1 for d in c.decisions if d["origin"] == "piano" and d["applied"])
    if nucleo or refused or plan:
        click.echo(f"{_plural(applied, 'decisione del Nucleo applicata', 'decisioni del Nucleo applicate')}, "
                   f"{_plural(refused, 'non applicata', 'non applicate')} (DEC-INVALID); "
                   f"{_plural(plan, 'obiettivo escluso', 'obiettivi esclusi')} dal piano stesso (nessun target misurabile)")


def _findings_words(findings) -> str:
    """«nessuna segnalazione», «1 segnalazione: 1 errore», «3 segnalazioni: 1 errore, 2 avvisi»."""
    if not findings:
        return "nessuna segnalazione"
    errors = sum(1 for f in findings if f.severity == "error")
    parts = [_plural(errors, "errore", "errori")] if errors else []
    if len(findings) - errors:
        parts.append(_plural(len(findings) - errors, "avviso", "avvisi"))
    return f"{_plural(len(findings), 'segnalazione', 'segnalazioni')}: {', '.join(parts)}"


def _plural(n: int, one: str, many: str) -> str:
    from .core.italian import plural

    return plural(n, one, many)


def _echo_skipped(skipped) -> None:
    """What each file left out is (a PDF, a Word file...), with what to do."""
    from .sheetio.filekind import form_advice, sniff_file

    for path in skipped[:50]:
        try:
            why = form_advice(sniff_file(path))
        except OSError as e:
            from .sheetio.oserrors import os_reason

            why = os_reason(e)
        click.echo(f"{_printable(str(path))}: ignorato: {why}")


def _printable(text: str) -> str:
    """Text from a file or a file name, with control characters and invalid UTF-8 escaped (one line)."""
    from .sheetio.text import printable

    return printable(text)


class _Progress:
    """A progress bar on stderr for long runs (only on a terminal); a callable ``progress(done, total)``."""

    MIN_FILES = 20

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: Any = None  # a click progress bar, once there is enough to show
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < self.MIN_FILES:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="lettura", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


# --- monitoring rounds (docs/monitoring.md) --------------------------------------------------------------------


@cli.group("monitoraggio")
def monitoring() -> None:
    """Il monitoraggio intermedio degli obiettivi, per data (per esempio al 30/06 e al 30/09).

    \b
    Esempio:
      piao-xls monitoraggio apri 30/06/2025
      piao-xls monitoraggio rapporto 30/06/2025
    """


def _round_date(text: str, plan) -> date:
    from .core.rounds import round_problem
    from .workspace.settings import parse_day

    try:
        day = parse_day(text)
    except ValueError as e:
        raise UsageProblem(f"DATA: {e}") from e
    if round_problem(plan, day):
        raise UsageProblem(f"DATA: il monitoraggio al {day:%d/%m/%Y} non cade nell'anno del piano ({plan.year})")
    return day


@monitoring.command("apri")
@click.argument("data", metavar="DATA")
@plan_option
@click.option("-o", "--output", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Cartella; i moduli vanno in OUTPUT/<anno>/monitoraggio-<data>/. Predefinito: la cartella moduli "
                   "dell'area di lavoro, fuori da un'area di lavoro «output».")
@click.option("--password", metavar="TESTO", envvar="PIAO_XLS_PASSWORD", default="", show_envvar=True,
              help="Password facoltativa di protezione dei fogli.")
@click.option("--force", is_flag=True, help="Sovrascrive anche i moduli che contengono già valori compilati.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def monitoring_open(data: str, plan_file: str | None, out_dir: str | None, password: str, force: bool,
                    as_json: bool) -> None:
    """Apre un monitoraggio alla DATA (gg/mm/aaaa): scrive i moduli di monitoraggio.

    Un modulo per settore (e per il Nucleo di Valutazione e le fonti esterne, se hanno indicatori), con le
    stesse schede dei moduli di fine anno: per ogni indicatore il valore alla data (o «non ancora
    misurabile»), per ogni obiettivo lo stato, l'avanzamento, la causa dello scostamento, l'azione
    correttiva, la revisione proposta e le evidenze. Nell'area di lavoro i moduli sono precompilati con le
    risposte del monitoraggio precedente (ricevuti/monitoraggio-<data>/).

    \b
    Esempio:
      piao-xls monitoraggio apri 30/06/2025
    """
    from .forms.generate import RefuseOverwrite, generate_round
    from .returns.monitoring import read_round_workbook
    from .workspace.rounds import forms_folder, previous_returns

    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    day = _round_date(data, p)
    target = forms_folder(s, p, day, out_dir)
    before, previous = previous_returns(s, p, day)

    def keep(path: Path) -> str | None:
        res = read_round_workbook(path, p, day)
        filled = sum(x.filled for x in res.sectors.values())
        return f"{path} contiene già {filled} valori compilati" if filled and not previous else None

    try:
        written = generate_round(p, day, target, password, previous, None if force else keep)
    except RefuseOverwrite as e:
        raise UsageProblem(str(e)) from e
    if s is not None:
        from .workspace.year import record_generated

        with _ledger(s) as led:
            record_generated(led, p, written, day.isoformat(), "monitoraggio-apri",
                             previous=before.isoformat() if before else "")
    if as_json:
        _print_json({"round": day.isoformat(), "previous": before.isoformat() if before else None,
                     "files": [w.__dict__ for w in written]})
        return
    _echo_written(written)
    if before:
        click.echo(f"precompilati con le risposte del monitoraggio al {before:%d/%m/%Y} "
                   f"({_plural(len(previous), 'modulo', 'moduli')})")


@monitoring.command("rapporto")
@click.argument("data", metavar="DATA")
@click.argument("paths", nargs=-1, metavar="[FILE|CARTELLA]...")
@plan_option
@click.option("--precedente", "previous", multiple=True, metavar="FILE|CARTELLA",
              help="Le risposte del monitoraggio precedente, per il confronto (nell'area di lavoro: trovate da sé).")
@click.option("-o", "--output", "output", default=None, metavar="FILE.xlsx",
              help="Il rapporto (la .docx e il .pdf accanto). Predefinito: risultati/PIAO-<anno>-Monitoraggio-<data>.xlsx.")
@click.option("--no-pdf", is_flag=True, help="Non scrive il .pdf (che richiede LibreOffice).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def monitoring_report(data: str, paths: tuple[str, ...], plan_file: str | None, previous: tuple[str, ...],
                      output: str | None, no_pdf: bool, as_json: bool) -> None:
    """Legge le risposte del monitoraggio alla DATA e scrive il rapporto per la Giunta e il Nucleo.

    Le risposte sono i moduli restituiti (file o cartelle; nell'area di lavoro, predefinita la cartella
    ricevuti/monitoraggio-<data>/). Ogni file è controllato come alla fine dell'anno; un modulo di un altro
    monitoraggio o di fine anno è respinto. Il rapporto (cartella di lavoro, .docx e .pdf) riporta lo stato
    di ogni obiettivo e settore, gli obiettivi a rischio con la causa e l'azione correttiva, le revisioni
    proposte e le variazioni rispetto al monitoraggio precedente.

    \b
    Esempio:
      piao-xls monitoraggio rapporto 30/06/2025 ricevuti/monitoraggio-2025-06-30
    """
    from .core.rounds import STATE_IT, RoundState
    from .core.status import STATUS_IT
    from .results.docbuild import ConversionError
    from .results.monitoring import write_round_report
    from .results.relazione import RelazioneError
    from .workspace.rounds import report_file, round_paths

    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    day = _round_date(data, p)
    given = round_paths(s, day, paths)
    if not given:
        raise UsageProblem("nessun modulo da leggere: indicare i file o la cartella delle risposte"
                           + (" (o salvarle in ricevuti/monitoraggio-" + day.isoformat() + "/)" if s else ""))
    missing = [x for x in given if not Path(x).exists()]
    if missing:
        raise UsageProblem(f"file o cartella inesistente: {missing[0]}")
    rev, read = _evaluate_round(s, p, day, given, previous)
    target = Path(output) if output else report_file(s, p, day)
    try:
        written = write_round_report(rev, target, pdf=not no_pdf)
    except (RelazioneError, ConversionError) as e:
        raise UsageProblem(str(e)) from e
    if s is not None:
        from .workspace.rounds import record_round_report

        with _ledger(s) as led:
            record_round_report(led, rev, read, written)
    rejected = [r for r in read.results if r.status == "rejected"]
    if as_json:
        _print_json({"round": day.isoformat(), "previous": rev.previous.isoformat() if rev.previous else None,
                     "files": [r.to_dict() for r in read.results], "report": [str(w) for w in written],
                     "sectors": [{"code": x.code, "state": str(x.state), "received": x.received,
                                  "objectives": [{"id": o.objective_id, "state": str(o.state),
                                                  "progress": o.progress, "change": str(o.change),
                                                  "revision": str(o.report.revision.kind)
                                                  if o.report.revision else None} for o in x.objectives]}
                                 for x in rev.sectors]})
    else:
        for r in read.results:
            click.echo(f"{Path(r.path).name}: {STATUS_IT.get(r.status, r.status)}")
            for f in r.findings[:10]:
                click.echo(f"  {_severity(f.severity)} {f.code}: {_printable(f.message)}"
                           + (f" ({f.sheet}!{f.cell})" if f.cell else ""))
        for x in rev.sectors:
            click.echo(f"{x.code}: {STATE_IT[x.state] if x.received else 'modulo non ricevuto'}"
                       f" (obiettivi a rischio: {x.count(RoundState.AT_RISK)}, critici: {x.count(RoundState.CRITICAL)})")
        for w in written:
            click.echo(f"scritto {w}")
    if rejected:
        sys.exit(1)


def _evaluate_round(s, p, day: date, given: list[str], previous: tuple[str, ...]):
    """The round evaluated on its returns (in a workspace with the ledger's sending times and choices: the return
    sent last counts) and the files read."""
    from .workspace.rounds import evaluate_rounds

    if s is None:
        rev, read, _prev = evaluate_rounds(s, p, day, given, previous)
        return rev, read
    with _ledger(s) as led:
        rev, read, _prev = evaluate_rounds(s, p, day, given, previous, led)
    return rev, read


#: why a proposal was not applied to the draft, as the clerk reads it
PROPOSAL_SKIPPED_IT = {
    "several_indicators": "l'obiettivo ha più indicatori misurabili: indicare nel piano a quale si riferisce",
    "target_not_understood": "il nuovo target non si legge come target (vedere docs/targets.md): scriverlo nel piano",
    "weight_not_a_number": "il nuovo peso non è un numero: scriverlo nel piano",
    "deadline_not_a_date": "la nuova scadenza non è una data gg/mm/aaaa: scriverla nel piano",
}


@monitoring.command("proposte")
@click.argument("data", metavar="DATA")
@click.argument("paths", nargs=-1, metavar="[FILE|CARTELLA]...")
@plan_option
@click.option("-o", "--output", "output", default=None, metavar="FILE.yaml",
              help="La bozza del piano rivisto. Predefinito: risultati/PIAO-<anno>-piano-proposte-<data>.yaml.")
@click.option("--force", is_flag=True, help="Sovrascrive una bozza già scritta.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def monitoring_proposals(data: str, paths: tuple[str, ...], plan_file: str | None, output: str | None, force: bool,
                         as_json: bool) -> None:
    """Scrive la bozza del piano rivisto con le revisioni proposte nel monitoraggio alla DATA.

    Applica le proposte che dicono una cosa sola (un nuovo target per un obiettivo con un solo
    indicatore misurabile, un nuovo peso, una nuova scadenza) ed elenca le altre. I pesi non vengono
    riproporzionati: se non sommano più a 100 la revisione è rifiutata finché non si correggono. La
    bozza, completata e approvata dalla Giunta, si registra con «piao-xls piano revisione».

    \b
    Esempio:
      piao-xls monitoraggio proposte 30/06/2025 -o piano-v2.yaml
    """
    from .core.rounds import REVISION_IT, apply_proposals
    from .plan.planbook import plan_to_yaml
    from .sheetio.atomic import write_text_atomic
    from .workspace.rounds import report_file, round_paths

    s = _settings()
    p = _load_plan_or_exit(plan_file, s)
    day = _round_date(data, p)
    given = round_paths(s, day, paths)
    if not given:
        raise UsageProblem("nessun modulo da leggere: indicare i file o la cartella delle risposte")
    rev, _read = _evaluate_round(s, p, day, given, ())
    draft, done = apply_proposals(p, rev)
    target = Path(output) if output else report_file(s, p, day).with_name(
        f"PIAO-{p.year}-piano-proposte-{day:%d-%m-%Y}.yaml")
    _refuse_overwrite(target, force)
    applied = [a for a in done if not a.reason]
    if applied:
        write_text_atomic(target, plan_to_yaml(draft, f"Bozza del piano {p.plan_id} con le revisioni proposte nel "
                                                      f"monitoraggio al {day:%d/%m/%Y}: da completare e far "
                                                      "approvare dalla Giunta."))
    if as_json:
        _print_json({"round": day.isoformat(), "draft": str(target) if applied else None,
                     "proposals": [{"objective": a.objective_id, "kind": str(a.kind), "value": a.value,
                                    "applied": not a.reason, "reason": a.reason} for a in done]})
        return
    if not done:
        click.echo(f"nessuna revisione proposta nel monitoraggio al {day:%d/%m/%Y}")
    for a in done:
        what = f"{a.objective_id}: {REVISION_IT[a.kind]} «{_printable(a.value)}»"
        click.echo(f"{what} — " + ("applicata" if not a.reason else
                                    f"non applicata: {PROPOSAL_SKIPPED_IT.get(a.reason, a.reason)}"))
    if applied:
        click.echo(f"scritto {target}")
        click.echo(f"dopo l'approvazione: piao-xls piano revisione {target} --atto \"Delibera di Giunta comunale n. …\" "
                   f"--data GG/MM/AAAA --motivo \"Monitoraggio al {day:%d/%m/%Y}\"")


def _aliases(group: click.Group, names: dict[str, str]) -> None:
    """The English names of earlier versions, kept: alias -> Italian name."""
    assert isinstance(group, _Group)
    for alias, name in names.items():
        group.alias(name, alias)


_aliases(cli, {"init": "crea", "generate": "genera", "send": "invia", "collect": "raccogli", "status": "stato",
               "reply": "rispondi", "remind": "sollecita", "check": "controlla", "consolidate": "consolida",
               "plan": "piano"})
_aliases(cli, {"monitor": "monitoraggio"})
_aliases(monitoring, {"open": "apri", "report": "rapporto", "proposals": "proposte"})
_aliases(plan, {"check": "verifica", "template": "modello", "import": "importa", "export": "esporta",
                "adopt": "adozione", "revise": "revisione", "versions": "versioni", "diff": "differenze",
                "next-year": "anno-successivo"})


#: set by :func:`main`: the command is the whole process (not a call from tests or another program), so a batch
#: command may keep the cyclic garbage collector off until the process ends (see piao_xls.core.gcpause)
_WHOLE_PROCESS = False


def _batch_process() -> None:
    """A command that reads a folder of returns, run as the whole process: every object it reads lives until the
    end, so a collection of the cyclic garbage collector would only walk them all again, after each stage and
    once more at exit (about a tenth of ``consolida`` on a large plan), and freeing them one by one at exit is
    another twentieth (see :func:`main`). Called from another program (the tests), nothing changes."""
    if _WHOLE_PROCESS:
        gc.disable()
        end_without_freeing()


def main() -> None:
    global _WHOLE_PROCESS
    _WHOLE_PROCESS = True
    try:
        cli(prog_name="piao-xls")
    except SystemExit as done:
        if ends_without_freeing() and (done.code is None or isinstance(done.code, int)):
            _exit_now(done.code or 0)
        raise


def _exit_now(code: int) -> None:
    """End the process as Python would, without freeing each object first (millions after a large consolidation,
    half a second): the exit handlers run and the standard streams are flushed, then ``os._exit``. Only when this
    is the last thread; otherwise (or if a stream cannot be flushed) the normal exit."""
    import atexit
    import threading

    if threading.active_count() != 1:
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


if __name__ == "__main__":
    main()
