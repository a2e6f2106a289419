"""The evaluation as one pure step: a plan evaluated on submissions built in memory gives the same Evaluation as
through workbooks; which submission counts is decided from provenance; the JSON is the Evaluation rendered,
with English statuses, read back through the same schema.

Expected figures come from tests/scenario.py (worked out by hand from docs/scoring.md).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import date, datetime

import pytest
from scenario import (
    NUCLEO_VALUES,
    SF_ANALYSES,
    SF_EXPECTED_BAND,
    SF_EXPECTED_POINTS,
    SF_EXPECTED_SCORE,
    SF_VALUES,
)

from piao_xls.core.decisions import CORRECT, NEUTRALISE, Decision
from piao_xls.core.evaluation import (
    Choice,
    IndicatorStatus,
    ObjectiveState,
    Outcome,
    Provenance,
    SectorStatus,
    Submission,
    evaluate,
)
from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.writer import render
from piao_xls.results.consolidate import consolidate
from piao_xls.results.consolidate import render as render_rows
from piao_xls.results.export import ResultsError, from_json, to_json_dict


def _inputs(values: dict) -> tuple[dict, dict]:
    """``{"SF-1.1|value": 0.9, "SF-1.1|analisi": "..."}`` -> (values by indicator and input, texts by key)."""
    vals: dict[str, dict[str, object]] = {}
    texts = {}
    for key, v in values.items():
        ind, _, name = key.partition("|")
        if name == "analisi":
            texts[key] = v
        else:
            vals.setdefault(ind, {})[name] = v
    return vals, texts


def _memory(plan) -> list[Submission]:
    """What the Responsabile of SF and the Nucleo send, typed in: no workbook."""
    vals, texts = _inputs({**SF_VALUES, **SF_ANALYSES})
    out = [Submission("SF", "responsabile", vals, texts, Provenance(sent="2026-01-20T10:00:00"))]
    for sector in plan.sectors:  # the Nucleo's form has a sheet for every sector with an indicator it certifies
        own = [i for i in sector.indicators if i.source == "nucleo"]
        if not own:
            continue
        vals, texts = _inputs({k: v for k, v in NUCLEO_VALUES.items() if k.startswith(f"{sector.code}-")})
        vals = {i.id: vals.get(i.id, {"value": None}) for i in own}
        out.append(Submission(sector.code, "nucleo", vals, texts, Provenance(sent="2026-01-21T09:00:00")))
    return out


DECISIONS = [Decision(CORRECT, "SF", "SF-1", "SF-1.1", "value", 0.9, 0.95, "errore di trascrizione", "Nucleo",
                      "2026-03-10"),
             Decision(NEUTRALISE, "SF", "SF-3", reason="norma sopravvenuta", by="Nucleo", date="2026-03-10")]


@pytest.fixture(scope="module")
def returned(tmp_path_factory, plan):
    folder = tmp_path_factory.mktemp("returned")
    (folder / "sf.xlsx").write_bytes(render(sector_workbook(plan, plan.sector("SF")),
                                            prefill={**SF_VALUES, **SF_ANALYSES}))
    (folder / "nucleo.xlsx").write_bytes(render(source_workbook(plan, "nucleo"), prefill=NUCLEO_VALUES))
    return folder


def _same_evaluation(in_memory, c) -> None:
    """``in_memory`` is the whole Evaluation of the consolidation ``c`` (read from files), and the whole JSON
    document rendered from it is that of ``c`` but for what only files have: the list of files read (``sources``)
    and what reading them found (the findings about a file)."""
    through_files = c.evaluation
    assert in_memory == through_files
    assert [[(u.sector, u.source) for u in s.used] for s in in_memory.sectors] == \
        [[(u.sector, u.source) for u in s.used] for s in through_files.sectors]
    files_doc = to_json_dict(c)
    memory_doc = to_json_dict(render_rows(in_memory))
    assert memory_doc["sources"] == [] and len(files_doc["sources"]) == len(c.results) > 0
    files_doc["sources"] = []
    files_doc["findings"] = [f for f in files_doc["findings"] if not f["file"]]  # the evaluation's own notes
    assert files_doc["findings"] == memory_doc["findings"]
    assert json.dumps(memory_doc, sort_keys=True) == json.dumps(files_doc, sort_keys=True)


@pytest.mark.parametrize("decisions", [[], DECISIONS], ids=["plain", "with-decisions"])
def test_submissions_in_memory_give_the_evaluation_of_the_workbooks(plan, returned, decisions):
    c = consolidate([returned], plan, decisions=decisions)
    # SF's parts of the files hold what was typed, without errors (as the submissions built in memory); the Nucleo's
    # empty sheets of the other sectors have errors, but those sectors are not received either way
    assert [s.has_errors for r in c.results for code, s in r.sectors.items() if code == "SF"] == [False, False]
    _same_evaluation(evaluate(plan, _memory(plan), decisions), c)


def _typed(sheet, values: dict) -> tuple[dict, dict]:
    """What a person types in a sheet (input key -> value) as a submission's values and texts: percentages as
    fractions, amounts and numbers as numbers, dates as dates, «Sì»/«No» as True/False (docs/inputs.md)."""
    vals: dict[str, dict[str, object]] = {}
    texts = {}
    for key, v in values.items():
        if sheet.inputs[key].unit == "text":
            texts[key] = v
            continue
        ind, _, name = key.partition("|")
        vals.setdefault(ind, {})[name] = {"Sì": True, "No": False}.get(v, v) if isinstance(v, str) else v
    return vals, texts


@pytest.fixture(scope="module")
def synthetic():
    """A generated plan of three sectors in which every rule kind of the generator appears."""
    from piao_xls.forms.samples import synthetic_plan_yaml
    from piao_xls.plan.planfile import parse_plan

    plan, findings = parse_plan(synthetic_plan_yaml(sectors=3, objectives=4, indicators=3), "synthetic.yaml")
    assert plan is not None, [str(f) for f in findings]
    return plan


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_multi_rule_plan_gives_the_same_evaluation_in_memory_and_through_files(synthetic, tmp_path,
                                                                                          seed):
    """Generated values for every sector but the last (not received), typed into the forms and read back, or
    given in memory; with a correction the Nucleo makes and an objective it neutralises."""
    from piao_xls.forms.samples import sample_values

    plan = synthetic
    kinds = {i.rule.kind for i in plan.indicators}
    assert {"at_least", "at_most", "range", "deadline", "increase", "fraction"} <= kinds, kinds
    subs = []
    typed_by_sector = {}
    for i, sector in enumerate(plan.sectors[:-1]):
        book = sector_workbook(plan, sector)
        values = sample_values(book.sheets[1], seed=seed * 10 + i, year=plan.year)
        (tmp_path / f"{sector.code}.xlsx").write_bytes(render(book, prefill=values))
        vals, texts = _typed(book.sheets[1], values)
        typed_by_sector[sector.code] = vals
        subs.append(Submission(sector.code, "responsabile", vals, texts))
    first = plan.sectors[0]
    ind = next(i for i in first.indicators if set(typed_by_sector[first.code][i.id]) == {"value"}
               and isinstance(typed_by_sector[first.code][i.id]["value"], float))
    obj = next(o for o in first.objectives if ind not in o.indicators)
    old = typed_by_sector[first.code][ind.id]["value"]
    decisions = [Decision(CORRECT, first.code, next(o.id for o in first.objectives if ind in o.indicators), ind.id,
                          "value", old, 0.0, "errore di trascrizione", "Nucleo", "2026-03-10"),
                 Decision(NEUTRALISE, first.code, obj.id, reason="norma sopravvenuta", by="Nucleo", date="2026-03-10")]
    c = consolidate([tmp_path], plan, decisions=decisions)
    assert {r.status for r in c.results} <= {"accepted", "accepted_with_warnings"}, \
        [str(f) for r in c.results for f in r.findings]
    for r in c.results:  # a warning does not make a submission one with errors: in memory it has none either
        assert not any(s.has_errors for s in r.sectors.values())
    in_memory = evaluate(plan, subs, decisions)
    assert [o.applied for o in in_memory.decisions if o.decision.origin == "nucleo"] == [True, True]
    assert [s.status for s in in_memory.sectors] == [SectorStatus.SCORED] * 2 + [SectorStatus.NOT_RECEIVED]
    _same_evaluation(in_memory, c)


def test_the_evaluation_holds_the_hand_computed_figures_as_codes(plan):
    ev = evaluate(plan, _memory(plan))
    sf = ev.sector("SF")
    assert sf.status is SectorStatus.SCORED and sf.score == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)
    assert sf.band == SF_EXPECTED_BAND and sf.published == round(SF_EXPECTED_SCORE, 2)
    assert sf.band_label == "Buono"  # docs/scoring.md, Bands: B, Buono
    assert {o.objective_id: o.points for o in sf.objectives} == pytest.approx(SF_EXPECTED_POINTS)
    # every objective of SF is reached fully but SF-1, SF-2, SF-4, SF-5, SF-6 (partly)
    assert sf.count(Outcome.REACHED) == 4 and sf.count(Outcome.PARTLY) == 5
    assert all(o.weight_applied == o.weight for o in sf.objectives)  # nothing left out: weights as planned
    # the other sectors: nothing from their Responsabili; the Nucleo's empty sheet does not make them scored
    sa = ev.sector("SA")
    assert sa.status is SectorStatus.NOT_RECEIVED and sa.score is None
    assert {i.status for o in sa.objectives for i in o.indicators} == {IndicatorStatus.NOT_RECEIVED}
    assert [n.reason.code for n in ev.notes] == ["sector_not_received"] * 3
    assert json.dumps(sf.status) == '"scored"'  # an English token wherever it goes
    # the indicators' achievements worked out in tests/scenario.py, published as percentages at the plan's
    # precision (2 decimals), with the analysis typed for each and the plan's year as the target's
    inds = {i.indicator_id: i for o in sf.objectives for i in o.indicators}
    assert {k: i.achievement for k, i in inds.items()} == pytest.approx({
        "SF-1.1": 0.9, "SF-1.2": 1, "SF-2.1": 0.8, "SF-3.1": 1, "SF-4.1": 1, "SF-4.2": 0.95, "SF-5.1": 0.85 / 0.9,
        "SF-6.1": 0.75, "SF-7.1": 1, "SF-8.1": 1, "SF-9.1": 1})
    assert (inds["SF-5.1"].published, inds["SF-1.1"].published, inds["SF-6.1"].published) == (94.44, 90, 75)
    assert inds["SF-1.1"].analysis == SF_ANALYSES["SF-1.1|analisi"] and inds["SF-3.1"].analysis == ""
    assert {i.target_year for i in inds.values()} == {plan.year}
    # every objective of SF has its values: *valutato* (docs/scoring.md, states), its indicators too
    assert {o.state for o in sf.objectives} == {ObjectiveState.SCORED}
    assert {i.status for i in inds.values()} == {IndicatorStatus.SCORED}
    # each objective's band is that of its achievement (docs/scoring.md, Bands: A from 95, B 90, C 80, D 70, E 0)
    assert {o.objective_id: o.band for o in sf.objectives} == {
        "SF-1": "A", "SF-2": "C", "SF-3": "A", "SF-4": "A", "SF-5": "B", "SF-6": "D", "SF-7": "A", "SF-8": "A",
        "SF-9": "A"}
    # published at the plan's precision: SF-5 is 0,85 / 0,90 = 94,44%; every objective of a scored sector is scored
    published = {o.objective_id: o.published_achievement for o in sf.objectives}
    assert (published["SF-5"], published["SF-1"], published["SF-6"]) == (94.44, 95, 75)
    assert all(o.scored for o in sf.objectives) and not any(o.scored for o in sa.objectives)
    # docs/scoring.md, states: an objective of a sector not received is *non valutato*: no score, no band, no
    # points; it keeps the plan's weight, is no gate unless the plan says so, and nobody neutralised it
    for obj, o in zip(plan.sector("SA").objectives, sa.objectives, strict=True):
        assert (o.objective_id, o.weight, o.gate) == (obj.id, obj.weight, obj.gate)
        assert (o.state, o.outcome, o.scored, o.neutralised) == (ObjectiveState.NOT_SCORED, Outcome.NOT_REPORTED,
                                                                  False, False)
        assert (o.achievement, o.points, o.band, o.weight_applied, o.published_points) == (None, None, "", None, None)


def test_a_neutralised_objective_renormalises_the_applied_weights(plan):
    ev = evaluate(plan, _memory(plan), DECISIONS)
    sf = ev.sector("SF")
    applied = {o.objective_id: o.weight_applied for o in sf.objectives}
    # SF-3 (weight 10) left out: the other 90 points of weight count as 100
    assert applied["SF-3"] == 0 and applied["SF-6"] == pytest.approx(20 * 100 / 90)
    assert sum(w for w in applied.values() if w is not None) == pytest.approx(100)
    (neutral,) = [o for o in ev.decisions if o.decision.kind == NEUTRALISE and o.decision.origin == "nucleo"]
    assert neutral.applied and neutral.effect.code == "objective_left_out"
    weights = dict((oid, after) for oid, _, after in neutral.effect.params["weights"].params["weights"])
    assert weights["SF-6"] == 22.22 and "SF-3" not in weights  # published at the plan's precision
    # the neutralised objective says so, its indicators are not "valutato", and the points add up to the score
    sf3 = next(o for o in sf.objectives if o.objective_id == "SF-3")
    assert sf3.state is ObjectiveState.NEUTRALISED and sf3.points == 0 and sf3.outcome is Outcome.NOT_COUNTED
    # docs/scoring.md, states: its figures are no result, "never shows as a 0 that looks like a result"
    assert sf3.published_points is None and sf3.published_achievement is None
    assert {i.status for i in sf3.indicators} == {IndicatorStatus.NEUTRALISED}
    assert sum(o.points for o in sf.objectives) == pytest.approx(sf.score)
    assert sf.published == plan.scoring.published(sf.score)
    sf6 = next(o for o in sf.objectives if o.objective_id == "SF-6")
    assert (sf6.published_weight_applied, sf6.published_points) == (22.22, plan.scoring.published(sf6.points))


def _sub(content: float, sent: str, doubt: str = "", name: str = "a.xlsx") -> Submission:
    return Submission("SF", "responsabile", {"SF-1.1": {"value": content}},
                      provenance=Provenance(file=name, sent=sent, doubt=doubt))


@pytest.mark.parametrize(("subs", "choice", "counts", "status"), [
    # the same values twice: one submission, whatever the times; the one sent last stands for them
    ([_sub(0.9, "2026-01-02T10:00:00", name="a"), _sub(0.9, "2026-01-01T10:00:00", name="b")], Choice.CONFLICT,
     "a", SectorStatus.SCORED_WITH_ISSUES),
    ([_sub(0.9, "2026-01-01T10:00:00", name="b"), _sub(0.9, "2026-01-02T10:00:00", name="a")], Choice.CONFLICT,
     "a", SectorStatus.SCORED_WITH_ISSUES),
    # different values: a conflict unless the newest is asked for
    ([_sub(0.9, "2026-01-02T10:00:00", name="a"), _sub(0.5, "2026-01-01T10:00:00", name="b")], Choice.CONFLICT,
     None, SectorStatus.CONFLICT),
    ([_sub(0.9, "2026-01-01T10:00:00", name="a"), _sub(0.5, "2026-01-02T10:00:00", name="b")], Choice.NEWEST,
     "b", SectorStatus.SCORED_WITH_ISSUES),
    ([_sub(0.5, "2026-01-02T10:00:00", name="b"), _sub(0.9, "2026-01-01T10:00:00", name="a")], Choice.NEWEST,
     "b", SectorStatus.SCORED_WITH_ISSUES),
    # sent at the same second: which is newer cannot be told
    ([_sub(0.9, "2026-01-02T10:00:00", name="a"), _sub(0.5, "2026-01-02T10:00:00", name="b")], Choice.NEWEST,
     None, SectorStatus.CONFLICT),
    # a time that cannot be trusted (e.g. a saving date after the file arrived)
    ([_sub(0.9, "2026-01-01T10:00:00", name="a"), _sub(0.5, "2026-01-09T10:00:00", "data futura", "b")],
     Choice.NEWEST, None, SectorStatus.CONFLICT),
    # the year's rule: the one sent last supersedes, offsets compared as instants (10:30+02:00 is before 09:00Z)
    ([_sub(0.9, "2026-01-02T09:00:00+00:00", name="a"), _sub(0.5, "2026-01-02T10:30:00+02:00", name="b")],
     Choice.LATEST_SENT, "a", SectorStatus.SCORED_WITH_ISSUES),
    ([_sub(0.9, "2026-01-02T10:00:00+01:00", name="a"), _sub(0.5, "2026-01-02T09:00:00+00:00", name="b")],
     Choice.LATEST_SENT, None, SectorStatus.CONFLICT),
    ([_sub(0.9, "", name="a"), _sub(0.5, "2026-01-02T09:00:00+00:00", name="b")],
     Choice.LATEST_SENT, None, SectorStatus.CONFLICT),
], ids=["same-values", "same-values-reversed", "conflict", "newest-last", "newest-first", "tie", "doubtful",
        "latest-by-instant", "latest-same-instant", "latest-unknown"])
def test_which_submission_counts_is_decided_from_provenance(plan, subs, choice, counts, status):
    ev = evaluate(plan, subs, choice=choice)
    sf = ev.sector("SF")
    # (with_issues: the Nucleo's values of SF-2.1 were not received)
    assert sf.status is status
    assert [u.provenance.file for u in sf.used] == ([counts] if counts else [])
    conflicts = [n for n in ev.notes if n.code == "WB-CONFLICT"]
    if status is SectorStatus.CONFLICT:
        assert len(conflicts) == 1 and conflicts[0].severity == "error"
        assert {i.status for o in sf.objectives for i in o.indicators} == {IndicatorStatus.CONFLICT}
    elif len({s.content() for s in subs}) > 1 and choice is Choice.NEWEST:
        assert [n.severity for n in conflicts] == ["warning"] and conflicts[0].reason["file"] == counts
    else:  # the year's correction loop is not an anomaly
        assert conflicts == []
    if counts:
        assert [x.provenance.file for x in sf.superseded] == [x.provenance.file for x in subs
                                                              if x.provenance.file != counts]
    # whatever the order they are read in
    for order in itertools.permutations(subs):
        again = evaluate(plan, list(order), choice=choice)
        assert again.sector("SF") == sf and [u.provenance.file for u in again.sector("SF").used] == \
            [u.provenance.file for u in sf.used]


@pytest.mark.parametrize("values", [(0.9, 0.9, 0.9), (0.7, 0.8, 0.9)], ids=["same-values", "different-values"])
def test_every_earlier_return_is_superseded(values):
    """docs/returns.md: "the return sent last counts. An earlier return is superseded: it never counts again";
    returns with the same values are one return, the one sent last stands for them. ``pick`` (the one rule
    ``stato`` and ``consolida`` share) says which counts and which it supersedes, whatever the reading order."""
    from piao_xls.core.evaluation import pick

    subs = [_sub(v, f"2026-01-0{d}T10:00:00+00:00", name=f"day{d}") for v, d in zip(values, (1, 2, 3), strict=True)]
    for order in itertools.permutations(subs):
        p = pick(list(order), Choice.LATEST_SENT)
        assert p.counts is subs[2] and p.reason is None and not p.chosen
        assert sorted(s.provenance.file for s in p.superseded) == ["day1", "day2"]


def test_the_office_s_choice_supersedes_the_others():
    """docs/returns.md: a conflict is settled by `piao-xls scegli`: the file chosen counts, and the returns it
    was chosen among are superseded (they never count); the conflict stays the reason it had to be chosen."""
    from piao_xls.core.evaluation import pick

    def sub(name: str, value: float) -> Submission:
        return Submission("SF", values={"SF-1.1": {"value": value}}, provenance=Provenance(
            file=name, sha256=name[0] * 64, sent="2026-01-02T09:00:00+00:00"))

    subs = [sub("a.xlsx", 0.9), sub("b.xlsx", 0.5), sub("c.xlsx", 0.7)]
    for order in itertools.permutations(subs):
        p = pick(list(order), Choice.LATEST_SENT, chosen={"b" * 64})
        assert p.counts is subs[1] and p.chosen and p.reason is not None
        assert sorted(s.provenance.file for s in p.superseded) == ["a.xlsx", "c.xlsx"]


def test_a_conflict_names_its_files(plan):
    """docs/returns.md, outside a workspace: two files with different values for one sector are a conflict unless
    --prefer-newest is given; docs/errors.md: WB-CONFLICT, "two files give different values for the same sector":
    the finding (an error, on the sector) names both files and the option."""
    subs = [_sub(0.9, "2026-01-02T10:00:00", name="primo.xlsx"), _sub(0.5, "2026-01-01T10:00:00", name="secondo.xlsx")]
    c = render_rows(evaluate(plan, subs, choice=Choice.CONFLICT))
    (f,) = [f for f in c.findings if f["code"] == "WB-CONFLICT"]
    assert (f["severity"], f["sector"]) == ("error", "SF")
    assert "primo.xlsx" in f["message"] and "secondo.xlsx" in f["message"] and "--prefer-newest" in f["message"]
    assert f["file"] in ("primo.xlsx", "secondo.xlsx")


def test_the_nucleos_returns_follow_the_same_rule(plan):
    """docs/returns.md: "For each sector and each source (Responsabile, Nucleo, external), the return sent last
    counts"; two returns of the Nucleo with different values for SF that cannot be ordered are a conflict (none
    counts, the sector is not scored, a WB-CONFLICT error on SF naming both), settled by the office's choice;
    with the same values they are one return."""
    own = Submission("SF", values={"SF-1.1": {"value": 0.9}}, provenance=Provenance(file="sf.xlsx"))

    def nucleo(name: str, value: float) -> Submission:
        return Submission("SF", "nucleo", {"SF-2.1": {"value": value}}, provenance=Provenance(
            file=name, sha256=name[1] * 64, sent="2026-01-02T09:00:00+00:00", sent_from="messaggio"))

    tied = [own, nucleo("n1.xlsx", 0.8), nucleo("n2.xlsx", 0.6)]
    for choice in (Choice.CONFLICT, Choice.LATEST_SENT, Choice.NEWEST):
        ev = evaluate(plan, tied, choice=choice)
        assert ev.sector("SF").status is SectorStatus.CONFLICT and ev.sector("SF").score is None
        (f,) = [f for f in render_rows(ev).findings if f["code"] == "WB-CONFLICT"]
        assert (f["severity"], f["sector"]) == ("error", "SF")
        assert "n1.xlsx" in f["message"] and "n2.xlsx" in f["message"]
    ev = evaluate(plan, tied, choice=Choice.LATEST_SENT, chosen={"2" * 64})
    sf2 = next(i for o in ev.sector("SF").objectives for i in o.indicators if i.indicator_id == "SF-2.1")
    assert sf2.reported == {"value": 0.6} and ev.sector("SF").status is not SectorStatus.CONFLICT
    (f,) = [f for f in render_rows(ev).findings if f["code"] == "WB-CONFLICT"]
    assert (f["severity"], f["sector"], f["file"]) == ("warning", "SF", "n2.xlsx")
    # outside a workspace, without --prefer-newest, different values are a conflict even when their times differ
    later = replace(nucleo("n2.xlsx", 0.6), provenance=replace(tied[2].provenance, sent="2026-01-03T09:00:00+00:00"))
    assert evaluate(plan, [own, tied[1], later], choice=Choice.CONFLICT).sector("SF").status is SectorStatus.CONFLICT
    assert evaluate(plan, [own, tied[1], later], choice=Choice.NEWEST).sector("SF").status is not SectorStatus.CONFLICT
    one = evaluate(plan, [own, nucleo("n1.xlsx", 0.8), nucleo("n2.xlsx", 0.8)], choice=Choice.CONFLICT)
    assert one.sector("SF").status is not SectorStatus.CONFLICT and len(one.sector("SF").used) == 2


def test_what_has_not_arrived_is_an_error_on_its_sector(plan):
    """docs/errors.md, WB-NOT-RECEIVED: "no submission for a sector"; docs/scoring.md: the Nucleo's values that
    have not arrived leave the Responsabile's sector *valutato con anomalie* "with a WB-NOT-RECEIVED error saying
    so"; docs/summary-data.md: every finding names its ``sector``."""
    own = Submission("SF", values={"SF-1.1": {"value": 0.9}}, provenance=Provenance(file="sf.xlsx"))
    c = render_rows(evaluate(plan, [own]))
    missing = {f["sector"]: f for f in c.findings if f["code"] == "WB-NOT-RECEIVED"}
    assert set(missing) == {s.code for s in plan.sectors}  # SF: the Nucleo's values; the others: everything
    assert all(f["severity"] == "error" for f in missing.values())
    assert "nucleo" in missing["SF"]["message"] and "SF" in missing["SF"]["message"]
    assert "SA" in missing["SA"]["message"]


