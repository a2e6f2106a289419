"""Every way a return arrives, read from disk: whatever the clerk has, it goes through the one collector.

- a Maildir, an mbox file, a folder of ``.eml`` files, one ``.eml`` (see :func:`.collect.local_messages`);
- ``.msg`` files saved by Outlook for Windows (:mod:`.outlook`);
- workbooks saved by hand (one file, or a folder such as a shared network folder, read with its
  sub-folders): each becomes a message of transport ``cartella`` holding the file, so that it passes the
  same guard, is saved once in ``ricevuti/``, checked and recorded in the ledger as any attachment.

Anything else found in a folder (a PDF, a Word file, an ``.xls``, an image, an archive...) is listed as
skipped with what it is and what to do; it never stops the batch. Nothing is ever changed at the source.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from ..sheetio.filekind import form_advice, sniff_file
from ..sheetio.oserrors import os_reason
from .collect import HAND, MAX_MESSAGE, RawMessage, file_message, local_messages
from .outlook import MsgError, read_msg

XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ODS_MIME = ("application", "vnd.oasis.opendocument.spreadsheet")
IGNORED_NAMES = ("thumbs.db", "desktop.ini", ".ds_store")

#: how a return came in (the ledger's ``transport``), in Italian for ``stato``
TRANSPORT_IT = {"imap": "casella IMAP", "maildir": "Maildir", "mbox": "file mbox", "eml": "messaggio .eml",
                "msg": "messaggio di Outlook (.msg)", HAND: "file salvato a mano"}


class SourceError(ValueError):
    """A source that cannot be read at all (Italian message): nothing was collected."""


@dataclass
class Skipped:
    path: str
    reason: str

    def to_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason}


def hand_message(path: Path, data: bytes, kind: str) -> RawMessage:
    """A workbook saved by hand, as a message of transport ``cartella`` (the same bytes for the same file)."""
    msg = EmailMessage()
    msg["Subject"] = f"file salvato a mano: {path.name}"
    msg["X-PIAO-Origin"] = HAND
    msg.set_content(f"Modulo consegnato come file: {path}\n")
    main, sub = ODS_MIME if kind == "ods" else XLSX_MIME
    msg.add_attachment(data, maintype=main, subtype=sub, filename=path.name)
    msg.set_boundary("piao-xls-" + hashlib.sha256(data).hexdigest()[:24])  # deterministic: a file is collected once
    return RawMessage(msg.as_bytes(), HAND, str(path))


def msg_message(path: Path) -> RawMessage:
    """An Outlook ``.msg`` file as a message of transport ``msg``."""
    return RawMessage(read_msg(path).as_bytes(), "msg", str(path))


def _one(path: Path, kind: str) -> Iterable[RawMessage]:
    """The messages of one file whose kind is known; raises SourceError/MsgError/OSError."""
    if kind in ("xlsx", "ods"):
        data = path.read_bytes()
        return [hand_message(path, data, kind)]
    if kind == "msg":
        return [msg_message(path)]
    if kind == "eml" or path.suffix.lower() == ".eml":
        return [file_message(path, "eml")]  # over the size limit: a finding, read from its headers
    if kind == "text" and _is_mbox(path):
        return local_messages(path)  # a generator: one message in memory at a time
    raise SourceError(form_advice(kind) if kind != "text" else
                      "il file non è un modulo (.xlsx, .ods), né un messaggio (.eml, .msg), né un file mbox")


def _message_file(path: Path, kind: str) -> bool:
    """An .eml or mbox file: read even when large (an mbox one message at a time; an .eml over the size limit
    from its headers, as a finding of its own)."""
    return kind == "eml" or path.suffix.lower() == ".eml" or (kind == "text" and _is_mbox(path))


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


def read_local(source: str | Path) -> tuple[Iterable[RawMessage], list[Skipped]]:
    """The messages at ``source`` (a file or a folder) and the files skipped, with why.

    The messages come one at a time (a folder is walked as they are read); the list of skipped files is
    complete once they have all been read. One file that cannot be read raises :class:`SourceError`
    (Italian message); in a folder, it is skipped.
    """
    source = Path(source)
    if not source.exists():
        raise SourceError(os_reason(FileNotFoundError(2, "", str(source))))
    if source.is_dir():
        if (source / "cur").is_dir() and (source / "new").is_dir():
            return local_messages(source), []
        skipped: list[Skipped] = []
        return _folder(source, skipped), skipped
    try:
        kind = sniff_file(source)
        if source.stat().st_size > MAX_MESSAGE and not _message_file(source, kind):
            raise SourceError(f"file troppo grande ({source.stat().st_size // 1048576} MB)")
        return _one(source, kind), []
    except MsgError as e:
        raise SourceError(str(e)) from e
    except OSError as e:
        raise SourceError(os_reason(e)) from e


def _folder(root: Path, skipped: list[Skipped]) -> Iterator[RawMessage]:
    """Every message and workbook in a folder and its sub-folders (links to folders are not followed), one at
    a time; what cannot be read is added to ``skipped`` with why."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            low = name.lower()
            if low in IGNORED_NAMES or name.startswith((".", "~$")):  # Excel's lock file "~$modulo.xlsx"
                continue
            try:
                if not path.is_file():
                    continue
                kind = sniff_file(path)
                if path.stat().st_size > MAX_MESSAGE and not _message_file(path, kind):
                    skipped.append(Skipped(str(path), f"file troppo grande ({path.stat().st_size // 1048576} MB)"))
                    continue
                messages = _one(path, kind)
            except (SourceError, MsgError) as e:
                skipped.append(Skipped(str(path), str(e)))
                continue
            except OSError as e:
                skipped.append(Skipped(str(path), os_reason(e)))
                continue
            yield from messages
