"""The Italian target grammar: from the target text printed in a PIAO to a :class:`Rule`.

Pure functions. :func:`read_target` reads the **whole** text or raises :class:`TargetError` naming the
part it did not understand; nothing is half-read. It knows numbers as Italians write them (``1.500``,
``1.500,50``, ``€ 50.000``, ``2 milioni``, ``90,5%``, ``n. 12 controlli``, ``30 giorni``), comparisons
in words and symbols (``almeno``, ``non superiore a``, ``oltre``, ``meno di``, ``pari a``, ``≥``, ``<``),
ranges (``tra 10 e 20``, ``90% ≤ x ≤ 100%``, ``90-100%``), changes against a baseline (``riduzione del
10%``, ``+60% rispetto al 2024``, ``da 60 a 20 giorni``, ``dimezzamento``), dates and periods
(``31/12/2025``, ``31 dicembre 2025``, ``entro giugno``, ``I semestre 2025``, ``fine anno``), durations
(``entro 30 giorni dalla richiesta``: at most), yes/no phrases and qualitative targets (a ``giudizio``).
An empty target makes the indicator informative. docs/targets.md is the table of phrases.
:func:`inputs_for` and :func:`explain_it` ask the rule's kind (:mod:`piao_xls.core.rules`).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .model import Rule
from .rules import KINDS, InputSpec, it_number, kind_of

MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
}
MONTH_ABBR = {name[:3]: n for name, n in MONTHS.items()}

def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _two_digit_year(y: int) -> int:
    return 2000 + y if y < 100 else y


def parse_date(text: str, year: int) -> date | None:
    """Find a date in an Italian deadline phrase; a bare month means its last day of ``year``."""
    t = text.strip().lower()
    try:
        m = re.search(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", t)  # ISO 2025-12-31
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.search(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})(?!\d)", t)
        if m:
            d, mo, y = int(m.group(1)), int(m.group(2)), _two_digit_year(int(m.group(3)))
            return date(y, mo, d)
        m = re.search(r"(?<!\d)(\d{1,2})\s*[\-\s]\s*([a-z]{3,9})\s*[\-\s]\s*(\d{2,4})\b", t)
        if m and (m.group(2) in MONTHS or m.group(2)[:3] in MONTH_ABBR):
            mo = MONTHS.get(m.group(2)) or MONTH_ABBR[m.group(2)[:3]]
            return date(_two_digit_year(int(m.group(3))), mo, int(m.group(1)))
        for name, mo in MONTHS.items():
            m = re.search(rf"\b{name}\b(?:\s+(\d{{4}}))?", t)
            if m:
                return _end_of_month(int(m.group(1)) if m.group(1) else year, mo)
    except ValueError:  # 31/02/2025, year 0: no such day
        return None
    return None


# --- the grammar ---------------------------------------------------------------------------------------

L = r"a-zàèéìòóùí"  # letters of Italian words, lower case
_MONTH_ALT = "|".join(MONTHS)
_ABBR_ALT = "|".join(sorted(MONTH_ABBR))
_CONNECTORS = ("di", "del", "della", "dei", "delle", "degli", "dello", "dell'", "per", "da", "dal", "dalla",
               "dall'", "dai", "dalle", "dallo", "in", "nel", "nella", "nei", "a", "al", "alla", "ai", "alle",
               "con", "su", "sul", "sulla", "sui", "sulle")
# words that end a unit of measure: they belong to the grammar, or hedge the number ("circa")
_RESERVED = frozenset((
    "e", "ed", "o", "oppure", "entro", "circa", "ca", "ca.", "rispetto", "tra", "fra", "almeno", "massimo",
    "minimo", "max", "min", "più", "piu", "meno", "non", "oltre", "x", "sì", "si", "no", "anno", "anni",
    "indicativamente", "approssimativamente", "stimato", "stimati", "previsto", "previsti", "presunto",
    "fine", "pari", "superiore", "inferiore", "maggiore", "minore", "uguale", "tolleranza", "valore",
    "semestre", "trimestre", "quadrimestre", "il", "lo", "la", "le", "gli", "i", "l'", "un", "una", "uno",
    *MONTHS, *_CONNECTORS,
))
# a time to complete, in days: "30 giorni", "5 gg. lavorativi dalla richiesta" (not "3 giorni di formazione")
_DURATION = re.compile(r"(?:giorni|giorno|gg\.?|giornate)(?: (?:lavorativi|naturali|solari|consecutivi))?"
                       r"(?: (?:dalla|dal|dall'|dai|dalle|dallo|entro) ?.*)?")
_YEAR_RE = r"(?:19|20)\d\d(?!\d)"
# Italian numbers: thousands with "." (a first group without a leading 0), decimals with ","; a "." followed
# by other than three digits can only be a decimal point ("2.5")
_NUMBER = r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?(?![.\d])|\d+,\d+|\d+\.(?:\d{1,2}|\d{4,})(?![.\d])|\d+(?![.,]?\d)"
_MULTIPLIERS = {"mila": 1e3, "milioni": 1e6, "milione": 1e6, "mln": 1e6, "mln.": 1e6, "mld": 1e9, "mld.": 1e9,
                "miliardi": 1e9, "miliardo": 1e9}


class TargetError(ValueError):
    """The target text cannot be read as a rule; the message names the part not understood."""


@dataclass(frozen=True)
class Reading:
    """A target read by the grammar: the rule, and notes for the plan's author (in Italian)."""

    rule: Rule
    notes: tuple[str, ...] = ()

    def text_it(self) -> str:
        """The interpretation in plain Italian, with its notes."""
        notes = "".join(f" [{n}]" for n in self.notes)
        return f"{explain_it(self.rule)}{notes}"


@dataclass
class _Q:
    """A quantity as printed: value, unit (percent values already divided by 100), measure."""

    value: float
    unit: str  # percent | amount | number
    measure: str | None = None
    duration: bool = False
    bare_year: bool = False  # a bare 19xx/20xx: may be a year


class _Fail(Exception):
    """A production does not apply (the cursor says how far it got)."""


class _Cur:
    """A cursor over the normalized text; ``far`` is the furthest position any attempt reached."""

    def __init__(self, text: str, notes: list[str]):
        self.t, self.i, self.far, self.notes = text, 0, 0, notes

    def skip(self) -> None:
        while self.i < len(self.t) and self.t[self.i] == " ":
            self.i += 1

    def opt(self, pattern: str) -> re.Match[str] | None:
        """Match ``pattern`` at the cursor (after spaces): advance and return the match, or None."""
        self.skip()
        m = _compiled(pattern).match(self.t, self.i)
        if m is None or m.end() == self.i:
            self.far = max(self.far, self.i)
            return None
        self.i = m.end()
        self.far = max(self.far, self.i)
        return m

    def need(self, pattern: str) -> re.Match[str]:
        m = self.opt(pattern)
        if m is None:
            raise _Fail
        return m

    def peek(self, pattern: str) -> bool:
        self.skip()
        return _compiled(pattern).match(self.t, self.i) is not None

    def at_end(self) -> bool:
        self.skip()
        return self.i >= len(self.t)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_END = rf"(?![{L}\d])"  # a word ends here: "entro" does not match the start of "entrate"


@functools.lru_cache(maxsize=1024)
def _W(*words: str) -> str:
    """An alternation of words or phrases, longest first (spaces match any run of spaces); an alternative
    that ends with a letter must end a word."""
    alts = sorted(words, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", " +") + (_END if w[-1].isalpha() else "")
                            for w in alts) + ")"


_A = _W("a", "al", "all'", "allo", "alla", "ai", "agli", "alle")


def _it_float(text: str, notes: list[str]) -> float:
    if "," in text:
        return float(text.replace(".", "").replace(",", "."))
    if re.fullmatch(r"[1-9]\d{0,2}(?:\.\d{3})+", text):
        value = float(text.replace(".", ""))
        english = f", non {it_number(float(text))}" if text.count(".") == 1 else ""
        notes.append(f"«{text}» letto all'italiana: {value:.0f}{english} (il punto separa le migliaia)")
        return value
    if "." in text:
        notes.append(f"«{text}» letto come {it_number(float(text))} (punto decimale)")
    return float(text)


