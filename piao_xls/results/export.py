"""Data for machines: the consolidation as JSON and as CSV (open data, and for Italian Excel).

See docs/summary-data.md (every key and column) and docs/summary.schema.json (the JSON Schema).

* JSON: numbers as numbers at full precision, dates as ISO 8601 strings, the Italian text of a
  figure in a separate ``*_it`` key.
* CSV, two flavours (:data:`OPEN_DATA`: UTF-8, ``,``, ``.`` decimal; :data:`EXCEL_IT`: UTF-8 with BOM,
  ``;``, ``,`` decimal). RFC 4180: CRLF line ends, every text field quoted, quotes doubled; numbers
  and dates are never quoted nor altered. The formula guard touches text fields only: a ``'`` goes
  before ``= + - @`` wherever a spreadsheet could start a cell there — at the start of the field and
  after any ``,``, ``;``, tab, line break or quote inside it (a file opened with the other
  separator, or by a program that splits on tabs or lines, starts cells there).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from ..core.history import history_of
from ..core.model import Plan
from ..sheetio.atomic import write_bytes_atomic, write_text_atomic
from ..sheetio.text import shown_controls
from .consolidate import Consolidation
from .tables import TABLES, decisions, it_date, tables

SCHEMA_ID = "https://piao-xls.invalid/schemas/summary/2"
#: the version of the JSON document (``schema_version``): 2 gives statuses as English codes
SCHEMA_VERSION = 2
#: the keys without which a document is not a consolidation at all
REQUIRED_KEYS = ("plan_id", "year", "sectors", "objectives", "indicators", "findings", "sources")
MAX_CELL = 32000


def clean_text(value) -> str:
    """Text any output can hold: no control characters (but tab and newline; C1 controls and the characters
    that reorder text are shown as escapes, e.g. ``\\u202e``), no lone surrogates
    (file names that are not valid UTF-8), at most :data:`MAX_CELL` UTF-16 code units (Excel's unit)."""
    s = "" if value is None else str(value)
    if not s.isprintable():
        s = "".join(ch for ch in s if ch in "\t\n" or (ord(ch) >= 32 and ord(ch) != 127))
    if not s.isascii():
        s = shown_controls(s)  # C1 controls and bidirectional overrides: visible, never obeyed
        try:
            s.encode("utf-8")  # fails exactly on lone surrogates, at C speed
        except UnicodeEncodeError:
            s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if len(s) > MAX_CELL // 2:
        s = s.encode("utf-16-le")[:2 * MAX_CELL].decode("utf-16-le", "ignore")
    return s


_GUARD = re.compile(r"^(?=[=+\-@\t\r\n])|(?<=[,;\t\r\n\"])(?=[=+\-@])")  # fixed-width look-arounds: linear


def guard_formula(s: str) -> str:
    """``'`` before every ``= + - @`` that could start a spreadsheet cell (start of the text, or after a
    separator, tab, line break or quote), and before a leading tab or line break."""
    return _GUARD.sub("'", s) if s else s


# --- JSON -----------------------------------------------------------------------------------

_PLAIN = (bool, int, type(None))


def _jsonable_dict(d: dict) -> dict:
    """A row: the common values (short printable texts, finite floats, ints, bools, None) kept without a call."""
    out = {}
    for k, v in d.items():
        key = k if type(k) is str else str(k)
        if key[:1] == "_":
            continue
        t = type(v)
        if t is str:
            out[key] = v if len(v) <= MAX_CELL // 2 and v.isprintable() else clean_text(v)
        elif t is float:
            out[key] = v if v - v == 0 else None
        elif t in _PLAIN:
            out[key] = v
        else:
            out[key] = _jsonable(v)
    return out


def _jsonable(value):
    """Plain JSON values: non-finite numbers -> null, dates -> ISO, texts cleaned, other objects -> str."""
    if type(value) is dict:
        return _jsonable_dict(value)
    if isinstance(value, str):
        return clean_text(value) if not value.isprintable() or len(value) > MAX_CELL // 2 else value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return clean_text(value)


def to_json_dict(c: Consolidation) -> dict:
    """The consolidation as JSON values: ``schema_version``, every key of :meth:`Consolidation.to_dict`, with the
    tables' rows extended (``*_it`` texts, ``actual_values``), plus ``comune``, ``title``, ``bands``, ``decisions``."""
    d = {"schema_version": SCHEMA_VERSION, **c.to_dict()}
    d.update(tables(c))
    if c.earlier:  # each indicator's values over the years (core.history), from this year's rows as published
        d["history"] = history_of(c.plan.year, d["indicators"], c.earlier)
    d.setdefault("comune", c.plan.comune)
    d.setdefault("title", c.plan.title)
    d.setdefault("bands", [{"code": b.code, "label": b.label, "min": b.min}
                           for b in sorted(c.plan.scoring.bands, key=lambda b: -b.min)])
    d.setdefault("decisions", decisions(c))
    policy = c.plan.scoring
    d.setdefault("scoring", {"precision": policy.precision, "outcome_thresholds": {
        "reached": policy.reached, "not_reached_below": policy.not_reached_below}})
    return _jsonable(d)


def schema() -> dict:
    """The JSON Schema of the document (docs/summary.schema.json, shipped with the package)."""
    from importlib.resources import files

    return json.loads(files(__package__).joinpath("summary.schema.json").read_text(encoding="utf-8"))


class ResultsError(ValueError):
    """A results document that cannot be read back (message in Italian)."""


def check_json(data: object) -> None:
    """Raise :class:`ResultsError` unless ``data`` is a results document of this version, valid for the schema."""
    import jsonschema

    if not isinstance(data, dict) or any(k not in data for k in REQUIRED_KEYS):
        missing = [k for k in REQUIRED_KEYS if not isinstance(data, dict) or k not in data]
        raise ResultsError(f"non è un file di risultati di «consolidate --json» (mancano: {', '.join(missing)})")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"file dei risultati di un'altra versione di piao-xls (versione dello schema "
                           f"{data.get('schema_version', 1)!s:.20}, attesa {SCHEMA_VERSION}): rieseguire consolidate")
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise ResultsError(_schema_error_it(error))


