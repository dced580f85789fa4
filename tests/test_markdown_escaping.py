"""The Markdown report shows every interpolated text as text: an id, a value, a field path or a menu line holding
`<tag>`, `&`, a pipe, a backtick or a newline neither becomes markup (GitHub strips a tag it does not know) nor
breaks the table, the code span or the fenced block it sits in."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reconciler.plan import Action, Attention, AttributeChange, Plan, ResourceChange
from reconciler.render.drift import render_drift_markdown
from reconciler.render.markdown import inline, render_markdown
from tests.support import RUN_LEFTOVERS, apply_ok, wxrec

# What the renderer itself writes, and what GFM makes of it; any other tag came from a value.
OWN_TAGS = {
    *("h3", "p", "strong", "em", "code", "pre", "blockquote", "ul", "li", "br", "details", "summary", "b"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
GFM = MarkdownIt("commonmark").enable("table")


class Reader(HTMLParser):
    """The tags of rendered HTML, its text (entities resolved) and the text of each code span."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text = ""
        self.code: list[str] = []
        self.in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.text += "\n" if tag == "br" else ""
        if tag == "code":
            self.in_code = True
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        self.in_code = self.in_code and tag != "code"

    def handle_data(self, data: str) -> None:
        self.text += data
        if self.in_code:
            self.code[-1] += data


def shown(markdown: str) -> Reader:
    reader = Reader()
    reader.feed(GFM.render(markdown))
    return reader


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_a_stand_in_id_of_an_offline_diff_shows_in_the_fold_s_summary(tmp_path: Path, example_dir: Path) -> None:
    """`wxrec diff` names a landing page or QR code made anew by a stand-in, `<landing_pages.coupon-shelf>`."""
    base = tmp_path / "base"
    shutil.copytree(example_dir, base)
    cards = example_dir / "cards.yaml"
    cards.write_text(
        cards.read_text(encoding="utf-8").replace("周末拿铁拉花课", "周末拿铁拉花体验课"), encoding="utf-8"
    )
    result = wxrec("diff", base, example_dir, "--format", "markdown")
    assert result.exit_code == 0, result.output
    page = shown(result.output)
    assert page.tags <= OWN_TAGS
    for address in ("landing_pages.coupon-shelf", "qrcodes.class-poster"):
        assert f"{address} (<{address}>) created" in page.text


# Pieces a value may be made of: markup, entities, table and code delimiters, line breaks.
PIECES = ["a", "中", "x_y", "<x>", "&", "&amp;", "|", "`", "```", "*", "_", "~", "[", "]", "\\", '"', "\n", " "]
ODD = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join).filter(str.strip)


def odd_plan(text: str) -> dict[str, Any]:
    """A plan with `text` in every place a value reaches the report."""
    after = {"card_type": text, "fields": {f"base_info.{text}": text}, "stock": {"mode": "refill", "target": 5}}
    changes = [
        ResourceChange("cards.new", Action.CREATE, id=text, after=after),
        ResourceChange("cards.old", Action.UPDATE, id=text, changes=[AttributeChange(text, text, text + "2")]),
        ResourceChange(
            "cards.gone", Action.REPLACE, id=text, retire_ids=[text], reasons=[text], notes=[f"note {text}"]
        ),
        ResourceChange("menu", Action.UPDATE, details=[f"~ {text}", "```", text]),
    ]
    before = {"card_type": "GROUPON", "fields": {}, "stock": {"quantity": 0, "total_quantity": 0}}
    attention = [Attention("cards.old", text, "CARD_STATUS_VERIFY_FAIL", before)]
    plan = Plan("wx0123456789abcdef", text, changes=changes, unmanaged=[text], warnings=[text], attention=attention)
    return plan.to_dict()


@settings(max_examples=80, deadline=None)
@given(ODD)
def test_no_value_becomes_markup_or_breaks_its_block(text: str) -> None:
    page = shown(render_markdown(odd_plan(text)))
    assert page.tags <= OWN_TAGS
    value, quoted = " ".join(text.splitlines()), json.dumps(text, ensure_ascii=False)
    expected = [
        f"wxrec plan for wx0123456789abcdef at {value}",  # the heading's endpoint
        f"Needs attention: cards.old ({value}) rejected",
        f"cards.new ({value}) created",  # the folds' summaries
        f"cards.old ({value}) updated in place",
        f"card_type {text}",  # a create's field table: the type, a field's path and value
        f"base_info.{value} {quoted}",
        f"{value} {quoted} {json.dumps(text + '2', ensure_ascii=False)}",  # an update's row
        f"deletes old card(s) {value}: the replacement",
        f"never touched: {value}",
    ]
    seen = one_line(page.text)
    assert [line for line in expected if one_line(line) not in seen] == []
    assert f"{text}\n```\n{text}" in page.text, "the menu's lines stay inside their fenced block"


