"""The results of earlier years, read back to show each indicator's values over the years
(:mod:`piao_xls.core.history`): the JSON documents ``consolida --json-file`` wrote in those years, checked to be
results of this version of piao-xls, of the same comune, of a year before the plan's, one per year (any other is
left out with a ``HIST-FILE`` warning)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import WARNING, Finding
from ..core.model import Plan
from .export import ResultsError, check_json


def load_earlier(paths: Sequence[str | Path], plan: Plan) -> tuple[list[dict], list[Finding]]:
    """The results documents at ``paths``, oldest year first, and a ``HIST-FILE`` warning (Italian, naming the file)
    for each one left out: unreadable, not results, of another comune, not of an earlier year, or a year given
    twice (the first file of a year counts). One bad file never stops the others."""
    out: dict[int, tuple[Path, dict]] = {}
    found: list[Finding] = []

    def skip(path: Path, why: str) -> None:
        found.append(Finding("HIST-FILE", WARNING, f"risultati di un anno precedente non usati: {why}",
                             file=str(path)))

    for p in paths:
        path = Path(p)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            check_json(data)
        except ResultsError as e:  # before ValueError, which it is
            skip(path, str(e))
            continue
        except (OSError, UnicodeDecodeError, ValueError) as e:
            skip(path, f"file illeggibile ({e})")
            continue
        year = int(data["year"])
        if str(data.get("comune", "")).strip().lower() != plan.comune.strip().lower():
            skip(path, f"sono del Comune di {str(data.get('comune'))[:80]}, non del Comune di {plan.comune}")
        elif year >= plan.year:
            skip(path, f"sono dell'anno {year}, non di un anno precedente al {plan.year}")
        elif year in out:
            skip(path, f"i risultati del {year} sono già in {out[year][0]}")
        else:
            out[year] = (path, data)
    return [out[y][1] for y in sorted(out)], found


def earlier_in(root: str | Path) -> list[Path]:
    """The results of earlier years kept in a workspace: every ``.json`` of its ``storico/`` folder."""
    folder = Path(root) / "storico"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


__all__ = ["earlier_in", "load_earlier"]
