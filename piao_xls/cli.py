"""The ``piao-xls`` command line: a thin click layer over the library.

It parses options, calls the library and turns library exceptions into clear messages.
Heavy modules (openpyxl, pandas, xlsxwriter) are imported inside the commands that need them,
so that ``piao-xls --help`` and ``plan check`` start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__

PLAN_HELP = "Plan file (YAML). Default: the bundled templates/truccazzano-2025.yaml."


def _plan_path(plan: str | None) -> Path:
    from .planfile import bundled_plan_path

    return Path(plan) if plan else bundled_plan_path()


def _load_plan_or_exit(plan: str | None):
    """Load a plan; on errors print them and exit 2 (a usage error for every command but `plan check`)."""
    from .planfile import check_plan

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
    from .planfile import check_plan
    from .report import plan_summary, plan_summary_text

    path = _plan_path(plan_file)
    p, findings = check_plan(path)
    summary = plan_summary(p, findings)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        click.echo(plan_summary_text(p, findings, str(path), verbose=verbose))
    sys.exit(1 if summary["errors"] else 0)


def main() -> None:
    cli(prog_name="piao-xls")


if __name__ == "__main__":
    main()