def _qty(c: _Cur, signed: bool = False, allow_measure: bool = True) -> _Q:
    """A quantity: ``n. 12 controlli``, ``€ 50.000``, ``2 milioni di euro``, ``90,5%``, ``30 giorni dalla
    richiesta``."""
    c.opt(r"(?:n\.|nr\.|n°|num\.|numero)(?= *[\d€])")
    euro = c.opt(r"€|euro(?= *\d)") is not None
    m = c.need((r"[-+]? *" if signed else "") + f"(?:{_NUMBER})")
    text = m.group().replace(" ", "")
    sign = -1.0 if text.startswith("-") else 1.0
    value = sign * _it_float(text.lstrip("+-"), c.notes)
    mult = c.opt(_W(*_MULTIPLIERS))
    if mult:
        value *= _MULTIPLIERS[mult.group()]
    bare_year = not mult and re.fullmatch(_YEAR_RE, text) is not None
    if c.opt("%"):
        q = _Q(value / 100, "percent")
        if allow_measure and c.peek(_W(*_CONNECTORS) + f" *[{L}]"):
            q.measure = _measure(c, first_connector=True, dates=True)
        return q
    if euro or c.opt(r"(?:di +)?(?:€|euro" + _END + ")"):
        return _Q(value, "amount")
    q = _Q(value, "number", bare_year=bare_year)
    if allow_measure:
        q.measure = _measure(c)
        if q.measure:
            q.bare_year = False
            q.duration = _DURATION.fullmatch(q.measure) is not None
    return q


_DATE_TOKEN = (r"\d{1,2}[/.]\d{1,2}(?:[/.](?:\d{4}|\d{2}))?(?![\d/.])|(?:19|20)\d\d(?!\d)|\d{1,2}(?:°|º)? +(?:"
               + "|".join(MONTHS) + r")(?: +(?:19|20)\d\d)?(?![\w])")


# the longest measure read after a number, in words: a real plan prints "procedure critiche di interesse per
# cittadini ed imprese semplificate e digitalizzate" (11 words)
_MEASURE_WORDS = 16
# "350 ulteriori procedure", "almeno altre 100 PA": a number of more things than a baseline the text does not give
_MORE_WORDS = frozenset(("ulteriori", "ulteriore", "altri", "altre", "altro", "altra", "aggiuntivi", "aggiuntive",
                         "aggiuntivo", "aggiuntiva"))


def _measure(c: _Cur, first_connector: bool = False, dates: bool = False) -> str | None:
    """What is counted, after a number: ``controlli``, ``giorni dalla richiesta``, ``ore di formazione``; with
    ``dates``, what a share is of may name a date (``40% degli avvisi in scadenza al 31/12``)."""
    words: list[str] = []
    word = rf"[{L}][{L}'.]*(?:-[{L}][{L}'.]*)*"  # "self-assessment", "cert-agid"
    while True:
        save, far = c.i, c.far
        if words and c.opt(_W("all'anno", "per anno", "l'anno", "ogni anno", "nell'anno")):  # "3 incontri all'anno"
            words.append(c.t[save:c.i].strip())
            break
        if words or first_connector:
            conn = c.opt(_W(*_CONNECTORS))
            if conn is not None:
                w = c.opt(word)
                if w is None and dates and words:
                    w = c.opt(_DATE_TOKEN)
                if w is None or w.group() in _RESERVED:
                    c.i, c.far = save, max(far, save)
                    break
                words += [conn.group(), w.group()]
                continue
            if first_connector and not words:
                break
            # "campagne di promozione e diffusione dei servizi", "medici di famiglia alimentano il fascicolo":
            # a conjunction or an article inside what is counted, followed by a plain word
            joint = c.opt(_W("e", "ed", "o", "il", "lo", "la", "i", "gli", "le", "l'"))
            if joint is not None:
                w = c.opt(word)
                if w is None or w.group() in _RESERVED or w.group() in _DIRECTION_WORDS or w.group() in _NOT_JOINED:
                    c.i, c.far = save, max(far, save)  # "e 2 verbali", "e riduzione dei tempi": not the measure
                    break
                words += [joint.group(), w.group()]
                continue
        w = c.opt(word)
        if w is None or w.group() in _RESERVED or (w.group().endswith(".") and w.group() != "gg.") or (
                w.group() == "ogni" and c.peek(r"[\d€]")):  # "1 sopralluogo ogni 50 pratiche": a rate
            c.i, c.far = save, max(far, save)
            break
        if not words and w.group() in _MORE_WORDS:
            raise TargetError(f"«{w.group()}» indica quanti in più rispetto a un valore di partenza che il target non "
                              "dice: scriva il valore di partenza e quello da raggiungere («da 150 a 200 ...») o il "
                              "totale da raggiungere («almeno 200 ...»)")
        words.append(w.group())
        if len(words) >= _MEASURE_WORDS:
            break
    return " ".join(words).replace("' ", "'") or None


def _rule_of(kind: str, q: _Q, **kw: Any) -> Rule:
    return Rule(kind, unit=q.unit, target=q.value, measure=q.measure, **kw)


@functools.lru_cache(maxsize=1)
def _comparisons() -> tuple[tuple[str, str], ...]:
    """(kind, pattern of its phrases) of every registered kind that a "<phrase> <quantity>" target can state."""
    return tuple((k.name, _W(*_articulated(k.phrases))) for k in KINDS.values() if k.phrases)


def _articulated(phrases: tuple[str, ...]) -> list[str]:
    """Phrases with the articulated forms of a final preposition: "superiore a" -> "superiore all'"."""
    out = list(phrases)
    # plural adjectives as printed after a plural subject: "tempi medi non superiori a 20 giorni"
    out += [re.sub(r"\b(superiore|inferiore|maggiore|minore)\b", lambda m: m.group(1)[:-1] + "i", p)
            for p in phrases if re.search(r"\b(?:superiore|inferiore|maggiore|minore)\b", p)]
    for p in list(out):
        if p.endswith(" a"):
            out += [p + "l", p + "lla", p + "ll'", p + "i", p + "lle", p + "gli", p + "llo"]
        elif p.endswith(" di"):
            out += [p[:-1] + "el", p[:-1] + "ella", p[:-1] + "ell'", p[:-1] + "ei", p[:-1] + "egli", p[:-1] + "elle"]
    return list(dict.fromkeys(out))


_ARTICLE = _W("il", "lo", "la", "l'", "i", "gli", "le")
# words before a comparison symbol name what is measured: "tempo medio di risposta ≤ 20 giorni"
_FREE_SUBJECT = rf"(?:[{L}][{L}'.]*\s+){{0,7}}[{L}][{L}'.]*(?=\s*(?:<=|>=|<|>|=|±))"


_SUBJECT = _W("tempo medio", "tempo massimo", "tempi medi", "tempo", "durata media", "durata massima", "durata",
              "valore", "valore medio", "indicatore", "indice", "tasso", "percentuale", "media", "ritardo medio",
              "ritardo", "giorni", "x")