@pytest.mark.parametrize(("sent", "doubt"), [("", ""), ("2026-01-09T10:00:00+00:00", "data futura"),
                                             ("2026-01-02T09:00:00+00:00", "")], ids=["unknown", "doubtful", "tied"])
def test_a_conflict_of_times_names_the_files_and_the_command_that_settles_it(plan, sent, doubt):
    """docs/returns.md, A real conflict: returns with different values sent at the same second, or one of them with
    no known (or trusted) time, are a conflict: none counts; the files are listed and `piao-xls scegli` settles it
    (consolida shows the same conflict until the choice is made)."""
    subs = [Submission("SF", values={"SF-1.1": {"value": 0.9}}, provenance=Provenance(
                file="a.xlsx", sent="2026-01-02T09:00:00+00:00", sent_from="messaggio")),
            Submission("SF", values={"SF-1.1": {"value": 0.5}}, provenance=Provenance(
                file="b.xlsx", sent=sent, sent_from="messaggio", doubt=doubt))]
    ev = evaluate(plan, subs, choice=Choice.LATEST_SENT)
    assert ev.sector("SF").status is SectorStatus.CONFLICT
    (f,) = [f for f in render_rows(ev).findings if f["code"] == "WB-CONFLICT"]
    assert (f["severity"], f["sector"]) == ("error", "SF")
    assert "a.xlsx" in f["message"] and "b.xlsx" in f["message"] and "piao-xls scegli SF" in f["message"]
    if doubt:
        assert doubt in f["message"]


