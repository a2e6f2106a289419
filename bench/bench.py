"""Benchmark: prints figures, asserts nothing. Run: python bench/bench.py [--sectors 200] [--files 200]

Each figure is a ratio against a floor measured in the same run on the same machine:
- generation (layout + render) of the bundled plan and of a synthetic plan
  (sectors x 40 objectives x 3 indicators) vs raw xlsxwriter writing the same cells and formats;
- consolidation of N filled per-sector workbooks vs python-calamine reading every cell of the
  same files (floor) and vs the same reading with openpyxl;
- the end-to-end `piao-xls consolidate` of N filled workbooks as a user runs it (timed from outside,
  --jobs 1 and one per core), against python-calamine and openpyxl reading the same files, and where
  its seconds go, stage by stage (plan, guard, properties, layout, the one parse, checks, scoring, summary);
- `--only cli`: the command as a user runs it, `piao-xls consolidate FILES --plan plan.yaml --jobs 1 -o s.xlsx`
  (and the default --jobs, one process per core), whole process timed from outside with its peak RSS, next to
  python-calamine and openpyxl read-only reading every cell of the same files; rounds interleaved, best of 3.
  The first run of the command in a fresh plan cache is reported apart (it parses the plan and fills the cache);
  `--baseline DIR` (a checkout of another version) runs that version's command in the same rounds;
  `--inbox DIR --plan FILE` reuses existing files instead of writing new ones;
- scale (bench/scale.py): consolidation of 200 and 2,000 sector workbooks of a plan with 2,000
  sectors (--files 200,2000) in child processes, with their peak RSS; `piao-xls --help` start-up
  time vs `python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piao_xls.forms.layout import plan_workbooks, sector_workbook
from piao_xls.forms.samples import sample_values, synthetic_plan_yaml
from piao_xls.forms.styles import STYLES
from piao_xls.forms.writer import render
from piao_xls.plan.load import load_plan
from piao_xls.plan.planfile import parse_plan

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import bench_scale, bench_startup, counts_arg, openpyxl_floor


def calamine_read(files) -> None:
    """The floor: python-calamine reading every cell of every sheet of ``files``."""
    import python_calamine

    for f in files:
        wb = python_calamine.CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        wb.close()


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def floor_ops(books) -> list:
    """Everything the floor writes, precomputed outside the timing: per workbook, per sheet, the
    column widths, row heights and per cell (row, col, kind, value, style, merge, validation options)."""
    from piao_xls.forms.writer import _validation_options

    out = []
    for book in books:
        sheets = []
        for s in book.sheets:
            cells = [(c.row, c.col, "f" if c.formula else "s" if isinstance(c.value, str) else
                      "n" if isinstance(c.value, (int, float)) else "b", c.formula or c.value, c.style, c.merge_to,
                      _validation_options(c.validation) if c.validation is not None else None) for c in s.cells]
            sheets.append((s.name, s.col_widths, dict(s.row_heights), cells))
        out.append(sheets)
    return out


def raw_xlsxwriter(ops) -> None:
    """The floor: the same cells, merges, formats, validations, widths and heights, written straight with
    xlsxwriter (no layout computation, no identity properties, no print setup)."""
    import io

    import xlsxwriter

    for sheets in ops:
        wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
        fmts = {k: wb.add_format(v) for k, v in STYLES.items()}
        for name, widths, heights, cells in sheets:
            ws = wb.add_worksheet(name)
            for i, w in enumerate(widths):
                ws.set_column(i, i, w)
            for r, h in heights.items():
                ws.set_row(r, h)
            for row, col, kind, value, style, merge, dv in cells:
                f = fmts[style]
                if merge:
                    ws.merge_range(row, col, merge[0], merge[1], "", f)
                if kind == "f":
                    ws.write_formula(row, col, value, f, 0)
                elif kind == "s":
                    ws.write_string(row, col, value, f)
                elif kind == "n":
                    ws.write_number(row, col, value, f)
                else:
                    ws.write_blank(row, col, None, f)
                if dv is not None:
                    r2, c2 = merge or (row, col)
                    ws.data_validation(row, col, r2, c2, dv)
            ws.protect()
        wb.close()


def gen_ours(plan) -> None:
    for book in plan_workbooks(plan):
        render(book)


def bench_generation(plan, label: str) -> None:
    books = plan_workbooks(plan)  # the floor gets the layout, heights and validation options for free
    ops = floor_ops(books)
    floor = timed(lambda: raw_xlsxwriter(ops))
    ours = timed(lambda: gen_ours(plan))
    cells = sum(len(s.cells) for b in books for s in b.sheets)
    print(f"generate {label}: {len(books)} workbooks, {cells:,} cells: piao-xls {ours:.2f} s, "
          f"raw xlsxwriter floor {floor:.2f} s, ratio {ours / floor:.2f}x (target <= 1.5x)")


def bench_consolidation(plan, n_files: int, folder: Path) -> None:

    from piao_xls.results.consolidate import consolidate

    files = []
    for sector in plan.sectors[:n_files]:
        book = sector_workbook(plan, sector)
        values = sample_values(book.sheets[1], seed=1, year=plan.year)
        path = folder / book.filename
        path.write_bytes(render(book, prefill=values))
        files.append(path)

    def calamine_floor():
        calamine_read(files)

    cores = os.cpu_count() or 1
    floor, ours, many = float("inf"), float("inf"), float("inf")
    for _ in range(3):  # interleaved, best of 3: this machine's speed drifts by 30% from minute to minute
        floor = min(floor, timed(calamine_floor))
        ours = min(ours, timed(lambda: consolidate([folder], plan)))
        many = min(many, timed(lambda: consolidate([folder], plan, jobs=cores)))
    opx = timed(lambda: openpyxl_floor(files))
    print(f"consolidate {len(files)} sector workbooks: piao-xls {ours:.2f} s with 1 process, {many:.2f} s with "
          f"--jobs {cores}; calamine floor {floor:.2f} s (ratio {ours / floor:.2f}x with 1 process, "
          f"{many / floor:.2f}x with {cores}; target <= 2x); openpyxl reading {opx:.2f} s (piao-xls is "
          f"{opx / ours:.1f}x faster with 1 process, {opx / many:.1f}x with {cores}; target >= 10x); best of 3")


def _stage_times(plan, files: list[Path]) -> dict[str, float]:
    """Seconds spent in each stage of reading ``files`` (one process), stage by stage as the reader runs."""
    from piao_xls.returns import reader
    from piao_xls.sheetio.book import read_book
    from piao_xls.sheetio.safeopen import open_package, read_bounded

    spent = dict.fromkeys(("read and hash", "guard (zip, package, relationships)", "document properties",
                           "layout of the sector (once per sector)", "one parse (values, formulas, styles)",
                           "tamper check (labels, formulas, looks, area)", "input values and rules"), 0.0)
    keys = list(spent)

    def lap(i: int, t: float) -> float:
        now = time.perf_counter()
        spent[keys[i]] += now - t
        return now

    for f in files:
        t = time.perf_counter()
        data = read_bounded(f)
        __import__("hashlib").sha256(data).hexdigest()
        t = lap(0, t)
        package = open_package(data, f.name, extent=False)
        t = lap(1, t)
        props, _ = reader.read_properties(package)
        t = lap(2, t)
        layout = reader.expected_layout(plan, props)
        sheets = [s for s in layout.sheets if s.kind != "instructions"]
        for s in sheets:
            reader._full_expected(s)
        t = lap(3, t)
        areas = {s.name: (s.last_row, 7) for s in sheets}
        book = read_book(package, areas)
        t = lap(4, t)
        for s in sheets:
            reader._check_tamper(book.sheet(s.name), s, reader._full_expected(s), book, str(f))
        t = lap(5, t)
        for s in sheets:
            reader._read_sheet(book.sheet(s.name), s, s.sector_code, plan, str(f))
        lap(6, t)
    return spent


def bench_end_to_end(plan_yaml: str, n_files: int, folder: Path) -> None:
    """`piao-xls consolidate` of n filled workbooks as a user runs it, timed from outside; where the seconds go."""
    import subprocess

    from piao_xls.core.gcpause import paused_gc
    from piao_xls.results.consolidate import consolidate
    from piao_xls.results.summary import write_summary

    plan_path = folder / "plan.yaml"
    plan_path.write_text(plan_yaml, encoding="utf-8")
    t = time.perf_counter()
    plan, _ = parse_plan(plan_yaml, str(plan_path))
    plan_parse = time.perf_counter() - t
    t = time.perf_counter()
    plan.fingerprint  # noqa: B018  (computed once per plan, on the first file)
    fingerprint = time.perf_counter() - t
    inbox = folder / "inbox"
    inbox.mkdir()
    files = []
    for sector in plan.sectors[:n_files]:
        book = sector_workbook(plan, sector)
        path = inbox / book.filename
        path.write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=1, year=plan.year)))
        files.append(path)
    cli = [sys.executable, "-m", "piao_xls.cli", "consolidate", str(inbox), "--plan", str(plan_path),
           "-o", str(folder / "riepilogo.xlsx")]
    outside = {}
    for jobs in (1, os.cpu_count() or 1):
        t = time.perf_counter()
        subprocess.run([*cli, "--jobs", str(jobs)], capture_output=True, check=False)
        outside[jobs] = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import piao_xls.cli"], check=True)
    startup = time.perf_counter() - t

    def calamine_floor():
        calamine_read(files)

    floor = timed(calamine_floor, 2)
    opx = timed(lambda: openpyxl_floor(files))
    with paused_gc():
        stages = _stage_times(plan, files)
        t = time.perf_counter()
        c = consolidate([inbox], plan)
        whole = time.perf_counter() - t
        t = time.perf_counter()
        write_summary(c, folder / "again.xlsx")
        summary = time.perf_counter() - t
    reading = sum(stages.values())
    print(f"end to end: `piao-xls consolidate` of {len(files)} workbooks ({plan_path.name}, "
          f"{len(plan.sectors)} sectors): {outside[1]:.2f} s with --jobs 1, {outside[max(outside)]:.2f} s with "
          f"--jobs {max(outside)}; python-calamine reading the same files {floor:.2f} s "
          f"({outside[1] / floor:.1f}x); openpyxl read-only {opx:.2f} s ({opx / outside[1]:.2f}x of piao-xls)")
    print("  where the seconds go (one process, measured stage by stage):")
    rows = [("start-up (python, imports)", startup), ("plan file parsed", plan_parse),
            ("plan fingerprint", fingerprint)]
    rows += [(f"reading: {k}", v) for k, v in stages.items()]
    rows += [("scoring, conflicts, summary rows (consolidate minus reading)", max(0.0, whole - reading)),
             ("summary workbook written", summary)]
    for name, secs in rows:
        print(f"    {name:<62} {secs:6.2f} s")


def _run_cli(args: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Run a command, return (seconds, peak RSS in MB of the process and its reaped children, exit code).

    ``cwd``: where it runs. `python -m` puts the current folder first on the path: run from a checkout, every
    version would import that checkout's package instead of the one its PYTHONPATH names."""
    import subprocess

    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def bench_cli(plan_path: Path, inbox: Path, out: Path, baseline: str | None, rounds: int = 3) -> None:
    """`piao-xls consolidate` as a user runs it (one process, then the default --jobs), timed from outside,
    next to both floors, in interleaved rounds: best of ``rounds``."""
    files = sorted(p for p in inbox.iterdir() if p.suffix == ".xlsx")
    cores = os.cpu_count() or 1
    cache = out / "cache"
    env = dict(os.environ, PIAO_XLS_CACHE_DIR=str(cache))
    # as a user runs it: pip compiles an installed package's bytecode, and Python keeps it for a source tree;
    # an environment that forbids bytecode would compile every module of the tool again on every run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    here = str(Path(__file__).resolve().parent.parent)
    versions = {"piao-xls": dict(env, PYTHONPATH=here)}
    if baseline:
        versions["baseline"] = dict(env, PYTHONPATH=str(Path(baseline).resolve()))

    def cmd(jobs: int) -> list[str]:
        return [sys.executable, "-m", "piao_xls.cli", "consolidate", str(inbox), "--plan", str(plan_path),
                "--jobs", str(jobs), "-o", str(out / "s.xlsx")]

    cold = _run_cli(cmd(1), versions["piao-xls"], out)  # fills the plan cache (and writes the tool's bytecode)
    for name, e in versions.items():
        if name != "piao-xls":
            _run_cli(cmd(1), e, out)  # the same for the baseline: not counted
    best: dict[str, tuple[float, float]] = {}

    def keep(key: str, secs: float, rss: float = 0.0) -> None:
        old = best.get(key)
        best[key] = (min(secs, old[0]), max(rss, old[1])) if old else (secs, rss)

    for done in range(1, rounds + 1):
        keep("calamine", timed(lambda: calamine_read(files)))
        keep("openpyxl", timed(lambda: openpyxl_floor(files)))
        for name, e in versions.items():
            for jobs in sorted({1, cores}):
                secs, rss, code = _run_cli(cmd(jobs), e, out)
                if code not in (0, 1):
                    raise SystemExit(f"{name} --jobs {jobs} failed with exit code {code}")
                keep(f"{name} {jobs}", secs, rss)
        _print_cli(best, cold, files, plan_path, versions, done)


