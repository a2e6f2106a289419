"""Sample filled-in values and synthetic plans, for tests, demos and the benchmark (pure)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from .layout import SheetLayout


def sample_values(sheet: SheetLayout, seed: int = 0, year: int = 2025, fill_text: bool = True) -> dict[str, object]:
    """A valid value for every input of ``sheet`` (input key -> value), reproducible from ``seed``."""
    rng = random.Random(f"{seed}:{sheet.name}")
    out: dict[str, object] = {}
    for key, cell in sheet.inputs.items():
        unit = cell.unit
        v = cell.validation
        if unit == "percent":
            hi = float(v.maximum) if v and isinstance(v.maximum, (int, float)) else 1.0
            out[key] = round(rng.choice([hi, hi, rng.uniform(0, hi)]), 4)
        elif unit == "amount":
            out[key] = round(rng.uniform(0, 50000), 2)
        elif unit == "number":
            lo = v.minimum if v and isinstance(v.minimum, (int, float)) and v.minimum > -1e9 else -10
            out[key] = float(rng.randint(int(lo), 200))
        elif unit == "date":
            out[key] = date(year, 1, 1) + timedelta(days=rng.randint(0, 400))
        elif unit == "yes_no":
            out[key] = rng.choice(["Sì", "No"])
        elif unit == "choice" and v is not None:  # a monitoring round's list (state, cause, revision)
            out[key] = rng.choice(v.choices)
        elif fill_text:
            out[key] = f"Nota {rng.randint(1, 999)}: attività svolta come da cronoprogramma."
    return out


def synthetic_plan_yaml(sectors: int = 200, objectives: int = 40, indicators: int = 3, year: int = 2025) -> str:
    """A large valid plan as YAML text: every rule kind appears, weights sum to 100 per sector."""
    targets = ["100%", "<=0", "90% ≤ x ≤ 100%", "Novembre", "Entro il 31/12/2025", "50",
               "+60% rispetto al 2024"]
    base, extra = divmod(100, objectives)
    lines = ["plan_id: synthetic", "comune: Sintetico", f"year: {year}", "title: Piano sintetico", "sectors:"]
    for s in range(1, sectors + 1):
        code = f"S{s:03d}"
        lines += [f"  - code: {code}", f"    name: Settore {s}", f"    short_name: {code} - Settore {s}",
                  f"    responsabile: {{name: Responsabile {s}, title: Dott.}}",
                  "    staff: [{qualifica: Istruttore, categoria: C, unita: 2}]",
                  "    activities: [Attività ordinaria del settore]", "    objectives:"]
        for o in range(1, objectives + 1):
            w = base + (1 if o <= extra else 0)
            lines += [f"      - number: {o}", f"        title: Obiettivo {o} del settore {s}", f"        weight: {w}",
                      "        stakeholder: Cittadini", "        impatto: Miglioramento del servizio",
                      "        risultato: Risultato atteso", "        steps: [{text: Fase unica, tempi: Dicembre}]",
                      "        indicators:"]
            for i in range(indicators):
                t = targets[(s + o + i) % len(targets)]
                desc = "Importo accertato / importo stanziato" if t == "100%" and i == 2 else f"Indicatore {i + 1}"
                tgt = "Accertamento del 100% delle somme stanziate" if desc.startswith("Importo") else t
                lines += ["          - profilo: Efficacia", f"            description: {desc}",
                          f"            target: \"{tgt}\""]
    return "\n".join(lines) + "\n"