def _comparison(c: _Cur, year: int) -> Rule:
    if c.opt(_FREE_SUBJECT) is not None or c.opt(_SUBJECT) is not None:
        c.opt(":")
    else:
        c.opt(_ACTION)  # "Pubblicazione entro 30 giorni"
    for kind, words in _comparisons():
        save = c.i
        if c.opt(words) is None:
            continue
        c.opt(":")
        c.opt(_ARTICLE + r"(?= *[\d€n])")  # "almeno il 90%", "non inferiore all'80%"
        try:
            q = _qty(c, signed=True)
        except _Fail:
            c.i = save
            continue
        if kind == "at_most" and q.bare_year and c.t[save:c.i].strip().startswith("entro"):
            raise _Fail  # "entro il 2025" is a date
        if kind == "equal" and c.opt(r"±|\+/-|\+-|" + _W("con tolleranza", "con una tolleranza", "tolleranza")):
            c.opt(_W("di", "del", "pari a"))
            tol = _qty(c)
            if tol.unit != q.unit and not (tol.unit == "number" and q.unit != "percent"):
                raise _Fail
            return _rule_of("equal", q, tolerance=abs(tol.value))
        if kind == "at_most" and c.opt(r"\( *valore peggiore accettabile"):
            worst = _qty(c, signed=True)
            c.need(r"\)")
            if worst.unit != q.unit:
                raise _Fail
            return _rule_of("at_most", q, worst=worst.value)
        return _rule_of(kind, q)
    raise _Fail


def _unit_of(a: _Q, b: _Q) -> tuple[str, str | None]:
    units = {a.unit, b.unit} - {"number"}
    if len(units) > 1:
        raise _Fail
    if a.measure and b.measure and a.measure != b.measure:
        raise _Fail
    return (units.pop() if units else "number"), (b.measure or a.measure)


def _scale(q: _Q, unit: str) -> float:
    return q.value / 100 if unit == "percent" and q.unit == "number" else q.value


def _range(c: _Cur, year: int) -> Rule:
    c.opt(_SUBJECT)
    if c.opt(_W("compreso tra", "compresa tra", "compreso fra", "compresa fra", "tra", "fra")):
        c.opt(_ARTICLE)
        a = _qty(c, signed=True)
        c.need(_W("e", "ed"))
        c.opt(_ARTICLE)
        b = _qty(c, signed=True)
    elif c.peek(r"[\d€n]"):
        a = _qty(c, signed=True)
        if c.opt(r"<=|<"):
            c.need(r"x" + _END)
            c.need(r"<=|<")
            b = _qty(c, signed=True)
        else:
            c.need(r"-")
            b = _qty(c, signed=True)
    else:
        raise _Fail
    unit, measure = _unit_of(a, b)
    low, high = _scale(a, unit), _scale(b, unit)
    if low > high:
        if not c.at_end():
            raise _Fail
        raise TargetError("il limite inferiore dell'intervallo è maggiore di quello superiore")
    return Rule("range", unit=unit, low=low, high=high, measure=measure)


_DOWN = _W("riduzione", "diminuzione", "calo", "decremento", "abbattimento", "contrazione", "ridurre", "diminuire")
_UP = _W("incremento", "aumento", "crescita", "miglioramento", "aumentare", "incrementare")


def _reference(c: _Cur) -> tuple[int | None, _Q | None]:
    """``rispetto al 2024``, ``rispetto all'anno precedente``, ``rispetto al valore di riferimento 150``."""
    if c.peek(r", *rispetto "):  # "incremento del 25%, rispetto al 2024"
        c.opt(",")
    if c.opt(r"rispetto +" + _A) is None and c.opt(_W("sul", "sull'")) is None:
        return None, None
    if c.opt(_W("anno precedente", "anno scorso", "anno prima", "anno base", "precedente anno", "precedente")):
        return None, None
    m = c.opt(_W("baseline", "linea di base", "situazione di partenza", "situazione iniziale", "valore iniziale"))
    if m is not None:
        raise TargetError(f"«{m.group()}» non dice quale sia il valore di partenza: scriva il valore "
                          "(«rispetto al valore di riferimento 150») o l'anno da cui si parte («rispetto al 2024»)")
    if c.opt(_W("valore di riferimento", "valore di partenza", "valore base", "valore", "dato di riferimento")):
        base = _qty(c)
        by = c.opt(_W("del", "dell'anno") + f" *({_YEAR_RE})")
        return (int(by.group(1)) if by else None), base
    c.opt(_W("dato del", "dato dell'anno", "valore del", "anno", "dati del"))
    return int(c.need(_YEAR_RE).group()), None


def _change(c: _Cur, year: int) -> Rule:
    c.opt(_W("il", "un", "una"))
    kind = None
    if c.opt(_DOWN):
        kind = "decrease"
    elif c.opt(_UP):
        kind = "increase"
    if kind and c.opt(_W("da")):  # riduzione da 60 a 20 giorni
        return _from_to(c, kind)
    if kind:
        c.opt(_W("del", "di", "pari al", "pari a", "almeno del", "di almeno il", "di almeno"))
    obj = None  # what changes: "dei tempi di attesa"
    if c.opt(_W("dimezzamento")):
        kind, share = "decrease", 0.5
    elif c.opt(_W("raddoppio", "raddoppiamento")):
        kind, share = "increase", 1.0
    elif c.opt(_W("azzeramento")):
        kind, share = "decrease", 1.0
    else:
        sign = c.opt(r"[-+]") if kind is None else None
        q = _qty(c)
        if q.unit != "percent":
            raise _Fail
        obj = q.measure
        if obj and re.search(r"\d", obj):
            raise _Fail  # "+5% delle pratiche del 2023": which year is the reference?
        if kind is None and sign is not None:
            kind = "decrease" if sign.group() == "-" else "increase"
        elif kind is None:
            word = c.opt(_W("in più", "in piu", "di più", "in aumento", "in meno", "in diminuzione"))
            if word is None:
                raise _Fail
            kind = "decrease" if "meno" in word.group() or "diminuzione" in word.group() else "increase"
        share = q.value
    if obj is None and c.peek(_W(*_CONNECTORS) + f" *[{L}]") and not c.peek(r"sul"):
        obj = _measure(c, first_connector=True)
    by, base = _reference(c)
    if by is None and base is None:
        c.notes.append("valore di riferimento: quello dell'anno precedente, indicato dal Responsabile")
    if base and (base.unit == "percent" or obj):
        raise _Fail
    if kind is None:  # every branch above names the direction
        raise _Fail
    fields: dict[str, Any] = {"unit": "number", kind: share}
    fields |= {"baseline": base.value, "unit": base.unit, "measure": base.measure} if base else {"measure": obj}
    return Rule(kind, baseline_year=by, **fields)


def _from_to(c: _Cur, kind: str | None) -> Rule:
    a = _qty(c)
    c.need(_A)
    b = _qty(c)
    unit, measure = _unit_of(a, b)
    if unit == "percent":  # "dal 90% al 100%": a range; a change of a percentage is not a share of it
        if kind is not None or a.value >= b.value:
            raise _Fail
        return Rule("range", unit=unit, low=_scale(a, unit), high=_scale(b, unit), measure=measure)
    by = c.opt(r"rispetto +" + _A + f" *({_YEAR_RE})")
    baseline_year = int(by.group(1)) if by else None
    if kind is None:
        if a.value == b.value:
            raise _Fail
        if a.value < b.value:  # "da 10 a 20": a range
            if by:
                raise _Fail
            return Rule("range", unit=unit, low=a.value, high=b.value, measure=measure)
        kind = "decrease"
        c.notes.append(f"«da {it_number(a.value)} a {it_number(b.value)}» letto come riduzione: "
                       f"il valore deve scendere da {it_number(a.value)} a {it_number(b.value)}")
    if (kind == "decrease") != (b.value < a.value):
        if not c.at_end():
            raise _Fail
        raise TargetError(f"il valore da raggiungere ({it_number(b.value)}) va nel senso opposto a "
                          f"{'una riduzione' if kind == 'decrease' else 'un incremento'}")
    return Rule(kind, unit=unit, target=b.value, baseline=a.value, baseline_year=baseline_year, measure=measure)


def _da_a(c: _Cur, year: int) -> Rule:
    c.opt(_SUBJECT)
    c.need(_W("da", "dai", "dal"))
    return _from_to(c, None)


_ORDINALS = {"primo": 1, "1°": 1, "1": 1, "i": 1, "secondo": 2, "2°": 2, "2": 2, "ii": 2, "terzo": 3, "3°": 3,
             "3": 3, "iii": 3, "quarto": 4, "4°": 4, "4": 4, "iv": 4}
