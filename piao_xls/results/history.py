"""The results of earlier years, read back to show each indicator's values over the years
(:mod:`piao_xls.core.history`): the JSON documents ``consolida --json-file`` wrote in those years, checked to be
results of this version of piao-xls, of the same comune, of a year before the plan's, one per year."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..core.model import Plan
from .export import ResultsError, check_json


class HistoryError(Exception):
    """An earlier year's results cannot be used (Italian message naming the file)."""


def load_earlier(paths: Sequence[str | Path], plan: Plan) -> list[dict]:
    """The results documents at ``paths``, oldest year first; :class:`HistoryError` for the first that is not one
    (unreadable, not results, of another comune, not of an earlier year, or a year given twice)."""
    out: dict[int, tuple[Path, dict]] = {}
    for p in paths:
        path = Path(p)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            check_json(data)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise HistoryError(f"{path}: risultati di un anno precedente illeggibili ({e})") from e
        except ResultsError as e:
            raise HistoryError(f"{path}: {e}") from e
        year = int(data["year"])
        if str(data.get("comune", "")).strip().lower() != plan.comune.strip().lower():
            raise HistoryError(f"{path}: risultati del Comune di {data.get('comune')!s:.80}, non del Comune di "
                               f"{plan.comune}: indicare i risultati degli anni precedenti dello stesso comune")
        if year >= plan.year:
            raise HistoryError(f"{path}: risultati dell'anno {year}, non di un anno precedente al {plan.year}")
        if year in out:
            raise HistoryError(f"{path}: i risultati del {year} sono già in {out[year][0]}: indicarne uno solo")
        out[year] = (path, data)
    return [out[y][1] for y in sorted(out)]


def earlier_in(root: str | Path) -> list[Path]:
    """The results of earlier years kept in a workspace: every ``.json`` of its ``storico/`` folder."""
    folder = Path(root) / "storico"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


__all__ = ["HistoryError", "earlier_in", "load_earlier"]
