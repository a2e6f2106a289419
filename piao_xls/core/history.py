"""Each indicator's values over the years (pure): this year's results next to those of earlier years.

Indicators keep their identifiers across years (``SF-6.1``: sector code and numbers, see docs/revisions.md), so
the results of earlier years (the documents ``consolida --json-file`` writes, as JSON values) are matched to this
year's indicators by identifier. A value is the one the results publish: the value validated by the Nucleo when
it corrected one, else the value reported, else the indicator's state («non rendicontato», «non pervenuto»).
The summary and the Relazione render the same rows (:func:`history_rows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: at most this many years are shown (the latest ones, this year included)
MAX_YEARS = 6


def value_text(row: Mapping[str, object]) -> str:
    """The published value of an indicator row of the results (Italian): validated, reported, or its state."""
    for key in ("validated_it", "actual_it", "status_it"):
        text = row.get(key)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return ""


def _measured(row: Mapping[str, object]) -> bool:
    """Whether a results row has a value (validated or reported), not only a state."""
    return any(isinstance(row.get(k), str) and str(row.get(k)).strip() for k in ("validated_it", "actual_it"))


def history_years(year: int, earlier: Sequence[Mapping[str, object]]) -> list[int]:
    """The years shown, oldest first, this year last (at most :data:`MAX_YEARS`)."""
    years = sorted({int(str(d["year"])) for d in earlier if int(str(d["year"])) < year})
    return [*years, year][-MAX_YEARS:]


def history_rows(year: int, indicators: Sequence[Mapping[str, object]],
                 earlier: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """Per indicator of this year (``indicators``: the results' rows, in plan order) that has a value (not only a
    state) in at least one earlier year: its sector, objective, identifier, description and, per year of
    :func:`history_years`, the value published that year ("" when the indicator was not in that year's plan) and its
    achievement as published; ``note`` says in which years the indicator was described otherwise or measured by another
    rule ("" if never)."""
    years = history_years(year, earlier)
    by_year: dict[int, dict[str, Mapping[str, object]]] = {}
    for doc in earlier:
        rows = doc.get("indicators")
        if isinstance(rows, list):
            by_year[int(str(doc["year"]))] = {str(r.get("indicator")): r for r in rows if isinstance(r, Mapping)}
    by_year[year] = {str(r.get("indicator")): r for r in indicators}
    out: list[dict[str, object]] = []
    for r in indicators:
        iid = str(r.get("indicator"))
        past = [by_year.get(y, {}).get(iid) for y in years[:-1]]
        if not any(p is not None and _measured(p) for p in past):
            continue
        values = []
        for y in years:
            row = by_year.get(y, {}).get(iid)
            values.append({"year": y, "value_it": value_text(row) if row is not None else "",
                           "achievement_it": str(row.get("achievement_it") or "") if row is not None else ""})
        out.append({"sector": r.get("sector", ""), "objective": r.get("objective", ""), "indicator": iid,
                    "description": r.get("description", ""), "target": r.get("target", ""), "values": values,
                    "note": _renamed(r, {y: by_year.get(y, {}).get(iid) for y in years[:-1]})})
    return out


def _renamed(now: Mapping[str, object], past: Mapping[int, Mapping[str, object] | None]) -> str:
    """The years in which the indicator with this identifier was described otherwise, or measured by another rule
    (its values may not compare), in Italian; "" when it never was."""
    def words(row: Mapping[str, object]) -> str:
        return " ".join(str(row.get("description") or "").split()).casefold()

    def when(years: list[int]) -> str:
        return (f"nel {years[0]}" if len(years) == 1 else
                "negli anni " + ", ".join(map(str, years[:-1])) + f" e {years[-1]}")

    rows = [(y, row) for y, row in past.items() if row is not None]
    described = [y for y, row in rows if words(row) and words(row) != words(now)]
    ruled = [y for y, row in rows if row.get("rule") and now.get("rule") and row.get("rule") != now.get("rule")]
    parts = ([f"descrizione diversa {when(described)}"] if described else []) + (
        [f"regola di calcolo diversa {when(ruled)}"] if ruled else [])
    return "; ".join(parts) + ": valori da confrontare con cautela" if parts else ""


def history_of(year: int, indicators: Sequence[Mapping[str, object]],
               earlier: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The results' ``history``: the years shown and :func:`history_rows`."""
    return {"years": history_years(year, earlier), "indicators": history_rows(year, indicators, earlier)}


__all__ = ["MAX_YEARS", "history_of", "history_rows", "history_years", "value_text"]
