"""Italian messages to the Responsabili: the form to fill, a reply with the feedback note, a reminder.

Every message has a plain-text and an HTML body, and a Message-ID recorded in the ledger.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from ..workspace.settings import Settings

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


TAG = re.compile(r"\[PIAO-(\d{4}) ([^\]\s]+)\]")


def tag(plan, code: str) -> str:
    """The reference every subject of the office carries, e.g. "[PIAO-2025 SF]": mail clients keep the subject
    in a reply or a forward (with "Re:"/"R:"/"I:" before it) even when they give the message a new Message-ID."""
    return f"[PIAO-{plan.year} {code}]"


def party_of_tag(plan, subject: str) -> str:
    """The party code of the last tag of this plan's year in ``subject`` ("" when none names a known party)."""
    codes = {s.code for s in plan.sectors} | {"nucleo", "esterno"}
    found = [m.group(2) for m in TAG.finditer(subject or "") if m.group(1) == str(plan.year) and m.group(2) in codes]
    return found[-1] if found else ""


def with_tag(plan, code: str, subject: str) -> str:
    """``subject`` with the party's tag (unchanged when it already has it)."""
    return subject if party_of_tag(plan, subject) == code else f"{subject} {tag(plan, code)}"


def it_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _domain(settings: Settings) -> str:
    addr = parseaddr(settings.sender or settings.contact_email)[1]
    return addr.rpartition("@")[2] or "piao-xls.invalid"


def _contact(settings: Settings) -> str:
    bits = [b for b in (settings.contact_name, settings.contact_email,
                        f"tel. {settings.contact_phone}" if settings.contact_phone else "") if b]
    return ", ".join(bits) or "il Servizio Finanziario"


def _signature(settings: Settings) -> list[str]:
    return ["Cordiali saluti", settings.contact_name or "Servizio Finanziario", f"Comune di {settings.comune}"]


def _html(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"></head><body>{body}</body></html>'


def _message(settings: Settings, to: str, subject: str, paragraphs: list[str], draft: bool) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender or settings.contact_email
    msg["To"] = one_line(to, 998)
    msg["Subject"] = " ".join(subject.split())  # a line break in a plan text must not break the header
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=_domain(settings))
    if draft:
        msg["X-Unsent"] = "1"  # Outlook opens the .eml as a draft to send
    msg.set_content("\n\n".join(paragraphs) + "\n")
    msg.add_alternative(_html(paragraphs), subtype="html")
    return msg


def what_to_fill(kind: str, source: str) -> str:
    if kind == "source":
        return ("Cosa compilare: solo le celle gialle, cioè il valore di ciascun indicatore la cui misurazione spetta "
                f"{'al Nucleo di Valutazione' if source == 'nucleo' else 'alla fonte esterna indicata'} e, quando il "
                "risultato è inferiore all'obiettivo, l'analisi degli scostamenti. Le altre celle sono bloccate.")
    return ("Cosa compilare: solo le celle gialle del foglio del settore, cioè per ogni indicatore il valore raggiunto "
            "(o la data di conclusione) e, quando il risultato è inferiore all'obiettivo, l'analisi degli "
            "scostamenti; le note sui tempi e sui risultati sono facoltative. Le altre celle sono bloccate.")


def form_message(settings: Settings, plan, code: str, name: str, who: str, to: str, workbook: Path, kind: str,
                 source: str, draft: bool, as_of: date | None = None, due: date | None = None,
                 replaces: str = "") -> EmailMessage:
    """The message that sends a party its form (``as_of``: a monitoring round's, returned by ``due``);
    ``replaces``: the paragraph that says which form of an earlier plan version it replaces (docs/revisions.md)."""
    if as_of is not None:
        return round_form_message(settings, plan, code, name, who, to, workbook, kind, source, draft, as_of, due)
    deadline = it_date(settings.deadline)
    subject = (f"{tag(plan, code)} PIAO {plan.year} – Comune di {plan.comune}: modulo da compilare per {name} "
               f"(entro il {deadline})")
    paras = [
        f"Gentile {who},",
        f"in allegato il modulo per la rendicontazione degli obiettivi di performance del PIAO {plan.year} "
        f"(sottosezione 2.2 «Performance») per {name}: {workbook.name}.",
        *([replaces] if replaces else []),
        what_to_fill(kind, source),
        f"Il modulo compilato va restituito entro il {deadline}, rispondendo a questo messaggio con il file allegato, "
        "senza rinominarlo e senza cambiarne il formato (Excel .xlsx oppure LibreOffice .ods).",
        f"Per qualsiasi domanda: {_contact(settings)}.",
        "\n".join(_signature(settings)),
    ]
    msg = _message(settings, to, subject, paras, draft)
    msg["X-PIAO-Sector"] = code
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=workbook.name)
    return msg


