"""deadline: done by a date ("Entro il 31/12/2025", "Novembre", "entro il primo semestre"); each started
month of delay (30 days) costs the policy's late penalty."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

from ..model import Rule, ScoringPolicy
from .base import SCORED, InputSpec, Kind, Score, xl_number


class Deadline(Kind):
    name = "deadline"
    order = 40
    label_it = "scadenza"
    units = ("date",)
    default_unit = "date"
    required = ("deadline",)
    percent_params = ()
    fixed_inputs = ("date",)
    doc_it = "100% se completato entro la data; ogni mese (30 giorni) di ritardo iniziato toglie la penalità del piano"

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        return (InputSpec("date", "Data di completamento", "date"),)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        done, due = values["date"], rule.deadline
        if done <= due:
            return SCORED, 1.0, ""
        months_late = math.ceil((done - due).days / 30)
        return SCORED, max(0.0, 1.0 - policy.late_penalty_per_month * months_late), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        a, d = cells[0], cast(date, rule.deadline)  # required: check() refuses a rule without it
        due = f"DATE({d.year},{d.month},{d.day})"
        p = xl_number(policy.late_penalty_per_month)
        return f"IF(INT({a})<={due},1,MAX(0,1-{p}*ROUNDUP((INT({a})-{due})/30,0)))"

    def requirement_it(self, rule: Rule) -> str:
        due = f"{rule.deadline:%d/%m/%Y}" if rule.deadline else "la scadenza"
        return f"la data deve essere entro il {due}; ogni mese di ritardo riduce il risultato"

    def wording(self, rule: Rule) -> str:
        return f"entro il {rule.deadline:%d/%m/%Y}" if rule.deadline else "entro la scadenza"

    def describe(self, rule: Rule) -> str:
        return f"deadline {rule.deadline.isoformat() if rule.deadline else '?'}"


KIND = Deadline()