@pytest.mark.parametrize("sent_from", ["documento", "file"])
def test_prefer_newest_warns_naming_the_file_used(plan, sent_from):
    """docs/returns.md: with --prefer-newest "the file saved last counts (the document's own modified property
    when valid, else its modification time), with a WB-CONFLICT warning naming it"; returns with the same values
    are one return: no warning."""
    def sub(name: str, value: float, sent: str) -> Submission:
        return Submission("SF", values={"SF-1.1": {"value": value}},
                          provenance=Provenance(file=name, sent=sent, sent_from=sent_from))

    subs = [sub("vecchio.xlsx", 0.9, "2026-01-01T10:00:00"), sub("nuovo.xlsx", 0.5, "2026-01-05T10:00:00")]
    ev = evaluate(plan, subs, choice=Choice.NEWEST)
    assert [u.provenance.file for u in ev.sector("SF").used] == ["nuovo.xlsx"]
    (f,) = [f for f in render_rows(ev).findings if f["code"] == "WB-CONFLICT"]
    assert (f["severity"], f["sector"], f["file"]) == ("warning", "SF", "nuovo.xlsx")
    assert "vecchio.xlsx" in f["message"] and "nuovo.xlsx" in f["message"]
    same = [sub("vecchio.xlsx", 0.9, "2026-01-01T10:00:00"), sub("nuovo.xlsx", 0.9, "2026-01-05T10:00:00")]
    assert [f for f in render_rows(evaluate(plan, same, choice=Choice.NEWEST)).findings
            if f["code"] == "WB-CONFLICT"] == []


