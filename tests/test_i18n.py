"""The reports in Chinese: the language chosen (--lang, WXREC_LANG, the locale), the catalog complete and
compiled, and no English left from the catalog in a Chinese report."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from reconciler import i18n
from reconciler.errors import WxrecError
from reconciler.render.html import render_html
from reconciler.render.markdown import render_markdown
from reconciler.render.text import summary_line
from tests.support import wxrec

ROOT = Path(__file__).parent.parent
PO = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "wxrec.po"
GOLDEN = Path(__file__).parent / "golden"
PLANS = sorted(GOLDEN.glob("plan-*.json"))
# What a msgid holds that is not English prose: placeholders, commands in code, markup.
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}|<code>.*?</code>|<[^>]*>|`[^`]*`")


def _catalog() -> dict[str, str]:
    """msgid → its translation; a plural's key is its (singular, plural) pair, its text the one Chinese form."""
    with PO.open("rb") as po:
        return {str(message.id): _first(message.string) for message in read_po(po) if message.id}


def _first(text: Any) -> str:
    return str(text[0]) if isinstance(text, tuple) else str(text)


def _translated(compiled: Translations, key: str) -> str:
    if key.startswith(("('", '("')):  # a plural pair, repr'd with double quotes when it holds an apostrophe
        singular, plural = ast.literal_eval(key)
        return compiled.ngettext(singular, plural, 1)
    return compiled.gettext(key)


def _fragments(msgid: str) -> list[str]:
    """The English words of a msgid between its placeholders and markup, as they appear in a report."""
    return [part.strip(" .,:;()") for part in PLACEHOLDER.split(msgid) if re.search(r"[a-z]{3}", part)]


@pytest.mark.parametrize(
    ("requested", "environ", "expected"),
    [
        (None, {}, "en"),
        ("zh-CN", {"WXREC_LANG": "en"}, "zh-cn"),
        ("zh_CN", {}, "zh-cn"),
        ("EN", {"LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"WXREC_LANG": "zh-CN", "LANG": "en_US.UTF-8"}, "zh-cn"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh-cn"),
        (None, {"LC_ALL": "zh_CN.utf8", "LANG": "en_US.UTF-8"}, "zh-cn"),
        (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LANGUAGE": "zh_CN:en", "LANG": "C"}, "zh-cn"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),
    ],
)
def test_the_language_comes_from_lang_then_wxrec_lang_then_the_locale(
    requested: str | None, environ: dict[str, str], expected: str
) -> None:
    assert i18n.language_of(requested, environ) == expected


@pytest.mark.parametrize(
    ("requested", "environ", "source"), [("fr", {}, "--lang"), (None, {"WXREC_LANG": "de"}, "WXREC_LANG")]
)
def test_a_language_asked_for_by_name_and_unknown_is_refused(
    requested: str | None, environ: dict[str, str], source: str
) -> None:
    with pytest.raises(WxrecError, match=f"{source} '(fr|de)': wxrec's reports are in en or zh-CN"):
        i18n.language_of(requested, environ)


def test_every_message_is_translated() -> None:
    catalog = _catalog()
    assert catalog and [msgid for msgid, text in catalog.items() if not text.strip()] == []
    with PO.open("rb") as po:
        assert [m.id for m in read_po(po) if m.fuzzy and m.id] == []


def test_the_catalog_holds_exactly_the_marked_strings() -> None:
    """A string marked in the code but missing from the .po would stay English: run scripts/i18n extract."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "N_": None, "said": None, "said_n": (1, 2), "gettext": None, "ngettext": (1, 2)}
    marked = {
        str(message)  # a plural is its (singular, plural) pair, as the catalog's keys spell it
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "reconciler", method_map, options_map, keywords=keywords
        )
    }
    assert marked == set(_catalog())


def test_a_message_marked_inside_an_f_string_is_in_the_catalog_too() -> None:
    """Babel's extractor skips an f-string's expressions: `f"| {_('account')} |"` stayed English in every report."""
    marked = set()
    for path in (ROOT / "reconciler").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_", "said")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                marked.add(node.args[0].value)
    assert sorted(marked - set(_catalog())) == []


def test_the_compiled_catalog_matches_its_po() -> None:
    """The .mo is committed (pip install . needs no build step): it must say what the .po says."""
    compiled = Translations.load(i18n.LOCALE_DIR, ["zh_CN"], i18n.DOMAIN)
    assert isinstance(compiled, Translations)
    assert {key: _translated(compiled, key) for key in _catalog()} == _catalog()


def _free_text(plan: dict[str, Any]) -> str:
    """What the plan document itself says (reasons, notes, values): not the report's own words."""
    return json.dumps(plan, ensure_ascii=False)


def _report_words(report: str, plan: dict[str, Any]) -> str:
    """A report without the summary line, which render/text.py writes for every format and does not translate yet
    (the one-source summary of issue 14's "honest output" is reworking it)."""
    return report.replace(summary_line(plan), "")


@pytest.mark.parametrize("path", PLANS, ids=lambda path: path.stem)
def test_a_chinese_markdown_report_keeps_no_english_from_the_catalog(path: Path) -> None:
    plan = json.loads(path.read_text(encoding="utf-8"))
    english = render_markdown(plan)
    with i18n.language("zh-cn"):
        chinese = render_markdown(plan)
    own_words = [
        fragment
        for msgid in _catalog()
        for fragment in _fragments(msgid)
        if fragment in english and fragment not in _free_text(plan)
    ]
    assert own_words, "the plan uses some of the catalog's words"
    assert [fragment for fragment in own_words if fragment in _report_words(chinese, plan)] == []
    assert render_markdown(plan) == english, "the language does not outlive its block"


def test_a_chinese_html_report_keeps_no_english_from_the_catalog() -> None:
    plan = json.loads((GOLDEN / "plan-replace.json").read_text(encoding="utf-8"))
    english = render_html(plan, palette={})
    with i18n.language("zh-cn"):
        chinese = render_html(plan, palette={})
    own_words = [
        fragment
        for msgid in _catalog()
        for fragment in _fragments(msgid)
        if f">{fragment}<" in english and fragment not in _free_text(plan)
    ]
    assert own_words
    assert [fragment for fragment in own_words if f">{fragment}<" in _report_words(chinese, plan)] == []
    assert "原因" in chinese and "替换" in chinese


def test_lang_and_wxrec_lang_choose_the_report_language(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    example = ROOT / "examples" / "coffee-shop"
    for manifest in example.glob("*.yaml"):
        (base / manifest.name).write_text(manifest.read_text(encoding="utf-8").replace("Color010", "Color020"))
    chinese = wxrec("diff", base, example, "--format", "markdown", "--lang", "zh-CN")
    assert chinese.exit_code == 0, chinese.output
    assert "| 新建 | 修改 |" in chinese.output
    from_env = wxrec("diff", base, example, "--format", "markdown", env={"WXREC_LANG": "zh-CN"})
    assert from_env.output == chinese.output
    english = wxrec("diff", base, example, "--format", "markdown", env={"WXREC_LANG": "", "LANG": "C"})
    assert "| create | update |" in english.output, "the language does not leak from one command to the next"


def test_an_unknown_lang_is_a_clear_error(tmp_path: Path) -> None:
    example = ROOT / "examples" / "coffee-shop"
    result = wxrec("diff", example, example, "--format", "markdown", "--lang", "fr")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --lang 'fr': wxrec's reports are in en or zh-CN"