def _print_cli(best: dict[str, tuple[float, float]], cold: tuple[float, float, int], files: list[Path],
               plan_path: Path, versions: dict, rounds: int) -> None:
    """The figures so far (printed after every round: a slow machine still gives the rounds it finished)."""
    cores = os.cpu_count() or 1
    cal, opx = best["calamine"][0], best["openpyxl"][0]
    print(f"cli: `piao-xls consolidate` of {len(files)} workbooks ({plan_path.name}), whole process, best of "
          f"{rounds} interleaved round{'s' if rounds > 1 else ''}; peak RSS is the largest of the rounds", flush=True)
    print(f"  python-calamine reading every cell {cal:6.2f} s   1.00x")
    print(f"  openpyxl read-only, every cell     {opx:6.2f} s  {opx / cal:5.2f}x")
    for name in versions:
        for jobs in sorted({1, cores}):
            secs, rss = best[f"{name} {jobs}"]
            print(f"  {name:<9} --jobs {jobs:<2}                {secs:6.2f} s  {secs / cal:5.2f}x calamine, "
                  f"{opx / secs:4.2f}x faster than openpyxl, peak RSS {rss:4.0f} MB")
    secs, rss, _ = cold
    print(f"  piao-xls  --jobs 1, first run (no cache) {secs:6.2f} s  {secs / cal:5.2f}x calamine, "
          f"peak RSS {rss:4.0f} MB (before the rounds)")
    print("  targets (--jobs 1): <= 10x calamine, >= 1.5x faster than openpyxl", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sectors", type=int, default=200)
    ap.add_argument("--objectives", type=int, default=40)
    ap.add_argument("--files", type=counts_arg, default=[200, 2000],
                    help="file counts for the scale figures (the first also for the 40-objective plan), e.g. 200,2000")
    ap.add_argument("--scale-objectives", type=int, default=8, help="objectives per sector of the scale plan")
    ap.add_argument("--openpyxl-sample", type=int, default=200, help="files read with openpyxl (then scaled)")
    ap.add_argument("--only", choices=["consolidation", "cli"],
                    help="consolidation: the consolidation figures (with the end-to-end run); cli: the command as a "
                         "user runs it next to both floors")
    ap.add_argument("--baseline", help="with --only cli: a checkout of another version, run in the same rounds")
    ap.add_argument("--inbox", type=Path, help="with --only cli: a folder of returned workbooks to use (with --plan)")
    ap.add_argument("--plan", type=Path, help="with --only cli: the plan file of --inbox")
    ap.add_argument("--rounds", type=int, default=3, help="with --only cli: interleaved rounds (best of)")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    if args.only == "cli":
        with tempfile.TemporaryDirectory() as d:
            out = Path(d)
            if args.inbox and args.plan:
                plan_path, inbox = args.plan, args.inbox
            else:
                from scale import make_files

                plan_path, inbox = out / "plan.yaml", out / "inbox"
                plan_path.write_text(synthetic_plan_yaml(args.sectors, args.objectives, 3), encoding="utf-8")
                plan, _ = parse_plan(plan_path.read_text(encoding="utf-8"), str(plan_path))
                make_files(plan, args.files[0], inbox)
            bench_cli(plan_path, inbox, out, args.baseline, args.rounds)
        return
    if not args.only:
        bench_generation(load_plan(), "bundled plan")
    t = time.perf_counter()
    plan_yaml = synthetic_plan_yaml(args.sectors, args.objectives, 3)
    plan, _ = parse_plan(plan_yaml, "synthetic")
    print(f"synthetic plan {args.sectors}x{args.objectives}x3 parsed in {time.perf_counter() - t:.2f} s")
    if not args.only:
        bench_generation(plan, f"synthetic {args.sectors}x{args.objectives}x3")
    with tempfile.TemporaryDirectory() as d:
        bench_consolidation(plan, args.files[0], Path(d))
    with tempfile.TemporaryDirectory() as d:
        bench_end_to_end(plan_yaml, args.files[0], Path(d))
    if args.only:
        return
    bench_startup()
    bench_scale(args.files, args.scale_objectives, args.openpyxl_sample)


if __name__ == "__main__":
    main()
