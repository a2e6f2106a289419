"""Docs are checked by tests (as in sqlite-utils): every command documented, with help and an example."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from piao_xls.cli import cli
from piao_xls.core.errors import CODES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, full + " ")
        else:
            yield full, cmd


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_with_example_and_is_in_readme(name, cmd):
    assert cmd.help and "Esempio:" in cmd.help, f"{name}: --help needs an example (Esempio:)"
    assert f"piao-xls {name}" in README, f"README.md does not document `piao-xls {name}`"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Uso:" in result.output


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_error_code_is_documented(code):
    assert code in README, f"README.md does not list the code {code}"


def test_readme_has_the_two_copy_paste_commands():
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    assert any("pip install" in b and "piao-xls genera" in b for b in blocks)
    assert any("pip install" in b and "pytest" in b for b in blocks)
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = next(b for b in blocks if "pytest" in b).strip()
    assert "python3 -m venv" in test_cmd and "ruff check" in test_cmd  # a stock Debian refuses a system-wide pip
    assert "ruff check . && .venv/bin/mypy && .venv/bin/python -m pytest" in test_cmd  # lint, types, then tests
    assert test_cmd in ci  # CI runs the README's test command, verbatim


def test_architecture_page_names_the_packages_that_exist():
    from test_architecture import LAYERS

    page = (ROOT / "docs" / "architecture.md").read_text()
    pkgs = sorted(p.name for p in (ROOT / "piao_xls").iterdir() if (p / "__init__.py").exists())
    named = set(re.findall(r"`piao_xls/([a-z_]+)/`", page))
    assert named >= set(pkgs), f"docs/architecture.md does not describe: {sorted(set(pkgs) - named)}"
    # a package the page describes as present must exist, unless the page says "(when present)"
    for name in named - set(pkgs):
        row = next(line for line in page.splitlines() if f"`piao_xls/{name}/`" in line)
        assert "when present" in row, f"docs/architecture.md describes piao_xls/{name}/, which does not exist"
    layered = {n for names in LAYERS for n in names}
    assert set(pkgs) <= layered, f"packages missing from the layer contract: {sorted(set(pkgs) - layered)}"


def test_error_code_table_is_generated_from_the_registry():
    from piao_xls.core.errors import codes_table

    page = (ROOT / "docs" / "errors.md").read_text()
    assert page == codes_table(), "docs/errors.md is out of date: regenerate it (command at its top)"


# --- docs/targets.md: the grammar for the person who transcribes the PIAO ---------------------------------

TARGETS_DOC = (ROOT / "docs" / "targets.md").read_text()


def _phrase_rows():
    """(phrase, rule column, inputs column) of every phrase table in docs/targets.md."""
    for line in TARGETS_DOC.splitlines():
        m = re.fullmatch(r"\| (`[^`]*`|\*\(vuoto\)\*) \| `([a-z_]+)`: (.*) \| (.*) \|", line)
        if m:
            phrase = "" if m.group(1).startswith("*") else m.group(1)[1:-1]
            yield phrase, m.group(2), m.group(3), m.group(4)


def test_targets_doc_lists_every_rule_kind_with_how_it_is_scored():
    from piao_xls.core.rules import KINDS

    for kind in KINDS.values():
        assert f"| `{kind.name}` | {kind.label_it} | {kind.doc_it} |" in TARGETS_DOC, kind.name


@pytest.mark.parametrize(("phrase", "kind", "reading", "inputs"), list(_phrase_rows()))
def test_targets_doc_phrase_table_says_what_the_grammar_does(phrase, kind, reading, inputs):
    from piao_xls.core.targets import inputs_for, read_target

    description = "Importo somme accertate / importo somme stanziate" if "somme" in phrase else ""
    r = read_target(phrase, description, 2025)
    assert r.rule.kind == kind
    assert r.text_it().replace("|", "/") == reading
    assert "; ".join(s.label for s in inputs_for(r.rule, 2025)) == inputs


def _refused_rows():
    """(phrase, reason) of the table of refused phrases in docs/targets.md (a row with words after the phrase,
    such as a description it needs, is left out)."""
    section = TARGETS_DOC.split("### Frasi rifiutate", 1)[1]
    for line in section.splitlines():
        m = re.fullmatch(r"\| `([^`]+)` \| ([^|]+) \|", line)
        if m:
            yield m.group(1), m.group(2)


@pytest.mark.parametrize(("phrase", "reason"), list(_refused_rows()))
def test_targets_doc_refused_phrases_are_refused(phrase, reason):
    from piao_xls.core.targets import TargetError, read_target

    with pytest.raises(TargetError, match=r"^target «"):
        read_target(phrase, "", 2025)


def test_targets_doc_lists_refused_phrases():
    assert len(list(_refused_rows())) >= 14


def test_targets_doc_has_enough_phrases():
    assert len(list(_phrase_rows())) >= 50


def test_readme_year_block_runs_to_stato_when_pasted(tmp_path):
    """The README's year block, pasted into a fresh shell after the Quick start (a .venv with piao-xls), runs to
    ``stato`` with no error: every command exits 0 or 1 (findings: the placeholder addresses), none 2 or 3."""
    import os
    import subprocess
    import sys

    block = next(b for b in re.findall(r"```bash\n(.*?)```", README, re.S) if "piao-xls crea PIAO-2025" in b)
    lines = [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    upto = next(i for i, ln in enumerate(lines) if ln.startswith("piao-xls stato"))
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    script = "\n".join(f'{ln}\necho "EXIT=$?"' for ln in lines[:upto + 1])
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "LC_ALL": "C.UTF-8"})
    codes = [int(c) for c in re.findall(r"EXIT=(\d+)", r.stdout)]
    assert len(codes) == upto + 1, (r.stdout, r.stderr)
    assert all(c in (0, 1) for c in codes), (codes, r.stdout, r.stderr)
    assert "Errore:" not in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert "Comune di Truccazzano — PIAO 2025" in r.stdout and (tmp_path / "PIAO-2025" / "moduli" / "2025").is_dir()
