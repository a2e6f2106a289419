"""A year's workspace for the mail tests: created and given its forms as a clerk would, through the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from piao_xls.cli import cli


def invoke(ws: Path, *args: str, env: dict[str, str] | None = None):
    """Run ``piao-xls -C ws ARGS`` in process and return click's result."""
    return CliRunner().invoke(cli, ["-C", str(ws), *args], env=env)


def new_workspace(root: Path, name: str = "ws", deadline: str = "2026-01-31", addresses: bool = False,
                  italian: bool = False) -> Path:
    """A workspace ``root/name`` with the bundled plan and its forms generated. ``addresses``: each sector gets a
    real-looking address (see ``test_year.real_addresses``); ``italian``: the commands are called by their
    Italian names, as the README tells a clerk to."""
    from test_year import real_addresses

    ws = root / name
    init, generate = ("crea", "genera") if italian else ("init", "generate")
    r = CliRunner().invoke(cli, [init, str(ws), "--scadenza", deadline])
    assert r.exit_code == 0, r.output
    if addresses:
        real_addresses(ws / "piao-xls.toml")
    r = invoke(ws, generate)
    assert r.exit_code == 0, r.output
    return ws