def _schema_error_it(error) -> str:
    where = list(error.absolute_path)
    if error.validator == "required":
        missing = [k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance]
        what = f"mancano {', '.join(missing)}"
    else:
        what = f"valore non valido {error.instance!r:.40}"
    if len(where) >= 2 and isinstance(where[1], int):
        field = f": «{where[2]}»" if len(where) > 2 else ""
        return f"«{where[0]}» riga {where[1] + 1}{field}: {what}"
    return f"«{'/'.join(str(w) for w in where) or 'documento'}»: {what}"


def from_json(text: str, plan: Plan) -> dict:
    """A document written by :func:`write_json`, read back and checked: valid JSON of this schema version,
    valid for the schema, of ``plan`` (same plan id and fingerprint). Raises :class:`ResultsError`."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ResultsError(f"file dei risultati illeggibile ({e})") from e
    if isinstance(data, dict) and all(k in data for k in REQUIRED_KEYS) and (
            data["plan_id"] != plan.plan_id or data.get("fingerprint", plan.fingerprint) != plan.fingerprint):
        raise ResultsError(f"i risultati sono di un altro piano ({data['plan_id']!s:.80}) o di un'altra versione del "
                           f"piano {plan.plan_id}: indicare il piano usato con --plan")
    check_json(data)
    return data


def write_json(c: Consolidation, path: str | Path) -> None:
    text = json.dumps(to_json_dict(c), ensure_ascii=False, indent=2, allow_nan=False)
    write_text_atomic(path, text + "\n")


# --- CSV ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flavour:
    name: str
    separator: str
    decimal: str
    bom: bool
    iso_dates: bool


OPEN_DATA = Flavour("open data", ",", ".", False, True)
EXCEL_IT = Flavour("Excel (italiano)", ";", ",", True, False)

# table -> (file name, [(column, key in the table row or a function of it, kind)]); kind: text | number | int | date
TEXT, NUMBER, INT, DATE = "text", "number", "int", "date"


def _v(name):
    return lambda r: (r.get("actual_values") or {}).get(name)


def _yes_no(r):
    v = (r.get("actual_values") or {}).get("value")
    return ("Sì" if v else "No") if isinstance(v, bool) else None


def _number_value(r):
    v = (r.get("actual_values") or {}).get("value")
    return None if isinstance(v, bool) else v


def _published(key: str, scale: float = 1.0):
    """A figure as the evaluation published it (``published_<key>``), ``/ scale`` for a fraction."""
    def get(r):
        v = r.get(f"published_{key}")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return None
        return round(v / scale, 12) if scale != 1.0 else v
    return get


def _date_value(r):
    v = (r.get("actual_values") or {}).get("date")
    return v if isinstance(v, str) else None


COLUMNS: dict[str, tuple[str, list[tuple[str, object, str]]]] = {
    "sectors": ("sectors", [
        ("settore", "code", TEXT), ("denominazione", "name", TEXT), ("responsabile", "responsabile", TEXT),
        ("punteggio", _published("score"), NUMBER), ("fascia", "band", TEXT), ("giudizio", "band_label", TEXT),
        ("obiettivi_raggiunti", "objectives_reached", INT),
        ("obiettivi_parzialmente_raggiunti", "objectives_partly", INT),
        ("obiettivi_non_raggiunti", "objectives_not_reached", INT),
        ("obiettivi_non_rendicontati", "objectives_not_reported", INT), ("stato", "status_it", TEXT)]),
    "objectives": ("objectives", [
        ("settore", "sector", TEXT), ("obiettivo", "objective", TEXT), ("numero", "number", INT),
        ("titolo", "title", TEXT), ("peso", "weight", NUMBER), ("peso_applicato", _published("weight_applied"), NUMBER),
        ("raggiungimento", _published("achievement", 100.0), NUMBER), ("punti", _published("points"), NUMBER),
        ("fascia", "band", TEXT), ("stato", "state_it", TEXT), ("esito", "outcome_it", TEXT),
        ("missione_programma_dup", "dup", TEXT)]),
    "indicators": ("indicators", [
        ("settore", "sector", TEXT), ("obiettivo", "objective", TEXT), ("indicatore", "indicator", TEXT),
        ("profilo", "profilo", TEXT), ("descrizione", "description", TEXT), ("target", "target", TEXT),
        ("regola", "rule_it", TEXT), ("fonte", "source_it", TEXT),
        ("valore", _number_value, NUMBER), ("data", _date_value, DATE), ("si_no", _yes_no, TEXT),
        ("numeratore", _v("numerator"), NUMBER), ("denominatore", _v("denominator"), NUMBER),
        ("valore_base", _v("baseline"), NUMBER), ("valore_anno", _v("current"), NUMBER),
        ("valore_testo", "actual_it", TEXT), ("valore_validato", "validated_it", TEXT),
        ("raggiungimento", _published("achievement", 100.0), NUMBER),
        ("stato", "status_it", TEXT), ("analisi_scostamenti", "analysis", TEXT)]),
    "findings": ("findings", [
        ("gravita", "severity_it", TEXT), ("codice", "code", TEXT), ("settore", "sector", TEXT),
        ("file", "file", TEXT), ("foglio", "sheet", TEXT), ("cella", "cell", TEXT),
        ("descrizione", "message", TEXT)]),
    "sources": ("sources", [
        ("file", "path", TEXT), ("stato", "status_it", TEXT), ("tipo", "kind_it", TEXT),
        ("settori", "sectors", TEXT), ("usato_per", "used_for_it", TEXT), ("salvato_il", "saved", DATE),
        ("dimensione_byte", "size", INT), ("sha256", "sha256", TEXT)]),
}
DECISION_COLUMNS: list[tuple[str, object, str]] = [
    ("origine", "origin", TEXT), ("decisione", "kind_it", TEXT), ("settore", "sector", TEXT),
                    ("obiettivo", "objective", TEXT), ("indicatore", "indicator", TEXT),
                    ("valore_precedente", "old_text", TEXT), ("valore_nuovo", "new_text", TEXT),
                    ("motivazione", "reason", TEXT), ("chi", "by", TEXT), ("quando", "date", DATE),
                    ("applicata", "applied_it", TEXT), ("effetto", "effect", TEXT)]


def _text_field(value) -> str:
    s = guard_formula(clean_text(value))
    return '"' + s.replace('"', '""') + '"'


def _number_field(value, fl: Flavour) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "" if value in (None, "") else _text_field(value)
    text = repr(value) if isinstance(value, float) else str(value)
    if text.endswith(".0"):
        text = text[:-2]
    return text.replace(".", fl.decimal)


def _date_field(value, fl: Flavour) -> str:
    """A date (``2025-12-05`` / ``05/12/2025``) or a time (``2025-12-05T10:30:00`` / ``05/12/2025 10:30``);
    a time with an offset is given in UTC (spreadsheets do not read offsets)."""
    if value in (None, ""):
        return ""
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return _text_field(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    if fl.iso_dates:
        return parsed.isoformat() if "T" in str(value) or " " in str(value) else parsed.date().isoformat()
    return it_date(parsed)


def _field(value, kind: str, fl: Flavour) -> str:
    if isinstance(value, bool):
        return _text_field("Sì" if value else "No")
    if kind == TEXT:
        return "" if value is None else _text_field(value)
    if kind == DATE:
        return _date_field(value, fl)
    if kind == INT and isinstance(value, float) and value.is_integer():
        value = int(value)
    return _number_field(value, fl)


def csv_text(rows: list[dict], columns, fl: Flavour) -> str:
    """One table as CSV text (header and rows, CRLF line ends)."""
    lines = [fl.separator.join(_text_field(name) for name, _, _ in columns)]
    for r in rows:
        lines.append(fl.separator.join(_field(key(r) if callable(key) else r.get(key), kind, fl)
                                       for _, key, kind in columns))
    return "\r\n".join(lines) + "\r\n"


def write_csv(c: Consolidation, folder: str | Path, flavour: Flavour = OPEN_DATA) -> list[Path]:
    """One CSV per table in ``folder`` (sectors, objectives, indicators, findings, sources; decisions when
    the consolidation records decisions), with Italian column names. Returns the paths written."""
    t = tables(c)
    out = []
    jobs: list[tuple[str, list[dict], list[tuple[str, object, str]]]] = [
        (COLUMNS[name][0], t[name], COLUMNS[name][1]) for name in TABLES]
    if decisions(c):
        jobs.append(("decisions", decisions(c), DECISION_COLUMNS))
    for file, rows, columns in jobs:
        text = csv_text(rows, columns, flavour)
        path = Path(folder) / f"{file}.csv"
        write_bytes_atomic(path, (b"\xef\xbb\xbf" if flavour.bom else b"") + text.encode("utf-8"))
        out.append(path)
    return out


def write_csv_excel(c: Consolidation, folder: str | Path) -> list[Path]:
    """The CSV for Italian Excel: UTF-8 with BOM, ``;`` between fields, ``,`` as decimal separator."""
    return write_csv(c, folder, EXCEL_IT)


__all__ = ["EXCEL_IT", "OPEN_DATA", "SCHEMA_VERSION", "ResultsError", "check_json", "clean_text", "from_json",
           "guard_formula", "schema", "to_json_dict", "write_csv", "write_csv_excel", "write_json", "write_text_atomic"]
