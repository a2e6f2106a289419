"""The spellings a person may type into an input cell, shared by the live formulas and the reader (pure).

- yes/no: ``YES`` and ``NO`` (compared after trimming and lower-casing: "SI", " Sì " and "si" are yes);
- a value that is not available: ``NOT_AVAILABLE`` ("non disponibile", chosen from the list or typed),
  which needs a note in the «Analisi scostamenti» cell and is reported as such, never as an empty cell.

One list, used by :func:`yes_formula` (the workbook) and :func:`parse_yes_no` (the reader), so that a
workbook never shows a score that the office's check would give differently.
"""

from __future__ import annotations

YES = ("sì", "si", "sí", "si'", "yes", "vero", "true")
NO = ("no", "falso", "false")
NOT_AVAILABLE = "non disponibile"
NOT_AVAILABLE_REASON = "valore non disponibile"  # the reason given for a MISSING indicator whose cell says so
NOT_AVAILABLE_SPELLINGS = ("non disponibile", "n.d.", "n.d", "nd", "n/d")


def _norm(text: object) -> str:
    return " ".join(str(text).split()).lower()


def parse_yes_no(raw: object) -> bool | None:
    """True / False for a yes/no answer, None when it is neither."""
    if isinstance(raw, bool):
        return raw
    t = _norm(raw)
    if t in YES:
        return True
    if t in NO:
        return False
    return None


def is_not_available(raw: object) -> bool:
    """True when a cell says that its value is not available ("non disponibile", "n.d.")."""
    return isinstance(raw, str) and _norm(raw) in NOT_AVAILABLE_SPELLINGS


def yes_formula(ref: str) -> str:
    """An Excel condition, TRUE when the cell ``ref`` holds a yes (any spelling of ``YES``)."""
    spelled = ",".join(f'LOWER(TRIM({ref}))="{s}"' for s in YES)
    return f"OR({ref}=TRUE,{spelled})"


def not_available_formula(ref: str) -> str:
    """An Excel condition, TRUE when the cell ``ref`` says "non disponibile" (any spelling)."""
    spelled = ",".join(f'LOWER(TRIM({ref}))="{s}"' for s in NOT_AVAILABLE_SPELLINGS)
    return f"OR({spelled})"


#: a monitoring round's value that cannot be measured yet at the round's date (accepted only by monitoring forms)
NOT_YET = "non ancora misurabile"
NOT_YET_SPELLINGS = ("non ancora misurabile", "non misurabile", "n.m.")


def is_not_yet(raw: object) -> bool:
    """True when a cell of a monitoring form says that its value cannot be measured yet."""
    return isinstance(raw, str) and _norm(raw) in NOT_YET_SPELLINGS


def not_yet_formula(ref: str) -> str:
    """An Excel condition, TRUE when the cell ``ref`` says «non ancora misurabile» (any spelling)."""
    spelled = ",".join(f'LOWER(TRIM({ref}))="{s}"' for s in NOT_YET_SPELLINGS)
    return f"OR({spelled})"