_PERIOD_MONTHS = {"semestre": 6, "trimestre": 3, "quadrimestre": 4, "bimestre": 2}


def _year_suffix(c: _Cur, year: int) -> int:
    m = c.opt(r"(?:" + _W("del", "dell'anno", "anno") + r" *)?(\d{4}|'?\d\d)(?!\d)")
    if m is None:
        return year
    y = m.group(1).lstrip("'")
    return int(y) if len(y) == 4 else 2000 + int(y)


def _date(c: _Cur, year: int) -> date:
    """One date or the end of a period: ``31/12/2025``, ``31 dicembre 2025``, ``giugno``, ``I semestre``."""
    m = c.opt(r"(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)|(\d{1,2}) *([/.\-]) *(\d{1,2}) *\5 *(\d{4}|\d{2})(?!\d)")
    try:
        if m and m.group(1):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m:
            return date(_two_digit_year(int(m.group(7))), int(m.group(6)), int(m.group(4)))
        m = c.opt(r"(\d{1,2}) *(/) *(\d{1,2})(?![\d/.\-])")  # "31/12": the plan year
        if m:
            return date(year, int(m.group(3)), int(m.group(1)))
        # "15.12" after "entro il", "non oltre il": a day and month (alone, "15.12" is a number)
        dotted = re.search(r"(?:^|\s)(?:il|al) *$", c.t[:c.i]) is not None
        m = c.opt(r"(\d{1,2})\.(\d{1,2})(?![\d/.\-%,])(?! *[a-zàèéìòóùí€])") if dotted else None
        if m:
            return date(year, int(m.group(2)), int(m.group(1)))
        # "3-5 ottobre", "3 e 5 ottobre", "dal 3 al 5 ottobre": the last day of the span
        m = c.opt(rf"(\d{{1,2}})(?:°|º)? *(?:-|e|al) *(\d{{1,2}})(?:°|º)? +({_MONTH_ALT}|(?:{_ABBR_ALT})\.?)(?![{L}])")
        if m:
            mo = MONTHS.get(m.group(3)) or MONTH_ABBR[m.group(3).rstrip(".")]
            if int(m.group(1)) >= int(m.group(2)):
                raise TargetError(f"«{m.group()}»: il primo giorno non precede l'ultimo")
            last = date(_year_suffix(c, year), mo, int(m.group(2)))
            c.notes.append(f"«{m.group()}»: un periodo di più giorni, letto come scadenza all'ultimo giorno "
                           f"({last:%d/%m/%Y})")
            return last
        m = c.opt(rf"(\d{{1,2}})(?:°|º)? *[-\s]? *({_MONTH_ALT}|(?:{_ABBR_ALT})\.?)(?![{L}])")
        if m:
            mo = MONTHS.get(m.group(2)) or MONTH_ABBR[m.group(2).rstrip(".")]
            return date(_year_suffix_dash(c, year), mo, int(m.group(1)))
    except TargetError:
        raise
    except ValueError:
        raise TargetError(f"la data «{c.t[:c.i].split(' ')[-1] or c.t}» non esiste") from None
    c.opt(_W("la fine di", "la fine del", "la fine dell'", "la fine della", "fine", "fine del", "fine di", "fine dell'",
             "fine della"))
    c.opt(_W("il mese di", "mese di", "il mese del", "la mensilità di"))
    m = c.opt(f"(?:{_MONTH_ALT}){_END}")
    if m:
        return _end_of_month(_year_suffix(c, year), MONTHS[m.group()])
    m = c.opt(r"(primo|secondo|terzo|quarto|1°|2°|3°|4°|iv|iii|ii|i|[1-4])(?= ) *(semestre|trimestre|quadrimestre"
              r"|bimestre)" + _END)
    if m:
        n, span = _ORDINALS[m.group(1)], _PERIOD_MONTHS[m.group(2)]
        if n * span > 12:
            raise TargetError(f"«{m.group()}»: l'anno non ha un {m.group()}")
        return _end_of_month(_year_suffix(c, year), n * span)
    if c.opt(_W("anno", "esercizio", "anno solare", "esercizio finanziario")):
        return date(_year_suffix(c, year), 12, 31)
    m = c.opt(_YEAR_RE) if c.i > 0 else None  # "entro il 2025"; a bare "2025" is not a date
    if m:
        return date(int(m.group()), 12, 31)
    raise _Fail


def _year_suffix_dash(c: _Cur, year: int) -> int:
    c.opt("-")
    return _year_suffix(c, year)


# words before "entro" name the action: "Adozione del regolamento entro il 31/03/2025"
_ACTION = rf"(?:[{L}][{L}'.]*\s+){{1,8}}(?=(?:entro|non oltre)(?![{L}]))"


_STARTING = _W("a decorrere dal", "a decorrere dall'", "a partire dal", "a partire dall'", "con decorrenza dal",
               "con decorrenza dall'", "dal")


def _deadline(c: _Cur, year: int) -> Rule:
    c.opt(_ACTION)
    c.opt(_W("scadenza", "termine", "data", "completamento", "realizzazione") + r" *:?")
    start = c.opt(_STARTING) if c.i == 0 else None
    if start is None:
        c.opt(_W("entro e non oltre", "entro", "non oltre", "fino al", "fino a", "al", "il", "per", "a", "in",
                 "nel", "nel corso del", "nei giorni", "nel giorno", "il giorno", "nella giornata del",
                 "per i giorni", "per il giorno", "per la giornata del", "nelle giornate del", "nelle giornate"))
        c.opt(_W("il", "la", "l'", "lo", "del", "dell'"))
    elif start.group() == "dal":
        if not c.peek(r"\d{1,2}(?:°|º)? *al *\d{1,2}(?:°|º)? +[a-z]"):
            raise _Fail  # "dal 90% al 100%" is a range; a bare "dal <date>" is not a target
        start = None  # "dal 3 al 5 ottobre": a span of days
    deadline = _date(c, year)
    if start is not None:
        c.notes.append(f"«{start.group()} {deadline:%d/%m/%Y}» letto come scadenza: l'attività deve essere avviata "
                       "entro quella data")
    return Rule("deadline", unit="date", deadline=deadline)


_YES_WORDS = ("sì", "si", "si'", "sí", "yes", "realizzato", "realizzata", "realizzati", "adottato", "adottata",
              "adottati", "approvato", "approvata", "approvati", "raggiunto", "raggiunta", "attivato", "attivata",
              "completato", "completata", "pubblicato", "pubblicata", "effettuato", "effettuata", "svolto", "svolta",
              "presentato", "presentata", "predisposto", "predisposta", "fatto", "rispettato")
_YES = _W("sì/no", "si/no", "sì / no", "si / no", *_YES_WORDS)


def _yes_no(c: _Cur, year: int) -> Rule:
    word = c.need(_YES).group()
    if c.opt(r"/ *non +"):  # "realizzato/non realizzato"
        c.need(re.escape(word) + _END)
    return Rule("yes_no", unit="yes_no")


_SHARE_OF = _W("accertamento", "riscossione", "incasso", "impegno", "liquidazione", "pagamento", "utilizzo")
_INFORMATIVE = _W("indicatore informativo, non valutato", "indicatore informativo", "informativo")
# "n.d.", "n.a.": a plan's table that gives no target for the year (non disponibile, non applicabile)
_NO_TARGET = _W("n.d.", "n.d", "n.a.", "n.a", "n/a", "n/d", "non disponibile", "non applicabile")


