"""A report in Chinese says no English sentence: every label, count, reason and note of a rich plan (creates,
updates, a replace with its reasons, a delete, stock, QR codes and landing pages re-made, the menu, the
whitelist), of several accounts and of drift is translated; only API names, ids and values stay as they are."""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler import i18n
from reconciler.emulator import LEGACY_COUPONS_ENV
from reconciler.render.html import render_html
from tests.report_scenario import NEW_CARD, report_of_edited_example
from tests.support import EXAMPLE, LEGACY_COUPONS_FLAG_ENV, RUN_LEFTOVERS, apply_ok, wxrec

GIFT_CODES = EXAMPLE.parent / "gift-codes"

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
    reports["drift"] = wxrec("drift", shop, "--api", "emulator", "--format", "markdown", "--lang", "zh-CN").output
    drifts = wxrec("drift", shop, tmp_path / "branch", "--api", "emulator", "--format", "markdown", "--lang", "zh-CN")
    reports["several drifts"] = drifts.output
    assert "有漂移" in drifts.output  # the command's own outcome word, in the summary
    english = wxrec("plan", shop, "--api", "emulator", "--format", "markdown", "--lang", "en").output
    for needle in ("because", "cannot be changed by card/update", "gets a new id", "Plan:", "replaces the whole menu"):
        assert needle in english  # the plan is rich: what the Chinese reports must have translated is there
    assert {name: english_in(report) for name, report in reports.items()} == {name: [] for name in reports}


def test_a_saved_plan_keeps_how_its_sentences_were_made() -> None:
    """A plan read back (apply PLANFILE) says its reasons in the report's language, and writes the same document."""
    from reconciler.i18n import said, said_n, spoken
    from reconciler.plan import Action, Plan, ResourceChange
    from reconciler.resources.references import GETS_NEW_ID, follows

    change = ResourceChange("landing_pages.shelf", Action.CREATE, reasons=[follows(["cards.latte.id"], GETS_NEW_ID)])
    change.notes = [said_n("{files} is missing", "{files} are missing", 2, files="a.png and a.svg"), "plain"]
    plan = Plan("wx1", "emulator", changes=[change], warnings=[said("menu/delete also removes every conditional menu")])
    document = Plan.from_dict(plan.to_dict()).to_dict()
    assert document == plan.to_dict()
    assert document["changes"][0]["reasons"] == ["cards.latte gets a new id"]
    with i18n.language("zh-cn"):
        assert spoken(document["changes"][0], "reasons") == ["cards.latte 将获得新的 id"]
        assert spoken(document["changes"][0], "notes") == ["a.png and a.svg 缺失", "plain"]
        assert spoken(document, "warnings") == ["menu/delete 也会删除所有个性化菜单"]


