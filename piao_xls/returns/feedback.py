"""The Italian feedback note for the Responsabile of one returned file."""

from __future__ import annotations

from pathlib import Path

from ..core.status import status_it


def feedback_text(result, plan) -> str:
    """An Italian feedback note for the Responsabile of one returned file."""
    lines = [f"Comune di {plan.comune} — PIAO {plan.year}: esito della verifica del file",
             f"File: {Path(result.path).name}", ""]
    lines.append(f"Esito: {status_it(result.status).upper()}")
    if result.sectors:
        lines.append(f"Settori: {', '.join(result.sector_codes)}")
    lines.append("")
    if not result.findings:
        lines.append("Nessuna correzione richiesta. Grazie.")
    else:
        lines.append("Correzioni e verifiche richieste:")
        for i, f in enumerate(result.findings, 1):
            where = f.location.italian() if f.sheet else ""
            where = f"{where}: " if where else ""
            kind = "da correggere" if f.severity == "error" else "avviso"
            lines.append(f"{i}. [{kind}] {where}{f.title}. {_sentence(f.message)}")
        lines.append("")
        lines.append("Correggere il file ricevuto (solo le celle gialle) e restituirlo al Servizio Finanziario.")
    text = "\n".join(lines) + "\n"
    return text.encode("utf-8", "replace").decode("utf-8")  # a file name that is not UTF-8 must not stop the batch


def _sentence(text: str) -> str:
    """A finding's message as a sentence of the note: capital first letter, full stop at the end."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "»")) else text + "."


MAX_NAME_BYTES = 180  # a note's file name (the file system allows 255; atomic writes add a prefix and a suffix)


def _safe_stem(text: str) -> str:
    """A file name part without separators or control characters, cut to whole characters."""
    out = "".join("_" if (ch in "/\\:" or ord(ch) < 32 or ord(ch) == 127 or "\ud800" <= ch <= "\udfff")
                  else ch for ch in text).strip(" .") or "file"
    while len(out.encode("utf-8")) > MAX_NAME_BYTES:
        out = out[:-1]
    return out


def feedback_names(paths: list[str]) -> list[str]:
    """One note name per input file, all different (case-insensitively) even when input names collide.

    ``a/X.xlsx`` and ``b/X.xlsx`` -> ``X-riscontro.txt``, ``X-2-riscontro.txt``; ``X.ods`` ->
    ``X-ods-riscontro.txt`` when ``X-riscontro.txt`` is taken. Very long names are shortened.
    """
    taken: set[str] = set()
    out = []
    for path in paths:
        p = Path(path)
        stem = _safe_stem(p.stem)
        candidates = [stem, _safe_stem(f"{stem}-{p.suffix.lstrip('.')}") if p.suffix else stem]
        name = next((c for c in candidates if f"{c}-riscontro.txt".casefold() not in taken), None)
        n = 2
        while name is None or f"{name}-riscontro.txt".casefold() in taken:
            name = f"{_safe_stem(stem)[:MAX_NAME_BYTES // 4]}-{n}"
            n += 1
        taken.add(f"{name}-riscontro.txt".casefold())
        out.append(f"{name}-riscontro.txt")
    return out