def test_a_conflict_settled_by_the_office_is_a_warning_naming_the_file_chosen(plan):
    """docs/returns.md, A real conflict: two returns with different values sent at the same second are a conflict
    until the office chooses (`scegli`); the choice is then "used by every command": the sector is scored from the
    file chosen. The two files still give different values (docs/errors.md, WB-CONFLICT): a warning on the sector,
    on the file chosen, naming both."""
    def sub(name: str, value: float) -> Submission:
        return Submission("SF", values={"SF-1.1": {"value": value}}, provenance=Provenance(
            file=name, sha256=name[0] * 64, sent="2026-01-02T09:00:00+00:00", sent_from="messaggio"))

    tied = [sub("a.xlsx", 0.9), sub("b.xlsx", 0.5)]
    ev = evaluate(plan, tied, choice=Choice.LATEST_SENT, chosen={"b" * 64})
    assert [u.provenance.file for u in ev.sector("SF").used] == ["b.xlsx"]
    assert ev.sector("SF").status is not SectorStatus.CONFLICT
    (f,) = [f for f in render_rows(ev).findings if f["code"] == "WB-CONFLICT"]
    assert (f["severity"], f["sector"], f["file"]) == ("warning", "SF", "b.xlsx")
    assert "a.xlsx" in f["message"] and "b.xlsx" in f["message"]