def _fraction(c: _Cur, year: int, description: str) -> Rule:
    if c.opt(_W("rapporto numeratore/denominatore", "rapporto numeratore / denominatore")):
        c.need(_W(*KINDS["at_least"].phrases))
        q = _qty(c, allow_measure=False)
        if q.unit != "percent":
            raise _Fail
        return Rule("fraction", unit="percent", target=q.value)
    c.need(_SHARE_OF)
    c.need(_W("del", "di", "di almeno il", "almeno del"))
    q = _qty(c, allow_measure=False)
    c.need(_W("delle somme", "dell'importo", "degli importi", "dei fondi", "delle risorse", "del totale"))
    while c.opt(rf"[{L}\d'./]+"):
        pass  # what the share is of: "stanziate nel Bilancio 2025"
    desc, text = description.lower(), c.t
    if q.unit != "percent" or not ("/" in desc and ("somme" in text or "accertament" in text or "importo" in desc)):
        raise TargetError("una percentuale di somme: nella descrizione indicare numeratore / denominatore (ad es. "
                          "«importo somme accertate / importo somme stanziate»)")
    return Rule("fraction", unit="percent", target=q.value)


def _bare(c: _Cur, year: int) -> Rule:
    c.opt(_W("il", "l'") + r"(?= *\d[\d.,]* *%)")  # "il 60% delle domande": the article of a share
    q = _qty(c)
    if q.bare_year:
        raise _Fail  # a bare year is not a target; "entro il 2025" is
    if q.duration:
        c.notes.append(f"«{it_number(q.value)} {q.measure}»: una durata, letta come valore massimo")
        return _rule_of("at_most", q)
    if q.value == 0:  # "0", "0 reclami": "at least 0" would always be met
        c.notes.append("«0» letto come valore massimo: nessuno")
        return _rule_of("at_most", q)
    return _rule_of("at_least", q)


def _wording(c: _Cur, year: int, description: str) -> Rule:
    if c.opt(_INFORMATIVE):
        return Rule("informative", unit=_unit_for(description.lower()))
    m = c.opt(_NO_TARGET)
    if m is not None:
        shown = m.group() + ("." if re.fullmatch(r"n\.[ad]", m.group()) else "")  # the final "." was normalized away
        c.notes.append(f"«{shown}»: il piano non indica un target per l'anno; indicatore informativo, non valutato")
        return Rule("informative", unit=_unit_for(description.lower()))
    c.need(_W("giudizio motivato sul grado di raggiungimento", "giudizio motivato", "giudizio"))
    return Rule("giudizio", unit="percent")


def _placeholder(c: _Cur, year: int) -> Rule:
    """``0 (Riportare i dati del 2024, come termine di raffronto. Il target 2025 dovrebbe essere il 60% in più
    rispetto al 2024)``: the baseline is to be reported, the target is in the note."""
    c.need(r"0 *\(")
    by = None
    if c.opt(_W("riportare", "indicare", "inserire")):
        c.need(_W("i dati", "il dato", "il valore"))
        c.need(_W("del", "dell'anno"))
        by = int(c.need(_YEAR_RE).group())
        c.opt(r", *" + _W("come termine di raffronto", "come riferimento", "come base"))
        c.need(r"[.;]")
    c.need(_W("il target"))
    c.opt(_YEAR_RE)
    c.need(_W("dovrebbe essere", "deve essere", "sarà", "è", "pari a"))
    rule = _change(c, year)
    c.need(r"\)")
    c.notes.append("lo 0 stampato è il segnaposto del valore di riferimento")
    if rule.baseline_year is None and by is not None:
        rule = Rule(**{**rule.__dict__, "baseline_year": by})
    return rule


# --- second round: verbs, maintenance, rates, durations in months and years, words around a quantity ----

_VERB_DOWN = _W("ridurre", "diminuire", "abbassare", "contrarre", "ridurre ulteriormente")
_VERB_UP = _W("aumentare", "incrementare", "elevare", "accrescere", "innalzare")
_VERB_TO = _W("portare", "passare")  # the direction is the values'
_FROM_HINT = re.compile(r"(?<![\w'])da[il]? +[\d€]")
_OBJECT_THEN_FROM = rf"(?:[{L}][{L}'.]*\s+){{0,8}}?(?=\(?\s*(?:da|dai|dal)\s+[\d€])"


def _verb_change(c: _Cur, year: int) -> Rule:
    """``portare le pratiche evase da 120 a 150``, ``ridurre i tempi medi di rilascio (da 45 a 30 gg)``."""
    if _FROM_HINT.search(c.t) is None:
        raise _Fail
    if c.opt(_VERB_DOWN):
        kind: str | None = "decrease"
    elif c.opt(_VERB_UP):
        kind = "increase"
    elif c.opt(_DOWN):  # "riduzione dei tempi medi da 60 a 45 giorni": a noun, then what changes
        kind = "decrease"
    elif c.opt(_UP):
        kind = "increase"
    else:
        c.need(_VERB_TO)
        kind = None
    c.opt(_OBJECT_THEN_FROM)
    bracket = c.opt(r"\(")
    c.need(_W("da", "dai", "dal"))
    save = c.i
    a = _qty(c)
    c.need(_A)
    b = _qty(c)
    c.i = save
    if kind is None:  # "portare ... da 120 a 150": which way is said by the two values
        if a.value == b.value:
            raise _Fail
        kind = "increase" if b.value > a.value else "decrease"
    elif (kind == "decrease") != (b.value < a.value):
        raise TargetError(f"il valore da raggiungere ({it_number(b.value)}) va nel senso opposto a "
                          f"{'una riduzione' if kind == 'decrease' else 'un incremento'}")
    rule = _from_to(c, kind)
    if bracket:
        c.need(r"\)")
    return rule


_MAINTAIN = _W("mantenimento", "mantenere", "mantenere invariato", "mantenere invariata", "conservare",
               "conservazione", "non peggiorare", "nessun peggioramento", "non peggioramento", "garantire il livello",
               "confermare il livello", "conferma del livello")
# what falls when it improves: maintaining it does not say whether it may rise or must not
_LOWER_IS_BETTER = ("tempi", "tempo", "giorni", "durata", "attesa", "ritardo", "ritardi", "reclami", "errori",
                    "costi", "costo", "spesa", "spese", "assenze", "assenteismo", "contenzioso", "contenziosi",
                    "sinistri", "incidenti", "infortuni", "arretrato", "arretrati", "giacenza", "giacenze", "residui",
                    "debiti", "esposti", "scostamento", "scostamenti", "rilievi", "sanzioni", "ricorsi")


