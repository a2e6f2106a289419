"""The ``piao-xls`` command line: a thin click layer over the library.

It parses options, calls the library and turns library exceptions into clear messages.
Heavy modules (openpyxl, pandas, xlsxwriter) are imported inside the commands that need them,
so that ``piao-xls --help`` and ``plan check`` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .core import __version__

PLAN_HELP = ("Plan file (YAML) or plan workbook (.xlsx, .ods). "
             "Default: the bundled templates/truccazzano-2025.yaml.")


def _plan_path(plan: str | None) -> Path:
    from .plan.planfile import bundled_plan_path

    return Path(plan) if plan else bundled_plan_path()


def _load_plan_or_exit(plan: str | None):
    """Load a plan; on errors print them and exit 2 (a usage error for every command but `plan check`)."""
    from .plan.load import check_plan

    path = _plan_path(plan)
    p, findings = check_plan(path)
    if p is None:
        for f in findings:
            if f.severity == "error":
                click.echo(str(f), err=True)
        raise click.exceptions.Exit(2)
    return p


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="piao-xls")
def cli() -> None:
    """Turn a PIAO "Performance" plan into protected Excel workbooks for each
    Responsabile, read the returned workbooks back, check and score them.

    \b
    Workflow:
      piao-xls plan template -o piano.xlsx  # a new plan: fill the workbook, then
      piao-xls plan import piano.xlsx       #   read it into piano.yaml
      piao-xls plan check                 # validate the plan (default: bundled plan)
      piao-xls generate -o output/        # workbooks to email to the Responsabili
      piao-xls check returned/*.xlsx      # are the returned workbooks good?
      piao-xls consolidate returned/      # year-end summary for the Nucleo
    """


@cli.group()
def plan() -> None:
    """Work with plan files.

    \b
    Example:
      piao-xls plan check templates/truccazzano-2025.yaml --verbose
    """


@plan.command("check")
@click.argument("plan_file", metavar="[PLAN]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Show how every target was interpreted.")
def plan_check(plan_file: str | None, as_json: bool, verbose: bool) -> None:
    """Validate a plan file and print a summary per sector.

    Exit status 0 without errors, 1 with errors.

    \b
    Example:
      piao-xls plan check --json
    """
    from .plan.load import check_plan
    from .plan.report import plan_summary, plan_summary_text

    path = _plan_path(plan_file)
    p, findings = check_plan(path)
    summary = plan_summary(p, findings)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        click.echo(plan_summary_text(p, findings, str(path), verbose=verbose))
    sys.exit(1 if summary["errors"] else 0)


def _refuse_overwrite(path: Path, force: bool, ours: str = "") -> None:
    """Refuse to replace an existing file unless --force (or, with ``ours``, a file we wrote, starting so)."""
    if force or not path.exists():
        return
    if ours:
        try:
            if path.read_text(encoding="utf-8").startswith(ours):
                return
        except (OSError, UnicodeDecodeError):
            pass
    raise click.ClickException(f"{path} exists; use --force to overwrite it")


@plan.command("template")
@click.option("-o", "--output", default="piano.xlsx", show_default=True, type=click.Path(dir_okay=False),
              help="The plan workbook to write.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def plan_template(output: str, force: bool) -> None:
    """Write an empty plan workbook (in Italian) to fill in with Excel or LibreOffice.

    One sheet per table (Ente, Settori, Uffici, Personale, Attività, Obiettivi, Modalità,
    Indicatori, Punteggio) with dropdowns and input messages; read it back with `plan import`.

    \b
    Example:
      piao-xls plan template -o piano.xlsx
    """
    from .plan.planbook import template_bytes
    from .sheetio.atomic import write_bytes_atomic

    out = Path(output)
    _refuse_overwrite(out, force)
    write_bytes_atomic(out, template_bytes())
    click.echo(f"wrote {out}; fill it in, then run: piao-xls plan import {out}")


@plan.command("import")
@click.argument("book", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Plan file (YAML) to write. Default: BOOK with the .yaml suffix.")
@click.option("--force", is_flag=True, help="Overwrite an existing plan file not written by `plan import`.")
def plan_import(book: str, output: str | None, force: bool) -> None:
    """Read a plan workbook into a YAML plan file, with the checks of `plan check`.

    Findings name the sheet and cell. Prints how every target will be scored (as
    `plan check --verbose`). Exit status 1, and nothing written, when there are errors.

    \b
    Example:
      piao-xls plan import piano.xlsx -o piano.yaml
    """
    from .plan.planbook import IMPORT_HEADER, check_book, plan_to_yaml
    from .plan.planfile import parse_plan
    from .plan.report import plan_summary_text
    from .sheetio.atomic import write_text_atomic

    p, findings = check_book(book)
    click.echo(plan_summary_text(p, findings, book, verbose=True))
    if p is None:
        sys.exit(1)
    out = Path(output) if output else Path(book).with_suffix(".yaml")
    _refuse_overwrite(out, force, ours=IMPORT_HEADER)
    text = plan_to_yaml(p, header=f"{IMPORT_HEADER} {Path(book).name}")
    again, _ = parse_plan(text, str(out))
    if again is None or again.fingerprint != p.fingerprint:  # a bug guard: the YAML must load as the same plan
        raise click.ClickException("internal error: the YAML written does not load as the same plan")
    write_text_atomic(out, text)
    click.echo(f"wrote {out} (fingerprint {p.fingerprint[:16]})")


@plan.command("export")
@click.argument("plan_file", metavar="[PLAN]", required=False)
@click.option("-o", "--output", default="piano.xlsx", show_default=True, type=click.Path(dir_okay=False),
              help="The plan workbook to write.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def plan_export(plan_file: str | None, output: str, force: bool) -> None:
    """Write a plan as a plan workbook, filled in (the reverse of `plan import`).

    \b
    Example:
      piao-xls plan export templates/truccazzano-2025.yaml -o piano.xlsx
    """
    from .plan.planbook import check_book, export_bytes
    from .sheetio.atomic import write_bytes_atomic

    p = _load_plan_or_exit(plan_file)
    out = Path(output)
    _refuse_overwrite(out, force)
    write_bytes_atomic(out, export_bytes(p))
    again, _ = check_book(out)
    if again is None or again.fingerprint != p.fingerprint:  # a bug guard: the workbook must import as the plan
        raise click.ClickException(f"internal error: {out} does not import as the same plan")
    click.echo(f"wrote {out} ({len(p.sectors)} sectors, {len(p.objectives)} objectives, "
               f"{len(p.indicators)} indicators; fingerprint {p.fingerprint[:16]})")


@cli.command()
@click.argument("plan_file", metavar="[PLAN]", required=False)
@click.option("-o", "--output", "out_dir", default="output", show_default=True, type=click.Path(file_okay=False),
              help="Folder; files go into OUTPUT/<year>/.")
@click.option("--password", envvar="PIAO_XLS_PASSWORD", default="", show_envvar=True,
              help="Optional sheet protection password (protection prevents accidents; the checks on return, "
                   "not the password, catch tampering).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Render workbooks in N parallel processes.")
@click.option("--force", is_flag=True, help="Overwrite files that already hold filled-in values.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def generate(plan_file: str | None, out_dir: str, password: str, jobs: int, force: bool, as_json: bool) -> None:
    """Write the workbooks to email to the Responsabili.

    Writes PIAO-<year>-<Comune>.xlsx (every sector), one PIAO-<year>-<code>-<name>.xlsx per
    sector, and one workbook per external source (Nucleo di Valutazione, certifications).

    \b
    Example:
      piao-xls generate -o output/
    """
    import functools

    from .forms.generate import RefuseOverwrite
    from .forms.generate import generate as run
    from .returns.reader import why_keep

    p = _load_plan_or_exit(plan_file)
    try:
        written = run(p, out_dir, password=password, jobs=jobs, keep=None if force else functools.partial(why_keep, plan=p))
    except RefuseOverwrite as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps({"files": [w.__dict__ for w in written]}, ensure_ascii=False, indent=2))
        return
    for w in written:
        what = {"all": "all sectors", "sector": f"sector {','.join(w.sectors)}",
                "source": f"source {w.source} ({','.join(w.sectors)})"}[w.kind]
        click.echo(f"wrote {w.path}  [{what}, {w.size:,} bytes]")


def plan_option(f):
    """--plan PLAN, shared by the commands that read returned workbooks."""
    return click.option("--plan", "plan_file", default=None, type=click.Path(dir_okay=False), help=PLAN_HELP)(f)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@plan_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False),
              help="Write an Italian feedback note per file into this folder.")
@click.option("--jobs", type=click.IntRange(1, 64), default=lambda: min(64, os.cpu_count() or 1),
              show_default="number of cores", help="Read files in N parallel processes.")
def check(files: tuple[str, ...], plan_file: str | None, as_json: bool, feedback_dir: str | None, jobs: int) -> None:
    """Check returned workbooks: identity, tampering, every value, required fields.

    Exit status 0 when every file is accepted (possibly with warnings), 1 otherwise.

    \b
    Example:
      piao-xls check returned/PIAO-2025-SF-Finanziario.xlsx --feedback feedback/
    """
    from .core.gcpause import paused_gc
    from .returns.batch import read_all
    from .returns.feedback import feedback_names, feedback_text
    from .returns.reader import REJECTED
    from .sheetio.atomic import write_text_atomic

    p = _load_plan_or_exit(plan_file)
    with paused_gc():
        results = read_all([Path(f) for f in files], p, jobs=jobs, keep_raw=True)
    if feedback_dir:
        for r, name in zip(results, feedback_names([r.path for r in results]), strict=True):
            write_text_atomic(Path(feedback_dir) / name, feedback_text(r, p))
    if as_json:
        click.echo(json.dumps({"files": [r.to_dict() for r in results]}, ensure_ascii=True, indent=2))
    else:
        for r in results:
            click.echo(f"{_printable(r.path)}: {r.status} (sectors: {', '.join(r.sector_codes) or '-'}, "
                       f"{len(r.findings)} finding(s))")
            for f in r.findings:
                where = f"'{f.sheet}'!{f.cell}" if f.sheet and f.cell else (f"'{f.sheet}'" if f.sheet else "")
                click.echo(f"  {f.severity} {f.code} {_printable(where)}: {_printable(f.message)}")
    sys.exit(1 if any(r.status == REJECTED for r in results) else 0)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@plan_option
@click.option("-o", "--output", "summary", default=None, type=click.Path(dir_okay=False),
              help="Summary workbook. Default: output/<year>/PIAO-<year>-Riepilogo.xlsx")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Also write the results as JSON.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False), help="Also write one CSV per table here.")
@click.option("--prefer-newest", is_flag=True, help="On conflicting files for a sector, use the last-saved one.")
@click.option("--jobs", type=click.IntRange(1, 64), default=lambda: min(64, os.cpu_count() or 1),
              show_default="number of cores", help="Read files in N parallel processes.")
def consolidate(paths: tuple[str, ...], plan_file: str | None, summary: str | None, json_file: str | None,
                csv_dir: str | None, prefer_newest: bool, jobs: int) -> None:
    """Read every returned workbook under PATHS and write the year-end summary.

    PATHS are files or folders (recursed). Exit status 0 when every sector is scored from an
    accepted submission, 1 otherwise, 2 for usage errors.

    \b
    Example:
      piao-xls consolidate returned/ -o output/2025/riepilogo.xlsx --json results.json
    """
    from .results.consolidate import consolidate as run
    from .results.summary import write_csv, write_json, write_summary

    p = _load_plan_or_exit(plan_file)
    with _Progress(enabled=not json_file and sys.stderr.isatty()) as progress:
        c = run(list(paths), p, prefer_newest=prefer_newest, jobs=jobs, progress=progress)
    out = Path(summary) if summary else Path("output") / str(p.year) / f"PIAO-{p.year}-Riepilogo.xlsx"
    write_summary(c, out)
    if json_file:
        write_json(c, json_file)
    if csv_dir:
        write_csv(c, csv_dir)
    for s in c.sectors:
        score = f"{s['score']:.2f} ({s['band']})" if s["score"] is not None else "-"
        click.echo(f"{s['code']:4} {score:>12}  {s['status']}")
    errors = sum(1 for f in c.findings if f["severity"] == "error")
    click.echo(f"{len(c.results)} file(s) read, {len(c.skipped)} skipped, {errors} error finding(s); "
               f"summary: {out}")
    sys.exit(0 if c.ok else 1)


def _printable(text: str) -> str:
    """Text from a file or a file name, with control characters and invalid UTF-8 escaped (one line)."""
    from .sheetio.text import printable

    return printable(text)


class _Progress:
    """A progress bar on stderr for long runs (only on a terminal); a callable ``progress(done, total)``."""

    MIN_FILES = 20

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < self.MIN_FILES:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="reading", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def main() -> None:
    cli(prog_name="piao-xls")


if __name__ == "__main__":
    main()