@pytest.mark.parametrize("n", [3, 4])
def test_the_return_sent_last_counts_in_every_reading_order(plan, n):
    """n returns of one sector, each with other values, sent at n instants given with different offsets: the last
    sent counts in every one of the n! orders; a tie at the last instant is a conflict in every order, settled by
    the office's choice."""
    subs = [Submission("SF", values={"SF-1.1": {"value": (i + 1) / 10}}, provenance=Provenance(
        file=f"f{i}", sha256=f"{i:064x}", sent=f"2026-01-0{i + 1}T1{i}:00:00+0{i}:00")) for i in range(n)]
    for order in itertools.permutations(subs):
        sf = evaluate(plan, list(order), choice=Choice.LATEST_SENT).sector("SF")
        assert [u.provenance.file for u in sf.used] == [f"f{n - 1}"]
        assert sf.objectives[0].indicators[0].reported == {"value": n / 10}
    tied = [*subs, Submission("SF", values={"SF-1.1": {"value": 0.01}}, provenance=Provenance(
        file="tie", sha256="f" * 64, sent=subs[-1].provenance.sent))]
    for order in itertools.permutations(tied):
        assert evaluate(plan, list(order), choice=Choice.LATEST_SENT).sector("SF").status is SectorStatus.CONFLICT
        chosen = evaluate(plan, list(order), choice=Choice.LATEST_SENT, chosen={"f" * 64}).sector("SF")
        assert [u.provenance.file for u in chosen.used] == ["tie"]


@pytest.mark.parametrize("as_of", [date(2026, 1, 1), datetime(2026, 1, 1, 23, 59)])
def test_an_evaluation_at_a_date_counts_what_had_arrived(plan, as_of):
    early = Submission("SF", values={"SF-1.1": {"value": 0.5}},
                       provenance=Provenance(file="early", received="2026-01-01T09:00:00"))
    late = Submission("SF", values={"SF-1.1": {"value": 1.0}},
                      provenance=Provenance(file="late", received="2026-01-02T09:00:00"))
    ev = evaluate(plan, [early, late], as_of=as_of)
    sf = ev.sector("SF")
    assert [u.provenance.file for u in sf.used] == ["early"]
    assert ev.as_of == as_of  # docs/security.md: each evaluation is recorded with its date
    assert evaluate(plan, [late], as_of=as_of).sector("SF").status is SectorStatus.NOT_RECEIVED
    # the day after, both have arrived and disagree
    assert evaluate(plan, [early, late], as_of=date(2026, 1, 2)).sector("SF").status is SectorStatus.CONFLICT


