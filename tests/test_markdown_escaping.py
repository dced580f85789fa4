"""The Markdown report shows every interpolated text as text: an id, a value, a field path or a menu line holding
`<tag>`, `&`, a pipe, a backtick or a newline neither becomes markup (GitHub strips a tag it does not know) nor
breaks the table, the code span or the fenced block it sits in."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reconciler.plan import Action, Attention, AttributeChange, Plan, ResourceChange
from reconciler.render.markdown import render_markdown
from tests.support import wxrec

# What the renderer itself writes, and what GFM makes of it; any other tag came from a value.
OWN_TAGS = {
    *("h3", "p", "strong", "em", "code", "pre", "blockquote", "ul", "li", "br", "details", "summary", "b"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
GFM = MarkdownIt("commonmark").enable("table")


class Reader(HTMLParser):
    """The tags of rendered HTML, and its text (entities resolved)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.text += "\n" if tag == "br" else ""

    def handle_data(self, data: str) -> None:
        self.text += data


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
    from reconciler.render.drift import render_drift_markdown

    item = {
        "address": "cards.latte",
        "id": "pLatte",
        "what": "changed in WeChat by hand",
        "path": "base_info.notice",
        "live": "出示 &lt;券码&gt; & <b>",
        "wanted": "出示券码",
        "items": None,
    }
    report = {"appid": "wx0123456789abcdef", "in_sync": False, "attention": [], "live": [item], "manifest": []}
    rendered = render_drift_markdown({**report, "refills": [], "warnings": [], "refusals": []})
    assert "出示 &amp;lt;券码&amp;gt; &amp; &lt;b&gt;" in rendered