def _refused_and_warned(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example and its gift codes applied, then a plan that refuses and warns: a new coupon (WeChat makes
    none since 2021-04-01), a new member card without stock, codes removed from their file."""
    shutil.copytree(EXAMPLE, directory, ignore=RUN_LEFTOVERS)
    shutil.copy(GIFT_CODES / "gift.yaml", directory)
    shutil.copytree(GIFT_CODES / "codes", directory / "codes")
    apply_ok(directory)
    codes = directory / "codes" / "gift.txt"
    codes.write_text("".join(codes.read_text(encoding="utf-8").splitlines(keepends=True)[2:]), encoding="utf-8")
    cards_file = directory / "cards.yaml"
    manifest = yaml.safe_load(cards_file.read_text(encoding="utf-8"))
    empty = copy.deepcopy(manifest["cards"]["member"])
    empty["base_info"] |= {"title": "储值会员卡", "sku": {"quantity": 0}}
    gift = {key: value for key, value in copy.deepcopy(NEW_CARD).items() if key != "meeting_detail"}
    gift |= {"card_type": "GIFT", "gift": "桂花拿铁（中杯）一杯"}  # the report scenario's new ticket, as a coupon
    manifest["cards"] |= {"autumn-gift": gift, "stored-value": empty}
    cards_file.write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for variable in (LEGACY_COUPONS_ENV, LEGACY_COUPONS_FLAG_ENV):
        monkeypatch.delenv(variable, raising=False)  # WeChat as it is today, once the example's coupons exist


def test_refusals_and_warnings_in_chinese_have_no_english_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "shop"
    _refused_and_warned(shop, monkeypatch)
    english = wxrec("plan", shop, "--api", "emulator", "--format", "markdown", "--lang", "en")
    assert english.exit_code == 1
    for needle in (
        "cards.autumn-gift: creates a GIFT coupon",
        "cards.stored-value: sku.quantity is 0, and WeChat creates no card without stock",
        "codes.gift-codes: 2 codes deposited earlier are no longer in the file",
    ):
        assert needle in english.output  # what the Chinese reports must have translated is there
    # The report, not the terminal's closing "Error: the plan was refused" on stderr.
    reports = {
        output: wxrec("plan", shop, "--api", "emulator", "--format", output, "--lang", "zh-CN").stdout
        for output in ("markdown", "html")
    }
    assert "自 2021-04-01 起微信不再创建优惠券" in reports["markdown"]
    assert {name: english_in(report) for name, report in reports.items()} == {name: [] for name in reports}


def test_the_field_table_names_the_stock_mode_in_chinese(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    apply_ok(shop)
    cards_file = shop / "cards.yaml"
    cards = yaml.safe_load(cards_file.read_text(encoding="utf-8"))
    cards["cards"]["breakfast-set"]["base_info"]["sku"]["quantity"] = 400  # a refill: a stock row
    cards["cards"]["autumn-gift"] = NEW_CARD  # a budget: the create's stock row
    cards_file.write_text(yaml.safe_dump(cards, allow_unicode=True), encoding="utf-8")
    modes = re.compile(r"\((refill|budget|deposit)\)")
    reports = {}
    for output in ("markdown", "html"):
        english = wxrec("plan", shop, "--api", "emulator", "--format", output, "--lang", "en").output
        assert "(refill)" in english, english
        reports[output] = wxrec("plan", shop, "--api", "emulator", "--format", output, "--lang", "zh-CN").output
        assert modes.findall(reports[output]) == [] and "(自动补足)" in reports[output], reports[output]
    assert "800 (总预算)" in reports["markdown"], reports["markdown"]


def test_the_accounts_table_the_diff_s_heading_and_the_footer_in_chinese(tmp_path: Path, example_dir: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(example_dir, base)
    cards = example_dir / "cards.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace("拿铁拉花课", "拿铁拉花体验课"), encoding="utf-8")
    diff = wxrec("diff", base, example_dir, "--format", "markdown", "--lang", "zh-CN")
    heading = f"### wxrec diff：账号 `wx0123456789abcdef`，从 `manifests at {base}` 到工作区"
    assert diff.output.splitlines()[0] == heading, "the base is where the diff starts, not an API endpoint"
    english = wxrec("diff", base, example_dir, "--format", "markdown", "--lang", "en")
    assert english.output.splitlines()[0].endswith(f"from `manifests at {base}` to the working tree")

    several = wxrec("plan", base, example_dir, "--api", "emulator", "--format", "markdown", "--lang", "zh-CN")
    assert "| 账号 | 结果 |\n| --- | --- |\n" in several.output

    plan = json.loads((Path(__file__).parent / "golden" / "plan-replace.json").read_text(encoding="utf-8"))
    with i18n.language("zh-cn"):
        footer = re.search(r"<footer>(.*?)</footer>", render_html(plan, palette={}))
    assert footer and footer[1].startswith("状态序号 SERIAL，谱系 LINEAGE。 ")
    plan["state"]["lineage"] = None
    with i18n.language("zh-cn"):
        assert "<footer>状态序号 SERIAL。 " in render_html(plan, palette={})