def test_the_json_is_read_back_through_its_schema(plan, returned):
    doc = to_json_dict(consolidate([returned], plan))
    assert doc["schema_version"] == 2
    # docs/summary-data.md: "Top level: schema_version (2), plan_id, year, fingerprint, comune, title, bands, ...
    # scoring, sectors, objectives, indicators, findings, sources, decisions; revisions only when the plan was revised"
    assert set(doc) == {"schema_version", "plan_id", "year", "fingerprint", "comune", "title", "bands", "scoring",
                        "sectors", "objectives", "indicators", "findings", "sources", "decisions"}
    assert {s["status"] for s in doc["sectors"]} == {"scored", "not_received"}
    assert {s["code"]: s["status_it"] for s in doc["sectors"]}["SA"] == "non pervenuto"
    # docs/scoring.md: a sector not scored has no score, so no band and no judgement (*Fascia*, *Giudizio*)
    sa = next(s for s in doc["sectors"] if s["code"] == "SA")
    assert (sa["score"], sa["band"], sa["band_label"]) == (None, "", "")
    text = json.dumps(doc)
    assert from_json(text, plan) == json.loads(text)
    # an earlier document (Italian statuses, no version) is refused with an Italian message, not read wrongly
    old = {k: v for k, v in doc.items() if k != "schema_version"}
    with pytest.raises(ResultsError, match="altra versione di piao-xls"):
        from_json(json.dumps(old), plan)
    bad = {**doc, "sectors": [{**doc["sectors"][0], "status": "valutato"}]}
    with pytest.raises(ResultsError, match=r"«sectors» riga 1: «status»"):
        from_json(json.dumps(bad), plan)


def test_each_file_says_what_it_was_used_for(plan, returned):
    """docs/summary-data.md, sources: ``used_for`` is ``CODE`` (the Responsabile's values of that sector) or
    ``CODE:source`` (another source's), comma-separated: the Responsabile's workbook of SF is used for SF, the
    Nucleo's for SF as the Nucleo's values (its SF-2.1 counts: docs/scoring.md's worked example)."""
    from pathlib import Path

    doc = to_json_dict(consolidate([returned], plan))
    used = {Path(s["path"]).name: s["used_for"] for s in doc["sources"]}
    assert used["sf.xlsx"] == "SF"
    tags = used["nucleo.xlsx"].split(",")
    assert "SF:nucleo" in tags and "SF" not in tags
    nucleo_sectors = [s.code for s in plan.sectors if any(i.source == "nucleo" for i in s.indicators)]
    assert all(t.partition(":")[2] == "nucleo" and t.partition(":")[0] in nucleo_sectors for t in tags)
    shown = {Path(s["path"]).name: s["used_for_it"] for s in doc["sources"]}
    assert shown["sf.xlsx"] == "SF" and "SF (Nucleo di Valutazione)" in shown["nucleo.xlsx"]


def test_a_file_that_is_no_workbook_is_listed_as_skipped(plan, returned, tmp_path):
    """docs/summary-data.md: ``sources[*].status`` ``skipped`` for a file that is not a workbook; WB-SKIPPED (a
    warning) names it; the workbooks next to it are read as usual."""
    import shutil
    from pathlib import Path

    folder = tmp_path / "ricevuti"
    shutil.copytree(returned, folder)
    (folder / "leggimi.txt").write_text("inviato anche per posta", encoding="utf-8")
    doc = to_json_dict(consolidate([folder], plan))
    status = {Path(s["path"]).name: s["status"] for s in doc["sources"]}
    assert status["leggimi.txt"] == "skipped" and status["sf.xlsx"] != "skipped"
    (f,) = [f for f in doc["findings"] if f["code"] == "WB-SKIPPED"]
    assert f["severity"] == "warning" and Path(f["file"]).name == "leggimi.txt"
    # docs/summary.schema.json: a skipped file's row has every key of a source (read back through the schema)
    assert from_json(json.dumps(doc), plan) == json.loads(json.dumps(doc))
    # docs/summary-data.md, sources: ``size`` in bytes, ``saved`` ISO or empty, ``sectors`` sector codes,
    # ``used_for`` CODE or CODE:source (a file that is no workbook holds no sector and is used for none)
    codes = {s.code for s in plan.sectors}
    for s in doc["sources"]:
        assert s["saved"] == "" or datetime.fromisoformat(s["saved"])
        assert {c for c in s["sectors"].split(",") if c} <= codes
        assert {u.split(":")[0] for u in s["used_for"].split(",") if u} <= codes
    # findings: ``sector``, the codes of the sectors a finding is about (none for a file that is no workbook)
    assert all({c for c in f["sector"].split(",") if c} <= codes for f in doc["findings"])
    skipped = next(s for s in doc["sources"] if Path(s["path"]).name == "leggimi.txt")
    assert skipped["size"] == (folder / "leggimi.txt").stat().st_size
    assert (skipped["sectors"], skipped["used_for"]) == ("", "")


def test_which_file_counts_from_its_saved_time_or_from_the_ledger_s_sending_time(plan, tmp_path):
    """docs/returns.md: outside a workspace, with ``--prefer-newest``, the file saved last counts (the document's
    own "modified" property), with a WB-CONFLICT warning naming it; in a workspace (the ledger's sending times, by
    SHA-256) the return sent last counts, whatever the files' saved times. ``sources[*].used_for`` says which."""
    import hashlib
    import re
    from pathlib import Path

    import zipmut

    def saved(path: Path, stamp: bytes) -> None:
        p = zipmut.parts(path.read_bytes())
        p["docProps/core.xml"] = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, p["docProps/core.xml"])
        path.write_bytes(zipmut.rezip(p))

    book = sector_workbook(plan, plan.sector("SF"))
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    a.write_bytes(render(book, prefill={**SF_VALUES, **SF_ANALYSES}))
    b.write_bytes(render(book, prefill={**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": 0.5, "SF-3.1|analisi": "ritardo"}))
    saved(a, b"2026-01-10T10:00:00Z")
    saved(b, b"2026-01-12T10:00:00Z")

    def used(c) -> dict:
        return {Path(s["path"]).name: s["used_for"] for s in c.sources}

    c = consolidate([tmp_path], plan, prefer_newest=True)
    assert used(c) == {"a.xlsx": "", "b.xlsx": "SF"}
    warned = [f for f in c.findings if f["code"] == "WB-CONFLICT"]
    assert warned and all(f["severity"] == "warning" and "b.xlsx" in f["message"] for f in warned)
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)}
    ledger = {sha["a.xlsx"]: Provenance(sent="2026-01-15T09:00:00+01:00", sent_from="pec"),
              sha["b.xlsx"]: Provenance(sent="2026-01-14T09:00:00+01:00", sent_from="pec")}
    c = consolidate([tmp_path], plan, provenance=ledger)
    assert used(c) == {"a.xlsx": "SF", "b.xlsx": ""}
    assert next(s for s in c.sectors if s["code"] == "SF")["status"] != "conflict"


def test_the_schema_shipped_with_the_package_is_the_documented_one():
    from pathlib import Path

    from piao_xls.results.export import schema

    docs = Path(__file__).resolve().parent.parent / "docs" / "summary.schema.json"
    assert schema() == json.loads(docs.read_text(encoding="utf-8"))


@pytest.fixture
def rome(monkeypatch):
    """Local time is Italy's (a time without offset is local time: docs/returns.md, core.evaluation.instant)."""
    import time

    monkeypatch.setenv("TZ", "Europe/Rome")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("a", "b", "counts"), [
    # 10:30 in Rome (winter, +01:00) is 09:30Z: after 09:00Z, before 09:45Z
    ("2026-01-02T10:30:00", "2026-01-02T09:00:00Z", "a"),
    ("2026-01-02T10:30:00", "2026-01-02T09:45:00Z", "b"),
    ("2026-01-02T10:30:00", "2026-01-02T10:40:00+01:00", "b"),
    ("2026-01-02T09:10:00Z", "2026-01-02T10:05:00+01:00", "a"),  # 09:10Z is after 09:05Z
], ids=["local-after-Z", "local-before-Z", "local-before-offset", "Z-after-offset"])
def test_times_with_and_without_offset_are_compared_as_instants(plan, rome, a, b, counts):
    """docs/returns.md: "Times are compared as instants (10:30+02:00 is before 09:00Z)"; a time without offset is
    local time (a file's time)."""
    subs = [_sub(0.9, a, name="a"), _sub(0.5, b, name="b")]
    for order in (subs, subs[::-1]):
        sf = evaluate(plan, order, choice=Choice.LATEST_SENT).sector("SF")
        assert [u.provenance.file for u in sf.used] == [counts]


