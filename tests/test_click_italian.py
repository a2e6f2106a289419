"""click's own messages (usage, errors, help) are Italian, from a gettext catalogue
(piao_xls/locale/it/LC_MESSAGES/click.po, compiled to click.mo).

Every message the installed click can show is read from click's own source (each ``_("…")`` and
``ngettext("…", "…")`` call): a click upgrade that adds or renames a message fails here instead of
falling back to English in front of the finance office.
"""

from __future__ import annotations

import ast
import gettext
import io
import pathlib
import re

import click
import pytest
from click.testing import CliRunner

from piao_xls.cli import CLICK_MODULES, LOCALE_DIR, cli, click_catalogue

CLICK_DIR = pathlib.Path(click.__file__).resolve().parent
PO = LOCALE_DIR / "it" / "LC_MESSAGES" / "click.po"
#: the same word in Italian
SAME_IN_ITALIAN = {"file"}
#: click modules that only run on Windows
WINDOWS_ONLY = {"click._winconsole"}
ENGLISH = re.compile(r"\b(Usage|Error|Try|Invalid|Missing|No such|Got unexpected|Options|Commands|requires|"
                     r"is not|does not|Did you mean|Show this)\b")


def _click_messages() -> tuple[set[str], set[tuple[str, str]]]:
    singular: set[str] = set()
    plural: set[tuple[str, str]] = set()
    for path in sorted(CLICK_DIR.glob("*.py")):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("_", "ngettext")):
                continue
            texts = [a.value for a in n.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if n.func.id == "_" and texts:
                singular.add(texts[0])
            elif n.func.id == "ngettext" and len(texts) >= 2:
                plural.add((texts[0], texts[1]))
    return singular, plural


def test_every_message_of_click_is_in_the_catalogue_in_italian():
    singular, plural = _click_messages()
    assert len(singular) > 50 and len(plural) >= 5  # the scan found click's messages
    catalogue = click_catalogue()
    untranslated = [m for m in sorted(singular) if catalogue.gettext(m) == m and m not in SAME_IN_ITALIAN]
    assert not untranslated, f"click messages missing from {PO.name}: {untranslated}"
    for one, many in sorted(plural):
        it_one, it_many = catalogue.ngettext(one, many, 1), catalogue.ngettext(one, many, 2)
        assert (it_one, it_many) != (one, many), f"plural message missing from {PO.name}: {one!r}"
        # the placeholders survive translation (a missing one would raise in click's .format())
        for en, it in ((one, it_one), (many, it_many)):
            assert set(re.findall(r"\{(\w+)", it)) <= set(re.findall(r"\{(\w+)", en)) | set(
                re.findall(r"\{(\w+)", one + many)), (en, it)


def test_every_click_module_that_speaks_is_bound_to_the_catalogue():
    speaking = {f"click.{p.stem}" for p in CLICK_DIR.glob("*.py")
                if re.search(r"^from gettext import", p.read_text(encoding="utf-8"), re.M)}
    assert speaking - WINDOWS_ONLY == set(CLICK_MODULES)
    catalogue = click_catalogue()
    import importlib

    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        assert module._("Usage:") == catalogue.gettext("Usage:") == "Uso:"


def test_the_compiled_catalogue_is_the_source():
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        source = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, source)
    buf.seek(0)
    fresh = gettext.GNUTranslations(buf)
    shipped = click_catalogue()
    singular, plural = _click_messages()
    for m in singular:
        assert shipped.gettext(m) == fresh.gettext(m), f"click.mo is older than click.po: {m!r}"
    for one, many in plural:
        for n in (1, 2):
            assert shipped.ngettext(one, many, n) == fresh.ngettext(one, many, n)


@pytest.mark.parametrize("args", [
    ["consolidate", "--bogus"],  # unknown option, with a suggestion
    ["generate", "a", "b", "c"],  # extra arguments
    ["consolidate", "--jobs", "0", "x"],  # out of range
    ["consolidate", "--jobs", "tanti", "x"],  # not a number
    ["send", "--via", "piccione"],  # not a choice
    ["relazione", "--results"],  # option without its value
    ["nonesiste"],  # unknown command
    ["plan"],  # a group without its command
    ["consolidate", "--help"],
    ["--help"],
    ["--version"],
])
def test_what_click_shows_is_italian(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, args)
    text = r.output
    assert text.strip(), args
    assert not ENGLISH.search(text), (args, ENGLISH.search(text), text)
