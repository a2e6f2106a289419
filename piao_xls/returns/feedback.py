"""The Italian feedback note for the Responsabile of one returned file."""

from __future__ import annotations

from pathlib import Path


def feedback_text(result, plan) -> str:
    """An Italian feedback note for the Responsabile of one returned file."""
    lines = [f"Comune di {plan.comune} — PIAO {plan.year}: esito della verifica del file",
             f"File: {Path(result.path).name}", ""]
    esito = {"accepted": "ACCETTATO", "accepted_with_warnings": "ACCETTATO CON AVVISI", "rejected": "DA CORREGGERE"}
    lines.append(f"Esito: {esito.get(result.status, result.status)}")
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