@pytest.mark.parametrize(("received", "as_of", "arrived"), [
    ("2026-01-02T09:00:00Z", date(2026, 1, 1), False),
    ("2026-01-01T23:30:00Z", date(2026, 1, 1), True),  # the date it is written with
    ("2026-01-01T13:30:00+02:00", datetime.fromisoformat("2026-01-01T12:00:00+00:00"), True),  # 11:30Z
    ("2026-01-01T14:30:00+02:00", datetime.fromisoformat("2026-01-01T12:00:00+00:00"), False),  # 12:30Z
    ("2026-01-01T12:30:00", datetime.fromisoformat("2026-01-01T12:00:00+00:00"), True),  # local: 11:30Z
    ("2026-01-01T13:30:00", datetime.fromisoformat("2026-01-01T12:00:00+00:00"), False),  # local: 12:30Z
    ("2026-01-01T11:30:00Z", datetime(2026, 1, 1, 12, 45), True),  # as_of local: 11:45Z
    ("2026-01-01T11:50:00Z", datetime(2026, 1, 1, 12, 45), False),
    ("", datetime(2026, 1, 1, 12, 45), True),  # unknown: counts
    ("il 2 gennaio", date(2026, 1, 1), True),  # unreadable: unknown
], ids=["Z-day-after", "Z-same-day", "offset-before", "offset-after", "local-before-aware", "local-after-aware",
        "Z-before-local", "Z-after-local", "unknown", "unreadable"])
def test_an_evaluation_at_a_moment_compares_instants(plan, rome, received, as_of, arrived):
    """evaluate(..., as_of): only what had arrived by then counts; a time without offset is local time on both
    sides, a date is compared with the date the time is written with; a return whose time is unknown counts."""
    sub = Submission("SF", values={"SF-1.1": {"value": 0.5}}, provenance=Provenance(file="f", received=received))
    sf = evaluate(plan, [sub], as_of=as_of).sector("SF")
    assert [u.provenance.file for u in sf.used] == (["f"] if arrived else [])


def test_decisions_on_a_sector_not_received_are_listed_not_applied(plan):
    """docs/scoring.md, The Nucleo's decisions: "Each decision, applied or not, is listed ... None is applied
    silently"; on a sector that was not received no decision can be applied: each of the three kinds (two
    corrections) says why, with the corrected values in the unit of their input (SF-1.1 is a percentage, SF-6.1 an
    amount); the plan's own exclusion of AV-5 is listed as not applied too."""
    from piao_xls.core.decisions import NOT_APPLICABLE

    decisions = [DECISIONS[0],
                 Decision(CORRECT, "SF", "SF-6", "SF-6.1", "numerator", 150000.0, 180000.0, "atto successivo", "Nucleo",
                          "2026-03-10"),
                 Decision(NOT_APPLICABLE, "SF", "SF-4", "SF-4.2", reason="servizio esternalizzato", by="Nucleo",
                          date="2026-03-10"),
                 DECISIONS[1]]
    ev = evaluate(plan, [], decisions)
    mine = [o for o in ev.decisions if o.decision.origin == "nucleo"]
    assert [o.decision for o in mine] == decisions  # every one, in order, none lost (none after the one not applied)
    assert [(o.applied, o.effect.code) for o in mine] == [(False, "sector_not_scored")] * 4
    assert [o.unit for o in mine[:2]] == ["percent", "amount"]
    rows = [r for r in render_rows(ev).decisions if r["origin"] == "nucleo"]
    assert [(r["applied"], r["effect"]) for r in rows] == [(False, "non applicata: settore non valutato")] * 4
    assert [(r["old_text"], r["new_text"]) for r in rows[:2]] == [("90%", "95%"), ("150.000,00 €", "180.000,00 €")]
    (own,) = [r for r in render_rows(ev).decisions if r["origin"] == "piano"]
    assert (own["applied"], own["effect"]) == (False, "settore non valutato")
    assert ev.sector("SF").status is SectorStatus.NOT_RECEIVED