def _maintain(c: _Cur, year: int) -> Rule:
    """``mantenimento del livello di servizio del 2024``, ``non peggiorare rispetto all'anno precedente``,
    ``mantenimento del valore di riferimento 150 pratiche``, ``mantenere il 95% (tolleranza 2%)``."""
    c.need(_MAINTAIN)
    if c.peek(_W(*KINDS["at_least"].phrases)):  # "mantenere almeno il 95%": at least that value
        rule = _comparison(c, year)
        if rule.kind != "at_least":
            raise _Fail
        return rule
    words: list[str] = []
    by: int | None = None
    base: _Q | None = None
    while True:
        if c.opt(_W("del valore di riferimento", "il valore di riferimento", "al valore di riferimento")):
            base = _qty(c)
            m = c.opt(_W("del", "dell'anno") + f" *({_YEAR_RE})")
            by = int(m.group(1)) if m else None
            break
        if not words and c.peek(r"(?:del|al|il|dello|della|l')? *[\d€]"):
            c.opt(_W("del", "al", "il", "dello", "della", "l'"))
            base = _qty(c)
            break
        m = c.opt(_W("del valore del", "del valore dell'anno", "rispetto al", "rispetto all'anno", "del", "dell'anno",
                     "dei dati del", "del dato del", "raggiunto nel", "registrato nel") + f" *({_YEAR_RE})")
        if m:
            by = int(m.group(1))
            break
        if c.opt(_W("del valore dell'anno precedente", "rispetto all'anno precedente", "dell'anno precedente",
                    "dell'anno scorso", "rispetto all'anno scorso", "del valore precedente", "rispetto al precedente",
                    "rispetto al valore precedente", "dell'ultimo anno")):
            break
        w = c.opt(rf"[{L}][{L}'.]*")
        if w is None or w.group() in ("entro", "con", "tolleranza", "almeno", "non", "rispetto") or len(words) >= 10:
            if w is not None:
                c.i -= len(w.group())
            break
        words.append(w.group())
    tol = None
    if c.opt(r"\(? *" + _W("con tolleranza di", "con una tolleranza di", "con tolleranza del", "tolleranza",
                          "con tolleranza", "±") + r" *:?"):
        tq = _qty(c, allow_measure=False)
        c.opt(r"\)")
        tol = tq
    wording = " ".join(words).replace("' ", "'")
    if any(w in _LOWER_IS_BETTER for w in re.findall(rf"[{L}]+", wording)) or (
            base is not None and base.measure and any(w in _LOWER_IS_BETTER for w in base.measure.split())):
        raise TargetError(f"«{c.t[:c.i].strip()}»: mantenere un valore che migliora scendendo (tempi, reclami, "
                          "costi) non dice se può salire; indichi il valore massimo (ad es. «al massimo 30 giorni»)")
    if wording.startswith("del valore") or wording.startswith("il valore"):
        wording = ""  # "mantenimento del valore dell'anno precedente"
    measure = None
    if base is not None:
        unit, measure = base.unit, base.measure
        if wording:
            raise _Fail
    else:
        unit = "number"
        # "mantenimento dei controlli svolti": what is kept, named as the plan says it (for labels)
        if wording and re.match(r"(?:di|del|della|dei|delle|degli|dello|dell')\b|dell'", wording):
            measure = re.sub(r" +del valore$", "", wording) or None
        elif wording and not re.fullmatch(rf"(?:(?:il|lo|la|l'|i|gli|le) ?)?[{L}' ]+", wording):
            raise _Fail
        if not c.notes and by is None:
            c.notes.append("valore di riferimento: quello dell'anno precedente, indicato dal Responsabile")
    if tol is not None:
        if tol.unit != unit and not (tol.unit == "number" and unit != "percent"):
            raise _Fail
        tolerance: float | None = tol.value
    else:
        tolerance = None
    c.notes.append("mantenimento: raggiunto se il valore non scende sotto quello di riferimento"
                   + (" meno la tolleranza" if tolerance else ""))
    return Rule("maintain", unit=unit, baseline=base.value if base else None, baseline_year=by,
                tolerance=tolerance or None, measure=measure)


_TIME_UNITS = _W("anni", "anno", "mesi", "mese")
_TIME_WORD = re.compile(r"\d *(?:anni|anno|mesi|mese)(?![\w])")


def _duration(c: _Cur, year: int) -> Rule:
    """``entro 18 mesi``, ``entro due anni dall'avvio``, ``durata massima 6 mesi``: a time in months or years."""
    if _TIME_WORD.search(c.t) is None:
        raise _Fail
    c.opt(_ACTION)
    c.opt(_W("durata massima", "durata massima di", "durata non superiore a", "entro un massimo di", "entro il termine di",
             "entro e non oltre", "entro", "non oltre", "al massimo", "massimo", "in", "nell'arco di", "nel termine di"))
    m = c.need(f"(?:{_NUMBER})")
    value = _it_float(m.group(), c.notes)
    unit = c.need(_TIME_UNITS).group()
    rest = c.opt(r"(?:dalla|dal|dall'|dai|dalle|dallo)\s*" + rf"[{L}][{L}' .]*")
    measure = unit + (f" {rest.group().strip()}" if rest else "")
    if value <= 0:
        raise _Fail
    return Rule("duration", unit="number", target=value, measure=measure.replace("' ", "'"))


def _rate(c: _Cur, year: int) -> Rule:
    """``1 sopralluogo ogni 50 pratiche``, ``almeno 2 controlli ogni 10 cantieri``."""
    if " ogni " not in c.t:
        raise _Fail
    c.opt(_W(*KINDS["at_least"].phrases))
    q = _qty(c)
    c.need(_W("ogni"))
    e = _qty(c)
    if q.unit != "number" or e.unit != "number" or q.value <= 0 or e.value <= 0:
        raise _Fail
    return Rule("rate", unit="number", target=q.value, every=e.value, measure=q.measure, per=e.measure)


# words a subject before a quantity may not hold: they change what the quantity means
_NOT_SUBJECT = frozenset(("riduzione", "diminuzione", "calo", "decremento", "abbattimento", "contrazione", "ridurre",
                          "diminuire", "incremento", "aumento", "crescita", "miglioramento", "aumentare", "incrementare",
                          "mantenimento", "mantenere", "non", "entro", "rispetto", "tra", "fra", "ogni", "meno", "più",
                          "piu", "oltre", "circa", "almeno", "massimo", "minimo", *MONTHS, *_YES_WORDS))
# a subject of these words falls when it improves: "del 5%" after it does not say at least or at most
_NOT_SHARE_SUBJECT = frozenset(("scostamento", "scostamenti", "errore", "errori", *_LOWER_IS_BETTER))
# a share introduced by "del" after these words is at least that share: "copertura del 70% delle utenze"
_SHARE_NOUNS = ("copertura", "raggiungimento", "realizzazione", "completamento", "evasione", "riscossione", "incasso",
                "attuazione", "adesione", "partecipazione", "digitalizzazione", "informatizzazione", "pubblicazione",
                "trattazione", "smaltimento", "utilizzo", "impiego", "liquidazione", "pagamento", "controllo",
                "controlli", "verifica", "verifiche", "esecuzione", "avanzamento", "soddisfazione", "gradimento",
                "rispetto", "conclusione", "definizione", "istruttoria", "recupero", "spesa", "tasso di copertura",
                "grado di copertura", "grado di realizzazione", "percentuale di realizzazione", "formazione",
                "distribuzione", "diffusione", "estensione")


@functools.lru_cache(maxsize=1)
def _any_comparison() -> str:
    """Any comparison phrase followed by a quantity (one pattern: a subject is tried word by word)."""
    return "(?:" + "|".join(p for _, p in _comparisons()) + r") *(?:il |l'|la )?[\d€n]"


_A_NUMBER = re.compile(r"[\d€]")


def _context(c: _Cur, year: int) -> Rule:
    """Words that name what is measured, then the quantity: ``maggiori entrate accertate per almeno 1,8 milioni di
    euro``, ``copertura del 70% delle utenze servite``, ``distribuzione degli IoC al 30% delle PA``."""
    if not c.t[:1].isalpha() or _A_NUMBER.search(c.t) is None:
        raise _Fail  # no quantity: no subject before it (and no pattern to compile for a qualitative target)
    words = []
    for _ in range(8):
        w = c.opt(rf"[{L}][{L}'.]*")
        if w is None or w.group() in _NOT_SUBJECT:
            raise _Fail
        words.append(w.group())
        save = c.i
        if c.opt(_W("del", "di", "al", "all'", "pari al", "nella misura del", "nella misura di")) and c.peek(r"\d"):
            q = _qty(c)
            head = " ".join(words)
            if q.unit == "percent" and c.at_end() and not _NOT_SHARE_SUBJECT & set(words) and any(
                    head == n or head.startswith(n + " ") for n in _SHARE_NOUNS):
                return _rule_of("at_least", q)
            raise _Fail
        c.i = save
        c.opt(_W("per", "pari a", ":"))
        if c.peek(_any_comparison()):
            return _comparison(c, year)
        c.i = save
    raise _Fail


_DIRECTION_WORDS = frozenset(("ridurre", "riduzione", "diminuire", "diminuzione", "aumentare", "aumento", "incremento",
                              "incrementare", "mantenere", "mantenimento", "portare", "passare", "dimezzare",
                              "raddoppiare", "non"))


