"""The technical annex to the Relazione sulla Performance, for the Nucleo di Valutazione: .docx (and .pdf).

What the published chapter leaves out, in plain Italian: which plan the results belong to (its identifier and
fingerprint), how every value was checked, every anomaly found (with the file, sheet and cell it is about and
its code), every file read (when it was received, what it was used for, its SHA-256), and where each decision
was recorded. Rendered from the same results as the Relazione (:func:`piao_xls.results.relazione.results_of`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core import italian
from ..core.errors import SEVERITY_IT
from ..core.model import Plan
from ..core.revisions import act_text
from .docbuild import DocBuilder, short
from .tables import FILE_STATUS_IT, label, used_for_it

MAX_FINDINGS = 300  # rows of the anomalies table; the summary workbook lists them all
ERRORS = ("error", "errore")

CHECKS = (
    "ogni file ricevuto è stato aperto in sola lettura, senza eseguirne il contenuto (macro, collegamenti "
    "esterni), entro limiti di dimensione e di struttura; i file originali non sono mai stati modificati;",
    "la scheda è stata riconosciuta come modulo di questo piano (stesso piano, stessa versione) e ne è stata "
    "verificata la struttura: le celle protette (obiettivi, target, pesi, formule) devono essere quelle "
    "generate; ogni alterazione è un'anomalia;",
    "ogni valore è stato riletto e controllato rispetto all'unità e all'intervallo ammesso dal suo indicatore "
    "(percentuale, numero, importo, data, sì/no); un valore dichiarato «non disponibile» è riportato come tale;",
    "il grado di raggiungimento è stato ricalcolato dai valori, senza usare i totali calcolati nella scheda, con "
    "le regole descritte nella Relazione;",
    "per ogni settore conta una sola scheda per fonte (Responsabile, Nucleo di Valutazione, certificazione "
    "esterna); le schede con valori diversi per lo stesso settore sono segnalate;",
    "le decisioni del Nucleo di Valutazione (valori corretti, indicatori non applicabili, obiettivi "
    "neutralizzati) sono state applicate solo se coerenti con i valori rendicontati;",
    "di ogni file letto è conservata l'impronta SHA-256: ricalcolandola si verifica che il file esaminato è "
    "quello elencato qui.",
)


def _when(text: Any) -> str:
    return italian.day(str(text)) if text else "—"


def render_annex(data: dict, plan: Plan) -> bytes:
    """The technical annex as .docx bytes."""
    year, comune = plan.year, plan.comune
    d = DocBuilder(f"Allegato tecnico alla Relazione sulla Performance {year} — Comune di {comune}",
                   f"Comune di {comune} — Allegato tecnico alla Relazione sulla Performance {year}",
                   f"Comune di {comune}")
    d.title(f"Comune di {comune}")
    d.para(f"Allegato tecnico alla Relazione sulla Performance {year}", bold=True, size=15, keep=True)
    d.para("Per il Nucleo di Valutazione: le verifiche svolte sui valori rendicontati, le anomalie rilevate e i "
           "file esaminati.", italic=True)

    d.heading("1. Il piano e i dati", 1)
    fingerprint = str(data.get("fingerprint", plan.fingerprint))
    d.table(["Voce", "Valore"], [
        ["Piano", f"{plan.plan_id} (PIAO {year}, sottosezione 2.2 «Performance»)"],
        ["Impronta del piano (SHA-256)", fingerprint],
        *([["Versione del piano", f"{last.get('version')} ({act_text(last)})"]]
          if (last := next(iter(reversed(data.get("revisions") or [])), None)) else []),
        ["Settori, obiettivi, indicatori",
         f"{len(data['sectors'])}, {len(data['objectives'])}, {len(data['indicators'])}"],
        ["File esaminati", str(len(data["sources"]))],
        ["Decisioni", str(len(data.get("decisions") or []))],
        ["Elaborazione", "piao-xls (consolidamento dei moduli restituiti)"],
    ], [5.2, 11.4], keep_together=True)

    d.heading("2. Come sono stati verificati i valori", 1)
    for text in CHECKS:
        d.bullet(text)

    d.heading("3. Anomalie", 1)
    findings = sorted(data["findings"], key=lambda f: (f.get("severity") not in ERRORS, str(f.get("sector", ""))))
    if not findings:
        d.para("Nessuna anomalia.")
    else:
        errors = sum(1 for f in findings if f.get("severity") in ERRORS)
        found = "È stata rilevata 1 anomalia" if len(findings) == 1 else \
            f"Sono state rilevate {italian.number(len(findings), 0)} anomalie"
        d.para(f"{found} ({italian.plural(errors, 'errore', 'errori')}, "
               f"{italian.plural(len(findings) - errors, 'avviso', 'avvisi')})."
               + (f" Sono elencate le prime {MAX_FINDINGS}; il riepilogo le riporta tutte."
                  if len(findings) > MAX_FINDINGS else ""), keep=True)
        rows = []
        for f in findings[:MAX_FINDINGS]:
            where = Path(str(f.get("file", ""))).name if f.get("file") else ""
            if f.get("sheet"):
                where += f", foglio «{f['sheet']}»" + (f", cella {f['cell']}" if f.get("cell") else "")
            rows.append([SEVERITY_IT.get(f.get("severity"), f.get("severity", "")),
                         str(f.get("sector", "")).replace(",", ", ") or "—", short(where, 120) or "—",
                         short(f.get("message", ""), 400), f.get("code", "")])
        d.table(["Gravità", "Settore", "Dove", "Descrizione", "Codice"], rows, [1.6, 1.5, 4, 7, 2.5])

    d.heading("4. File esaminati", 1)
    d.para("Ogni file letto, con la data di ricezione (data del file nella cartella delle schede ricevute), "
           "l'esito della lettura, l'uso fatto dei suoi valori e l'impronta SHA-256 che lo identifica.",
           keep=True)
    rows = [[short(Path(str(x.get("path", ""))).name, 60), _when(x.get("received") or x.get("saved")),
             label(FILE_STATUS_IT, x.get("status")), used_for_it(str(x.get("used_for", "") or "")) or "—",
             x.get("sha256", "") or "—"] for x in data["sources"]]
    if rows:
        d.table(["File", "Ricevuto il", "Esito", "Usato per", "SHA-256"], rows, [4.2, 2.4, 2.2, 2.6, 5.2])
    else:
        d.para("Nessun file letto.")

    n = 4
    decisions = data.get("decisions") or []
    if decisions:
        n += 1
        d.heading(f"{n}. Dove sono registrate le decisioni", 1)
        rows = [[str(r.get("indicator") or r.get("objective") or r.get("sector", "")), r.get("kind_it", ""),
                 "sì" if r.get("applied") else "no", short(Path(str(r.get("where", "") or "—")).name, 80)]
                for r in decisions]
        d.table(["Oggetto", "Decisione", "Applicata", "Registrata in"], rows, [3, 4, 2, 7.6])
    _versions(d, data, n)
    return d.bytes()


def _versions(d: DocBuilder, data: dict, n: int) -> int:
    """The plan's versions, when the workspace records them (docs/revisions.md): every revision with its act and the
    objectives it changed, the timeline check's flags (``REV-LATE``), and which returned form was made on which
    version (``sources[*].plan_version``)."""
    revisions = [r for r in data.get("revisions") or [] if isinstance(r, dict)]
    forms = [x for x in data["sources"] if isinstance(x.get("plan_version"), int)]
    late = [f for f in data["findings"] if f.get("code") == "REV-LATE"]
    if not (revisions or forms or late):
        return n
    n += 1
    d.heading(f"{n}. Le versioni del piano e la verifica dei tempi", 1)
    if revisions:
        d.para("Il piano è stato modificato nel corso dell'anno con " + (
            "un atto" if len(revisions) == 1 else f"{len(revisions)} atti") + "; i valori sono misurati sulla "
            "versione in vigore alla fine dell'anno.", keep=True)
        rows = [[str(r.get("version", "")), act_text(r), short(str(r.get("reason") or "—"), 200),
                 ", ".join(str(c.get("objective", "")) for c in r.get("changes") or () if isinstance(c, dict))]
                for r in revisions]
        d.table(["Versione", "Atto", "Motivo", "Obiettivi modificati"], rows, [1.8, 5.6, 5, 4.2])
    if late:
        d.para(("Verifica dei tempi: 1 segnalazione" if len(late) == 1 else
                f"Verifica dei tempi: {len(late)} segnalazioni") + " (obiettivi assegnati o modificati dopo il termine "
               "fissato nelle impostazioni o dopo la scadenza che misurano).", keep=True)
        for f in late:
            d.bullet(short(str(f.get("message", "")), 400))
    else:
        d.para("Verifica dei tempi: nessun obiettivo assegnato o modificato dopo il termine fissato nelle "
               "impostazioni.")
    if forms:
        d.para("La versione del piano su cui è stato compilato ogni modulo ricevuto (un modulo di una versione "
               "precedente vale solo per gli indicatori non cambiati da allora).", keep=True)
        rows = [[short(Path(str(x.get("path", ""))).name, 60), str(x.get("sectors", "")).replace(",", ", ") or "—",
                 str(x["plan_version"]) if x["plan_version"] else "non riconosciuta",
                 _when(x.get("received") or x.get("saved"))] for x in forms]
        d.table(["File", "Settori", "Versione del piano", "Ricevuto il"], rows, [6.4, 3, 3.2, 4])
    return n


__all__ = ["render_annex"]