def test_a_drift_alert_shows_each_value_as_written() -> None:
    item = {
        "address": "cards.latte",
        "id": "pLatte",
        "what": "changed in WeChat by hand",
        "path": "base_info.notice",
        "live": "出示 &lt;券码&gt; & <b>",
        "wanted": "出示券码",
        "items": None,
    }
    rendered = render_drift_markdown(drift_report(live=[item]))
    assert "出示 &amp;lt;券码&amp;gt; &amp; &lt;b&gt;" in rendered


def drift_report(**sections: list[Any]) -> dict[str, Any]:
    keys = ("attention", "live", "manifest", "refills", "warnings", "refusals")
    return {"appid": "wx0123456789abcdef", "in_sync": False, **{key: sections.get(key, []) for key in keys}}


# A command as a message quotes it: entities, a tag, a pipe, a backslash and markup that only code keeps as is.
COMMAND = "wxrec import '/tmp/a&b <c>|d\\e *f*' --state 'x&amp;y' KEY"
SAID = f"the state has no stock: `{COMMAND}` & <b>|"


def test_a_message_s_command_reads_as_written_in_the_plan_s_quotes_lists_and_the_drift_alert() -> None:
    """CommonMark decodes neither entities nor backslash escapes in code: a command escaped there reads wrong."""
    change = ResourceChange("cards.gone", Action.REPLACE, id="p1", reasons=[SAID], notes=[SAID])
    plan = Plan("wx0123456789abcdef", "emulator", changes=[change], warnings=[SAID], refusals=[SAID]).to_dict()
    for rendered, count in ((render_markdown(plan), 4), (render_drift_markdown(drift_report(warnings=[SAID])), 1)):
        page = shown(rendered)
        assert page.code.count(COMMAND) == count, page.code
        assert one_line(page.text).count("the state has no stock: " + COMMAND + " & <b>|") == count


def table_cell(markdown: str) -> str:
    return f"| a |\n| --- |\n| {markdown} |\n"


@pytest.mark.parametrize("place", [lambda text: f"- {inline(text)}", lambda text: table_cell(inline(text, cell=True))])
def test_a_code_span_closes_on_a_run_as_long_as_the_one_opening_it(place: Any) -> None:
    """Backslashes inside a span are its text; one outside escapes a backtick, which opens nothing then."""
    text = "a `` x`y|<z> `` `c\\` ``` b|<i>`` \\`not code"
    page = shown(place(text))
    assert page.code == ["x`y|<z>", "c\\"]
    assert "a x`y|<z> c\\ ``` b|<i>`` `not code" in one_line(page.text)


CODE_PIECES = [piece for piece in PIECES if piece not in ("`", "```", "\n", " ")]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(CODE_PIECES), min_size=1, max_size=8).map("".join), ODD)
def test_a_command_reads_as_written_in_a_list_line_and_in_a_table_cell(command: str, around: str) -> None:
    text = around.replace("`", "'") + f" `{command}` " + around.replace("`", "'")
    for markdown in (f"- {inline(text)}", table_cell(inline(text, cell=True))):
        page = shown(markdown)
        assert page.tags <= OWN_TAGS and page.code == [command], markdown


def test_a_lost_state_s_import_commands_read_as_typed_in_the_plan_comment_and_the_drift_alert(tmp_path: Path) -> None:
    """The reported case: a path holding `&`, `<` or `|` in the commands the pay-coupons warning and notes give."""
    coupons = tmp_path / "a&b <c>|d"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "pay-coupons", coupons, ignore=RUN_LEFTOVERS)
    manifest = coupons / "pay-coupons.yaml"  # a tag state still manages: state was not lost whole
    tag = "tags:\n  member:\n    name: 山丘会员\n\npay_coupons:"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("pay_coupons:", tag, 1), encoding="utf-8")
    apply_ok(coupons)
    for key in ("latte-88", "spring-5-off"):
        assert wxrec("state", "rm", coupons, f"pay_coupons.{key}").exit_code == 0
    planned = json.loads(wxrec("plan", coupons, "--api", "emulator", "--format", "json").output)
    notes = [note for change in planned["changes"] for note in change["notes"]]
    warned, noted = (commands(said, "wxrec import") for said in (planned["warnings"], notes))
    assert len(warned) == 1 and len(noted) == 2 and all(str(coupons) in command for command in warned + noted)
    for command, quoted in (("plan", warned + noted), ("drift", warned)):  # an alert names no new stock's note
        page = shown(wxrec(command, coupons, "--api", "emulator", "--format", "markdown").output)
        assert [command for command in quoted if command not in page.code] == [], page.code


def commands(said: list[str], start: str) -> list[str]:
    """The commands that sentences quote as code."""
    return [code for line in said for code in re.findall(f"`({re.escape(start)}[^`]*)`", line)]