# words in brackets after a target that hedge it or make it conditional: never set aside
_HEDGES = frozenset(("circa", "ca", "indicativamente", "approssimativamente", "orientativamente", "stimato", "stimata",
                     "stimati", "previsto", "prevista", "previsti", "presunto", "presunta", "eventuale", "eventualmente",
                     "ove", "se", "qualora", "salvo", "compatibilmente", "possibile", "facoltativo", "facoltativa",
                     "minimo", "massimo", "almeno", "non", "oltre", "meno", "più", "piu", "entro", "tolleranza",
                     "escluso", "esclusi", "incluso", "inclusi", "cumulativo", "cumulato", "medio", "media",
                     *MONTHS, *_YES_WORDS))


# words that never continue a measure after "e" or an article: they hedge or condition the target
_NOT_JOINED = _HEDGES - frozenset(_YES_WORDS)


def _bracketed(c: _Cur, year: int) -> Rule:
    """``Pubblicazione del bando (entro il 30/09/2025)``: words that name the action, the target in brackets;
    or the target, then the action in brackets: ``entro il 30/09/2025 (approvazione in Giunta)``."""
    if not c.t.endswith(")"):
        raise _Fail
    # words separated by spaces (never split inside a word: that would try every split, exponentially)
    m = c.opt(rf"((?:[{L}][{L}'.]*\s+){{0,11}}[{L}][{L}'.]*)\s*\(([^()]+)\)$")
    if m is not None:
        words_text, target = m.group(1), m.group(2)
    else:
        m = c.need(rf"([^()]+?) *\(((?:[{L}][{L}'.,]*\s+){{0,11}}[{L}][{L}'.,]*)\)$")
        target, words_text = m.group(1), m.group(2)
    words = re.findall(rf"[{L}]+", words_text)
    c.far = c.t.index("(")  # a refusal names the text from the bracket on, not the whole of it
    if m.re.pattern.startswith("([^()]") and (len(words) > 6 or _HEDGES & set(words)):
        raise _Fail  # "100% (circa)", "(ove possibile)": the words in brackets change what the target asks
    if any(w in _DIRECTION_WORDS for w in words):
        c.far = 0
        raise _Fail  # "ridurre i tempi (da 45 a 30 gg)" is read with its verb, never without it
    rule, notes, _ = _parse(target.strip(), year, "")
    if rule is None or rule.kind in ("giudizio", "informative"):
        raise _Fail
    c.notes.extend(notes)
    c.notes.append(f"«{words_text.strip()}» descrive l'attività, non il target")
    return rule


_PRODUCTIONS: tuple[tuple[str, Callable[..., Rule]], ...] = (
    ("wording", _wording), ("placeholder", _placeholder), ("yes_no", _yes_no), ("fraction", _fraction),
    ("change", _change), ("verb_change", _verb_change), ("maintain", _maintain), ("da_a", _da_a), ("range", _range),
    ("deadline", _deadline), ("duration", _duration), ("rate", _rate), ("comparison", _comparison), ("bare", _bare),
    ("context", _context), ("bracketed", _bracketed),
)
_NEEDS_DESCRIPTION = ("wording", "fraction")


_UNITS = {"uno": 1, "due": 2, "tre": 3, "tré": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8, "nove": 9}
_TEENS = {"dieci": 10, "undici": 11, "dodici": 12, "tredici": 13, "quattordici": 14, "quindici": 15, "sedici": 16,
          "diciassette": 17, "diciotto": 18, "diciannove": 19}
_TENS = {"venti": 20, "trenta": 30, "quaranta": 40, "cinquanta": 50, "sessanta": 60, "settanta": 70, "ottanta": 80,
         "novanta": 90}


def _below_100(w: str) -> int | None:
    if w in _UNITS:
        return _UNITS[w]
    if w in _TEENS:
        return _TEENS[w]
    for name, n in _TENS.items():
        for stem in (name, name[:-1]):  # "ventotto", "trentuno": the final vowel elides before uno and otto
            if w.startswith(stem):
                rest = w[len(stem):]
                if rest == "" and stem == name:
                    return n
                if rest in ("uno", "otto") and stem == name[:-1]:
                    return n + _UNITS[rest]
                if rest in _UNITS and rest not in ("uno", "otto") and stem == name:
                    return n + _UNITS[rest]
    return None


def _below_1000(w: str) -> int | None:
    if not w:
        return 0
    i = w.find("cento")
    if i < 0:
        return _below_100(w)
    hundreds = 1 if i == 0 else _UNITS.get(w[:i]) if w[:i] != "uno" else None
    rest = _below_1000(w[i + 5:]) if "cento" not in w[i + 5:] else None
    return None if hundreds is None or rest is None else hundreds * 100 + rest


# the first three letters of every number word: other words are not looked at
_NUMBER_STEMS = frozenset(w[:3] for w in (*_UNITS, *_TEENS, *_TENS, "cento", "mille", "mila"))


def word_number(w: str) -> int | None:
    """An Italian number written in words, up to 999.999 ("dieci", "ventotto", "duecentocinquanta", "mille",
    "tremila"); None for any other word."""
    if w[:3] not in _NUMBER_STEMS:
        return None
    if w == "mille":
        return 1000
    if w.startswith("mille"):
        rest = _below_1000(w[5:])
        return None if rest is None else 1000 + rest
    i = w.find("mila")
    if i > 0:
        thousands, rest = _below_1000(w[:i]), _below_1000(w[i + 4:])
        if thousands is None or rest is None or thousands < 2:
            return None
        return thousands * 1000 + rest
    return _below_1000(w)


_WORD_RE = re.compile(rf"(?<![{L}'])([{L}]{{3,}})(?![{L}'])")
# "un", "una", "uno" are numbers only where a quantity is expected: after a comparison, or before "ogni"
_ONE_RE = re.compile(rf"(?:(?<=almeno )|(?<=minimo )|(?<=massimo )|(?<=^)|(?<=non meno di ))(?:un|una|uno)"
                     rf"(?= [{L}]+(?: [{L}]+)? ogni )|(?<=almeno )(?:un|una|uno)(?= [{L}])")


def _words_to_digits(t: str) -> str:
    """Numbers in words as digits: "almeno dieci controlli" -> "almeno 10 controlli", "entro due anni" ->
    "entro 2 anni" ("un"/"una" only where a quantity stands: "almeno un incontro", "un sopralluogo ogni ...")."""
    t = _ONE_RE.sub("1", t)

    def sub(m: re.Match[str]) -> str:
        n = word_number(m.group(1))
        return m.group(1) if n is None else str(n)
    return _WORD_RE.sub(sub, t)


_ELIDED = re.compile(r"(?<![\w'])(de|ne|su|da)ll' *(\w+)")


def _unelided(m: re.Match[str]) -> str:
    word = m.group(2)
    return f"{m.group(1)}l {word}" if word[0].isdigit() or word_number(word) is not None else m.group(0)


@functools.lru_cache(maxsize=8192)
def _normalize(text: str) -> str:
    t = " ".join((text or "").split()).lower()
    for a, b in (("≥", ">="), ("≤", "<="), ("=>", ">="), ("=<", "<="), ("’", "'"), ("`", "'"), ("´", "'"),
                 ("–", "-"), ("—", "-"), ("−", "-"), ("n°", "n."), ("piu'", "più"), ("si'", "si'"),
                 ("\u00a0", " "), ("sì/no", "sì/no")):
        t = t.replace(a, b)
    t = re.sub(r"(\w)' (?=\w)", r"\1'", t)  # "all' anno" -> "all'anno"
    t = re.sub(r"(?<=[\w]) +(?:per +cento|percento)(?![\w])", "%", t)  # "il novanta per cento", "80 per cento"
    # an articulated preposition elided before a number that starts with a vowel sound (8, 11, 80-89, 800...,
    # in digits or words) reads as its plain form: "incremento dell'8%" as "incremento del 8%"
    t = _ELIDED.sub(_unelided, t)
    t = _words_to_digits(t)
    # prepositions as printed: "superiore ad 1", "pari ad almeno 3", "sino al 30 novembre"
    t = re.sub(r"(?<![\w'])ad(?= +(?:\d|almeno|un|€|euro|n\.))", "a", t)
    t = re.sub(r"(?<![\w'])sino(?= +a)", "fino", t)
    t = re.sub(r"(?<![\w'])pari +(?:a|al|alla|all') *(?=almeno )", "", t)
    # "almeno pari al 90%", "pari almeno al 90%", "per un minimo di 20 ore", "fino a un massimo di 5"
    t = re.sub(r"(?<![\w'])(?:almeno +pari|pari +almeno) +(?:a|al|alla|all'|ai|alle|agli) *(?=[\d€n])", "almeno ", t)
    t = re.sub(r"(?<![\w'])(?:per +)?un +minimo +di(?= +[\d€n])", "almeno", t)
    t = re.sub(r"(?<![\w'])(?:(?:fino|sino) +a +|per +)?un +massimo +di(?= +[\d€n])", "al massimo", t)
    return t.rstrip(" .;")


