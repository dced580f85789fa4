"""A report in Chinese says no English sentence: every label, count, reason and note of a rich plan (creates,
updates, a replace with its reasons, a delete, stock, QR codes and landing pages re-made, the menu, the
whitelist), of several accounts and of drift is translated; only API names, ids and values stay as they are."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import yaml

from reconciler import i18n
from tests.report_scenario import report_of_edited_example
from tests.support import wxrec

# What may stay ASCII: code (the menu's tree diff too), a whitelist entry (its API name and value), tags, quoted
# values, urls, addresses (kind.key), the command's own name.
ALLOWED = [
    r"```.*?```",
    r"<style.*?</style>",
    r"<pre.*?</pre>",
    r'<span class="kind">[^<]*</span>[^<]*',
    r"<code>.*?</code>",
    r"`[^`]*`",
    r"<[^>]*>",
    r'"[^"]*"',
    r"https?://\S+",
    r"\b[a-z_]+\.[\w.-]+",
    r"\bwxrec (plan|drift|diff)\b",
]
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'-]*(?:[ ,:;]+[A-Za-z][A-Za-z'-]*)+")


def english_in(report: str) -> list[str]:
    """Runs of two or more ASCII words left once the allowed parts are taken out."""
    text = html.unescape(report)
    for pattern in ALLOWED:
        text = re.sub(pattern, " ", text, flags=re.DOTALL)
    return ENGLISH.findall(text)


def test_the_checker_finds_an_english_sentence() -> None:
    assert english_in("计划：`cards.x` 1 to create，card_type 由 GIFT 改为 CASH") == ["to create"]
    assert english_in('<p title="a b">微信</p> `wxrec plan --lang zh-CN` "Hill Coffee" cards.latte-voucher') == []


def _edit_page(directory: Path) -> None:
    campaign_file = directory / "campaign.yaml"
    campaign = yaml.safe_load(campaign_file.read_text(encoding="utf-8"))
    page = next(iter(campaign["landing_pages"].values()))
    page["page_title"] = "秋季新品"
    campaign_file.write_text(yaml.safe_dump(campaign, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_rich_plan_in_chinese_has_no_english_sentence(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    report_of_edited_example(shop)
    _edit_page(shop)
    shutil.copytree(shop, tmp_path / "branch")
    reports = {}
    for output in ("markdown", "html"):
        result = wxrec("plan", shop, "--api", "emulator", "--format", output, "--lang", "zh-CN")
        assert result.exit_code == 0, result.output
        reports[output] = result.output
    several = wxrec("plan", shop, tmp_path / "branch", "--api", "emulator", "--format", "markdown", "--lang", "zh-CN")
    reports["several"] = several.output
    # drift has no --lang of its own yet: its markdown speaks the language in force.
    with i18n.language("zh-cn"):
        reports["drift"] = wxrec("drift", shop, "--api", "emulator", "--format", "markdown").output
    english = wxrec("plan", shop, "--api", "emulator", "--format", "markdown", "--lang", "en").output
    for needle in ("because", "cannot be changed by card/update", "gets a new id", "Plan:", "replaces the whole menu"):
        assert needle in english  # the plan is rich: what the Chinese reports must have translated is there
    assert {name: english_in(report) for name, report in reports.items()} == {name: [] for name in reports}
