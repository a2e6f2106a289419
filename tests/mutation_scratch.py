"""A scratch copy of the tree for one mutmut run on one module (docs/mutation.md).

    .venv/bin/python tests/mutation_scratch.py evaluation /tmp/mut-evaluation
    cd /tmp/mut-evaluation && ../path/to/.venv/bin/mutmut run --max-children 1 'piao_xls.core.evaluation.*'

The copy holds the files git knows (tracked and untracked, not ignored); its pyproject.toml mutates only the
module and selects only the tests that exercise it, so that mutmut's first full run (which maps every test to
the functions it calls) stays short. The working tree itself is never mutated.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

#: module -> (file to mutate, the tests that exercise it; no LibreOffice, no mail server)
MODULES = {
    "evaluation": ("piao_xls/core/evaluation.py", ["tests/test_evaluation.py", "tests/test_documented_rules.py",
                                                    "tests/test_decisions.py", "tests/test_summary.py"]),
    "consolidate": ("piao_xls/results/consolidate.py", ["tests/test_evaluation.py", "tests/test_documented_rules.py",
                                                        "tests/test_decisions.py", "tests/test_summary.py"]),
    # the consolidation again, with the tests of what only a workspace or a revised plan gives it: the provenance of
    # the ledger and of the files (`submissions_of`), the plan version of each form (`_mark_versions`)
    "provenance": ("piao_xls/results/consolidate.py", ["tests/test_which_return_counts.py", "tests/test_revisions.py"]),
    "book": ("piao_xls/sheetio/book.py", ["tests/test_parse.py", "tests/test_reader.py", "tests/test_tamper.py",
                                          "tests/test_documented_rules.py", "tests/test_value_oracle.py",
                                          "tests/test_hostile.py"]),
    # (test_answers and the rule kinds end to end: the values «non disponibile» and the judgements the reader's
    # check of required values meets; without them 76 of its mutants survived the run and died by hand)
    "reader": ("piao_xls/returns/reader.py", ["tests/test_reader.py", "tests/test_tamper.py",
                                              "tests/test_documented_rules.py", "tests/test_value_oracle.py",
                                              "tests/test_hostile.py", "tests/test_answers.py",
                                              "tests/test_rule_kinds_end_to_end.py"]),
    # the reader's reading view of a sector, kept in the layout cache (`_reading_view`, `_expected_fields`,
    # `_expected_fields_ok`): a view is loaded from disk, and checked, only by a read in a later process or after
    # the in-process layouts are dropped, which the tests of the layout cache do
    "view": ("piao_xls/returns/reader.py", ["tests/test_layout_cache.py", "tests/test_reader.py"]),
    # the value checks of docs/inputs.md alone (`validate_value`): the tests that call it directly; every test
    # that reads a workbook calls it too, which makes each surviving mutant cost minutes with the selection above
    "values": ("piao_xls/returns/reader.py", ["tests/test_value_oracle.py", "tests/test_documented_rules.py",
                                              "tests/test_italian.py"]),
}


#: module -> tests left out of its run: they take most of the selection's time and check something else (the page
#: layout of a 200-sector summary), while every surviving mutant runs every selected test that calls it
SLOW = {
    "evaluation": ["tests/test_summary.py::test_two_hundred_sectors_page_the_overview_and_no_page_break_cuts_a_chart"],
    "consolidate": ["tests/test_summary.py::test_two_hundred_sectors_page_the_overview_and_no_page_break_cuts_a_chart"],
}


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def main(module: str, dest: Path) -> None:
    source, tests = MODULES[module]
    root = Path(__file__).resolve().parent.parent
    if dest.exists():
        raise SystemExit(f"{dest} exists: give a new folder")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root, check=True,
                           capture_output=True, text=True).stdout.split()
    for f in files:
        if (root / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / f, dest / f)
    pyproject = dest / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    text = re.sub(r"only_mutate = \[.*?\]\n", f"only_mutate = {toml_list([source])}\n", text, flags=re.S)
    text = re.sub(r"pytest_add_cli_args_test_selection = \[.*?\]\n",
                  f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n", text, flags=re.S)
    deselect = "".join(f', "--deselect", "{t}"' for t in SLOW.get(module, ()))
    text = re.sub(r"(pytest_add_cli_args = \[.*?)\]\n", lambda m: f"{m.group(1)}{deselect}]\n", text, count=1, flags=re.S)
    pyproject.write_text(text, encoding="utf-8")
    left_out = f"; left out: {', '.join(SLOW[module])}" if module in SLOW else ""
    print(f"{dest}: mutates {source}; tests {', '.join(tests)}{left_out}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in MODULES:
        raise SystemExit(f"usage: {sys.argv[0]} {{{','.join(MODULES)}}} DEST")
    main(sys.argv[1], Path(sys.argv[2]))