def _parse(t: str, year: int, description: str) -> tuple[Rule | None, list[str], int]:
    """The rule of the first production that consumes the whole text, its notes, and the furthest position
    any production reached (where the text stops being understood)."""
    far = 0
    for name, production in _PRODUCTIONS:
        notes: list[str] = []
        c = _Cur(t, notes)
        try:
            rule = production(c, year, description) if name in _NEEDS_DESCRIPTION else production(c, year)
        except _Fail:
            far = max(far, c.far)
            continue
        if c.at_end():
            return rule, notes, far
        far = max(far, c.i, c.far)
    return None, [], far


# The description matters only to the productions that start with these words (``_wording`` reads an
# informative indicator's unit from it, ``_fraction`` checks it names numerator and denominator); any other
# target reads the same whatever its description.
_READS_DESCRIPTION = re.compile(f"{_INFORMATIVE}|{_NO_TARGET}|{_SHARE_OF}")


@functools.lru_cache(maxsize=8192)
def _reading(t: str, year: int, description: str) -> tuple[Reading | None, int]:
    """The reading of a normalised text (None when no production reads it whole) and how far the productions
    got, memoised: plans repeat a few targets ("100%", "Entro il 31/12/2025") thousands of times. A reading
    is immutable; a TargetError is not memoised (it is raised again)."""
    rule, notes, far = _parse(t, year, description)
    if rule is None:
        return None, far
    if rule.kind == "giudizio":
        notes.append("obiettivo qualitativo: giudizio motivato")
    return Reading(rule, tuple(notes)), far




#: single words that name a deliverable (an act, a document, a step): "Determina", "Regolamento", "Approvazione"
DELIVERABLES = frozenset((
    "determina", "determinazione", "delibera", "deliberazione", "decreto", "ordinanza", "provvedimento", "atto",
    "regolamento", "disciplinare", "circolare", "direttiva", "approvazione", "adozione", "relazione", "report",
    "rapporto", "rendiconto", "documento", "progetto", "piano", "programma", "bando", "avviso", "convenzione",
    "accordo", "protocollo", "contratto", "pubblicazione", "aggiornamento", "attivazione", "realizzazione",
    "istituzione", "costituzione", "sottoscrizione", "stipula", "aggiudicazione", "affidamento", "collaudo",
    "certificazione", "mappatura", "ricognizione", "censimento", "manuale", "vademecum", "modulistica", "questionario",
    "indagine", "studio", "proposta", "verbale", "elaborato", "regolamentazione", "inventario", "database", "portale",
    "presentazione", "trasmissione", "redazione", "predisposizione", "elaborazione", "completamento", "avvio",
))
DELIVERABLE_NOTE = ("un prodotto da realizzare (un atto, un documento): letto come Sì/No, raggiunto se realizzato; "
                    "meglio indicare una scadenza (ad es. «entro il 30/06»)")


def is_deliverable(text: str) -> bool:
    """True for a target of one word that names a deliverable ("Determina", "Regolamento"): a yes/no to confirm."""
    return _normalize(" ".join((text or "").split())) in DELIVERABLES


def _qualitative(t: str) -> bool:
    """A target with no number, symbol, date or yes/no word, of at least two words: a qualitative target."""
    if re.search(r"[\d%€<>=+±]", t) or any(re.fullmatch(p, t) for _, p in _comparisons()):
        return False  # a number, or only a comparison that lacks its number ("almeno", "non superiore a")
    if re.search(rf"(?<![{L}])(?:un|una|la|due|tre|quattro) +(?:terzo|terzi|quarto|quarti|quinto|quinti|metà|decimo|"
                 rf"decimi)(?![{L}])", t):
        return False  # a fraction in words ("non inferiore a un terzo"): a number, not a judgement
    words = re.findall(rf"[{L}]+", t)
    if len(words) < 2 or not any(len(w) >= 4 for w in words):
        return False
    return not any(w in MONTHS or w in _YES_WORDS or w in ("no", "semestre", "trimestre") for w in words)


def _split(t: str) -> tuple[str, str] | None:
    for m in re.finditer(r" (?:e|ed|e inoltre|nonché) |; *", t, re.IGNORECASE):
        a, b = t[:m.start()].strip(" ,;"), t[m.end():].strip(" ,;")
        if a and b:
            return a, b
    return None


def read_target(text: str, description: str = "", year: int = 2025) -> Reading:
    """Read a printed target with the grammar. Raises :class:`TargetError` naming what it did not understand."""
    raw = " ".join((text or "").split())
    if not raw:
        return Reading(Rule("informative", unit=_unit_for((description or "").lower())))
    shown = raw if len(raw) <= 120 else raw[:117] + "..."  # messages stay short whatever was typed
    t = _normalize(raw)
    try:
        reading, far = _reading(t, year, (description or "") if _READS_DESCRIPTION.match(t) else "")
    except TargetError as e:
        raise TargetError(f"target «{shown}»: {e}") from None
    if reading is not None:
        try:
            kind_of(reading.rule.kind).check(reading.rule)
        except ValueError as e:
            raise TargetError(f"target «{shown}»: {e}") from None
        return reading
    parts = _split(raw)
    if parts:
        try:
            read = [_parse(_normalize(p), year, description or "")[0] for p in parts]
        except TargetError:
            read = [None]
        if all(r is not None and r.kind != "giudizio" for r in read):
            raise TargetError(f"target «{shown}»: contiene due condizioni, «{parts[0][:60]}» e «{parts[1][:60]}»: le scriva "
                              f"come due indicatori distinti, uno per condizione")
    if t in DELIVERABLES:
        return Reading(Rule("yes_no", unit="yes_no"), (f"«{raw}»: {DELIVERABLE_NOTE}",))
    if _qualitative(t):
        return Reading(Rule("giudizio", unit="percent"),
                       ("obiettivo qualitativo: il grado di raggiungimento è un giudizio motivato di chi il piano "
                        "indica come fonte (in mancanza, il Nucleo di Valutazione); meglio una regola misurabile",))
    rest = t[far:].strip() or t
    where = f"non compreso «{rest[:60]}»"
    raise TargetError(f"target «{shown}»: {where}")


def _unit_for(desc: str) -> str:
    """The unit of an informative indicator, from its description."""
    if "%" in desc:
        return "percent"
    if "somme" in desc or "importo" in desc or "€" in desc:
        return "amount"
    return "number"


def interpret(text: str, description: str = "", year: int = 2025) -> Rule:
    """Interpret a printed target. Raises :class:`TargetError` when it cannot."""
    return read_target(text, description, year).rule

@functools.lru_cache(maxsize=4096)
def inputs_for(rule: Rule, year: int) -> tuple[InputSpec, ...]:
    """What a person fills in for this rule, in order (asks the rule's kind; memoized: plans repeat rules, and
    the inputs are immutable)."""
    return kind_of(rule.kind).inputs(rule, year)


@functools.lru_cache(maxsize=4096)
def explain_it(rule: Rule) -> str:
    """The target in Italian, for input messages and the Istruzioni sheet (memoized: plans repeat targets)."""
    return kind_of(rule.kind).wording(rule)