def test_the_plans_own_exclusion_is_listed_as_a_decision_of_the_plan(plan):
    """docs/scoring.md: an objective with no measurable target is left out, and "the consolidation lists it as a
    decision of the plan (origin piano, kind neutralise) next to the Nucleo's decisions ... with the re-normalised
    weights" (AV-5, weight 10, in the 2025 plan: AV-1 10 -> 11,11, AV-6 15 -> 16,67)."""
    av = Submission("AV", values={i.id: {"value": 1.0} for i in plan.sector("AV").indicators})
    (row,) = [r for r in render_rows(evaluate(plan, [av])).decisions if r["origin"] == "piano"]
    assert {k: row[k] for k in ("kind", "sector", "objective", "indicator", "by", "date", "applied")} == {
        "kind": "neutralise", "sector": "AV", "objective": "AV-5", "indicator": "", "by": "Piano (PIAO 2025)",
        "date": "", "applied": True}
    assert row["where"] == plan.source and row["where"].endswith(".yaml")
    assert (row["old_text"], row["new_text"]) == ("", "")  # only a correction has values
    assert row["reason"].startswith("il piano non assegna alcun target misurabile")
    # "The row reads "obiettivo AV-5 escluso dal calcolo; pesi rinormalizzati su 90 (totale 100): AV-1 10 → 11,11; …""
    assert row["effect"].startswith("obiettivo AV-5 escluso dal calcolo; pesi rinormalizzati su 90 (totale 100): "
                                    "AV-1 10 → 11,11; ")
    parts = row["effect"].split(": ", 1)[1].split("; ")
    assert "AV-6 15 → 16,67" in parts and "AV-5" not in row["effect"].split(": ", 1)[1]
    assert len(parts) == len([o for o in plan.sector("AV").objectives if o.evaluable])
    # its one indicator has no target: informative, as it was (docs/scoring.md, `informative`: reported, not
    # scored; docs/summary-data.md: `excluded` is the status of an indicator that counted before)
    av5 = next(o for o in evaluate(plan, [av]).sector("AV").objectives if o.objective_id == "AV-5")
    assert av5.state is ObjectiveState.EXCLUDED and av5.band == "" and av5.achievement is None
    assert {i.status for i in av5.indicators} == {IndicatorStatus.INFORMATIVE}


def test_objectives_not_reported_and_not_available(plan):
    """docs/scoring.md, What each state means: an objective counted with reported values is *valutato*; one whose
    counted indicators have no value is *non rendicontato*; one whose every counted indicator is *non
    disponibile* is *non disponibile* (both count as 0); a mix of a value and «non disponibile» is *valutato*."""
    from piao_xls.core.answers import NOT_AVAILABLE

    sub = Submission("SF", values={
        "SF-1.1": {"value": 0.9}, "SF-1.2": {"date": NOT_AVAILABLE},  # a value and n.d.
        "SF-3.1": {"value": None},  # nothing
        "SF-4.1": {"value": NOT_AVAILABLE}, "SF-4.2": {"value": NOT_AVAILABLE},  # n.d. only
        "SF-5.1": {"value": None},
    })
    states = {o.objective_id: o.state for o in evaluate(plan, [sub]).sector("SF").objectives}
    assert states["SF-1"] is ObjectiveState.SCORED
    assert states["SF-3"] is ObjectiveState.NOT_REPORTED
    assert states["SF-4"] is ObjectiveState.NOT_AVAILABLE
    assert states["SF-5"] is ObjectiveState.NOT_REPORTED


def test_corrections_one_refused_one_applied(plan):
    """docs/scoring.md: a correction whose old value is not the one reported is refused (DEC-INVALID, naming the
    sector, with the values in the input's unit) and the others are applied; a correction of one input of a
    fraction keeps the other: SF-6.1 numerator 150.000 -> 180.000 over 200.000 is 0,9, SF-6 (weight 20) 18 points."""
    refused = Decision(CORRECT, "SF", "SF-1", "SF-1.1", "value", 0.8, 0.95, "errore di trascrizione", "Nucleo",
                       "2026-03-10")
    applied = Decision(CORRECT, "SF", "SF-6", "SF-6.1", "numerator", 150000.0, 180000.0, "atto successivo", "Nucleo",
                       "2026-03-10")
    ev = evaluate(plan, _memory(plan), [refused, applied])
    assert [(o.applied, o.effect.code) for o in ev.decisions if o.decision.origin == "nucleo"] == [
        (False, "old_value_differs"), (True, "value_corrected")]
    sf6 = next(o for o in ev.sector("SF").objectives if o.objective_id == "SF-6")
    assert sf6.achievement == pytest.approx(0.9) and sf6.points == pytest.approx(18)
    assert sf6.indicators[0].scored == {"numerator": 180000.0, "denominator": 200000.0}
    c = render_rows(ev)
    (finding,) = [f for f in c.findings if f["code"] == "DEC-INVALID"]
    assert finding["sector"] == "SF" and "(80%) non è quello rendicontato (90%)" in finding["message"]
    row = next(r for r in c.decisions if r["indicator"] == "SF-1.1")
    assert (row["old_text"], row["new_text"], row["applied"]) == ("80%", "95%", False)
    row = next(r for r in c.decisions if r["indicator"] == "SF-6.1")
    assert row["effect"] == "SF-6.1: 150.000,00 € → 180.000,00 €" and row["applied"] is True


def test_an_indicator_not_applicable_that_leaves_its_objective_empty(plan):
    """docs/scoring.md, not_applicable: "SF-6.1 ... Declared non applicabile, SF-6 has no counted indicator left,
    so it is left out like a neutralised objective: weight 100 − 20 = 80, score (91.694 − 15) × 100 / 80 =
    95,87"; the decision's effect says both, with the re-normalised weights (each weight-10 objective 12,5)."""
    from piao_xls.core.decisions import NOT_APPLICABLE

    na = Decision(NOT_APPLICABLE, "SF", "SF-6", "SF-6.1", reason="nessuno stanziamento", by="Nucleo", date="2026-03-10")
    ev = evaluate(plan, _memory(plan), [na])
    assert ev.sector("SF").published == 95.87
    (row,) = [r for r in render_rows(ev).decisions if r["origin"] == "nucleo"]
    assert row["effect"].startswith("SF-6.1 escluso dal raggiungimento dell'obiettivo SF-6; l'obiettivo non ha più "
                                    "indicatori valutati: escluso dal calcolo; pesi rinormalizzati su 80 (totale 100): "
                                    "SF-1 10 → 12,5; SF-2 10 → 12,5; ")
    assert (row["old_text"], row["new_text"]) == ("", "")


def test_different_analyses_are_different_returns(plan):
    """Two returns with the same values but another «Analisi scostamenti» are not the same return (the analysis is
    what the Relazione quotes): sent at the same instant, neither can be told to be the last (a conflict), as two
    such workbooks would be; with the same analysis too they are one return."""
    def sub(name: str, analysis: str) -> Submission:
        return Submission("SF", values={"SF-1.1": {"value": 0.9}}, texts={"SF-1.1|analisi": analysis},
                          provenance=Provenance(file=name, sent="2026-01-02T09:00:00+00:00"))

    tied = [sub("a", "Carenza di personale."), sub("b", "Procedure rallentate.")]
    assert evaluate(plan, tied, choice=Choice.LATEST_SENT).sector("SF").status is SectorStatus.CONFLICT
    same = [sub("a", "Carenza di personale."), sub("b", "Carenza di personale.")]
    assert evaluate(plan, same, choice=Choice.LATEST_SENT).sector("SF").status is not SectorStatus.CONFLICT