def round_form_message(settings: Settings, plan, code: str, name: str, who: str, to: str, workbook: Path, kind: str,
                       source: str, draft: bool, as_of: date, due: date | None) -> EmailMessage:
    """The form of a monitoring round: the round's date in the subject and the text."""
    when = it_date(as_of)
    by = f" (entro il {it_date(due)})" if due is not None else ""
    subject = (f"{tag(plan, code)} PIAO {plan.year} – Comune di {plan.comune}: monitoraggio al {when}, modulo per "
               f"{name}{by}")
    what = ("il valore di ciascun indicatore affidato "
            f"{'al Nucleo di Valutazione' if source == 'nucleo' else 'alla fonte esterna indicata'} alla data"
            if kind == "source" else
            "per ogni indicatore il valore raggiunto alla data (o «non ancora misurabile») e, per ogni obiettivo, lo "
            "stato (in linea, a rischio, critico), l'avanzamento, la causa di un eventuale scostamento, l'azione "
            "correttiva e, se serve, la revisione proposta")
    paras = [
        f"Gentile {who},",
        f"in allegato il modulo per il monitoraggio intermedio degli obiettivi di performance del PIAO {plan.year} "
        f"al {when} (art. 6 del d.lgs. 150/2009) per {name}: {workbook.name}. Non sostituisce la rendicontazione "
        "di fine anno.",
        f"Cosa compilare: solo le celle gialle, cioè {what}. Le altre celle sono bloccate.",
        (f"Il modulo compilato va restituito entro il {it_date(due)}" if due is not None else
         "Il modulo compilato va restituito") + ", rispondendo a questo messaggio con il file allegato, senza "
        "rinominarlo e senza cambiarne il formato (Excel .xlsx oppure LibreOffice .ods).",
        f"Per qualsiasi domanda: {_contact(settings)}.",
        "\n".join(_signature(settings)),
    ]
    msg = _message(settings, to, subject, paras, draft)
    msg["X-PIAO-Sector"] = code
    msg["X-PIAO-Round"] = as_of.isoformat()
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=workbook.name)
    return msg


_MSG_ID = re.compile(r"<[!-;=?-~]{1,250}>")  # a msg-id: printable ASCII but < and >, in angle brackets
MAX_REFERENCES = 20


def message_ids(text: str, limit: int = MAX_REFERENCES) -> list[str]:
    """The message identifiers in a header from a message (In-Reply-To, References): nothing else of it (no
    line break, no control character, no comment) goes into a header we write; the last ``limit`` kept."""
    return _MSG_ID.findall(text or "")[-limit:]


def one_line(text: str, limit: int = 200) -> str:
    """Text from a message made fit for a header: controls and line breaks as spaces, at most ``limit``."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text or "").split())[:limit]


def reply_message(settings: Settings, plan, to: str, subject: str, in_reply_to: str, references: str,
                  feedback: str, draft: bool, new_form: Path | None = None) -> EmailMessage:
    subject = one_line(subject)
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    ids = message_ids(in_reply_to, 1)
    in_reply_to = ids[0] if ids else ""
    paras = [
        "Gentile Responsabile,",
        "grazie per l'invio. Il file ricevuto è stato verificato e richiede alcune correzioni, elencate qui sotto. "
        "Si prega di correggere il file (solo le celle gialle) e di rispedirlo rispondendo a questo messaggio "
        f"entro il {it_date(settings.deadline)}.",
        feedback.strip(),
        f"Per qualsiasi domanda: {_contact(settings)}.",
        "\n".join(_signature(settings)),
    ]
    if new_form is not None:  # a return on a superseded version of the plan: the form of the version in force
        paras[1] = ("grazie per l'invio. Il file ricevuto è stato compilato su una versione precedente del piano: "
                    "nel frattempo il piano è stato modificato. In allegato il modulo della versione in vigore, con già "
                    "inseriti i valori degli indicatori non cambiati: si prega di compilare quelli indicati qui sotto "
                    "(solo le celle gialle) e di rispedirlo rispondendo a questo messaggio entro il "
                    f"{it_date(settings.deadline)}.")
    msg = _message(settings, to, subject, paras, draft)
    if new_form is not None:
        msg.add_attachment(new_form.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=new_form.name)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join([*(i for i in message_ids(references) if i != in_reply_to), in_reply_to])
    return msg


def reminder_message(settings: Settings, plan, code: str, name: str, who: str, to: str, today: date, status: str,
                     workbook: Path | None, in_reply_to: str, draft: bool, references: str = "",
                     as_of: date | None = None, due: date | None = None) -> EmailMessage:
    """A reminder; ``as_of``: of the monitoring round at that date, whose deadline is ``due``."""
    end = due if as_of is not None and due is not None else settings.deadline
    deadline = it_date(end)
    days = (end - today).days
    when = (f"La scadenza è oggi, {deadline}." if days == 0 else
            f"Mancano {days} giorni alla scadenza del {deadline}." if days > 1 else
            f"Manca un giorno alla scadenza del {deadline}." if days == 1 else
            f"La scadenza del {deadline} è passata da {-days} giorn{'o' if days == -1 else 'i'}.")
    what = ("il modulo restituito è ancora da correggere (vedere il riscontro già inviato)" if status == "rejected"
            else "il modulo compilato non è ancora pervenuto")
    round_words = f" del monitoraggio al {it_date(as_of)}" if as_of is not None else ""
    subject = (f"{tag(plan, code)} Promemoria: PIAO {plan.year} – modulo{round_words} per {name} "
               f"(scadenza {deadline})")
    paras = [f"Gentile {who},",
             f"le ricordiamo che per {name} {what.replace('il modulo', 'il modulo' + round_words, 1)}. {when}",
             what_to_fill("source" if code in ("nucleo", "esterno") else "sector", code) if as_of is None else
             "Cosa compilare: solo le celle gialle, come indicato nel foglio «Istruzioni» del modulo.",
             ("Il modulo è di nuovo in allegato. " if workbook else "") +
             "Si prega di restituirlo compilato rispondendo a questo messaggio.",
             f"Per qualsiasi domanda: {_contact(settings)}.",
             "\n".join(_signature(settings))]
    msg = _message(settings, to, subject, paras, draft)
    msg["X-PIAO-Sector"] = code
    if as_of is not None:
        msg["X-PIAO-Round"] = as_of.isoformat()
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    if workbook:
        msg.add_attachment(workbook.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=workbook.name)
    return msg
