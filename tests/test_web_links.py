"""Web links gave way to mini programs: validate refuses center_url, custom_url and promotion_url, naming the
pair that replaces each; the mini-program pairs are created, read back, updated in place and exported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.errors import ManifestError
from reconciler.exported_card import manifest_card
from reconciler.manifest import load_manifest
from reconciler.plan import Action, AttributeChange, Plan, ResourceChange
from reconciler.render.html import render_html
from reconciler.resources.cards.diff import unclearable
from reconciler.resources.cards.model import LiveCard, Palette, desired_card
from tests.support import Harness, apply_ok, wxrec
from tests.test_html_report import parsed

TICKET = """\
cards:
  museum-pass:
    card_type: SCENIC_TICKET
    base_info:
      logo_url: https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png
      brand_name: 山丘美术馆
      code_type: CODE_TYPE_QRCODE
      title: 秋季特展门票
      color: Color030
      notice: 入馆时请出示此票
      description: 当日有效
      date_info: {{type: DATE_TYPE_FIX_TERM, fixed_term: 30, fixed_begin_term: 0}}
      sku: {{quantity: 100}}
      center_title: 预约入馆
{extra}    ticket_class: 成人票
"""
MINI_PROGRAM = """\
      center_app_brand_user_name: gh_86a091e50ad4@app
      center_app_brand_pass: pages/booking/index
      custom_url_name: 导览
      custom_app_brand_user_name: gh_86a091e50ad4@app
      custom_app_brand_pass: pages/guide/index
"""


def ticket(directory: Path, extra: str = MINI_PROGRAM) -> Path:
    path = directory / "tickets.yaml"
    path.write_text(TICKET.format(extra=extra), encoding="utf-8")
    return path


def test_validate_refuses_each_web_link_even_empty_at_its_line_naming_the_pair(tmp_path: Path) -> None:
    links = '      center_url: https://example.com/book\n      custom_url: ""\n      promotion_url: https://x.cn\n'
    path = ticket(tmp_path, links)
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path)
    found = sorted(str(problem) for problem in caught.value.problems)
    assert [line.split(": WeChat")[0] for line in found] == [
        f"{path}:15:7: cards.museum-pass.base_info.center_url",
        f"{path}:16:7: cards.museum-pass.base_info.custom_url",
        f"{path}:17:7: cards.museum-pass.base_info.promotion_url",
    ]
    for line, entry in zip(found, ("center", "custom", "promotion"), strict=True):
        assert f"with {entry}_app_brand_user_name (its original ID + @app" in line
        assert f"and {entry}_app_brand_pass (the page path)" in line


def test_validate_takes_the_mini_program_fields_up_to_128_bytes(tmp_path: Path) -> None:
    ticket(tmp_path, MINI_PROGRAM.replace("pages/guide/index", "p" * 128))
    assert "museum-pass" in load_manifest(tmp_path).cards
    path = ticket(tmp_path, MINI_PROGRAM.replace("pages/guide/index", "p" * 129))
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:19:7: cards.museum-pass.base_info.custom_app_brand_pass: is 129 bytes of UTF-8, WeChat allows 128 "
        "(a Chinese character takes 3 bytes)"
    ]


async def test_a_mini_program_field_is_created_read_back_and_updated_in_place(shop: Harness) -> None:
    path = ticket(shop.directory)
    await shop.apply()
    card = await shop.api.get(shop.card_id("museum-pass"))
    assert card is not None
    base = card["scenic_ticket"]["base_info"]
    assert (base["center_app_brand_user_name"], base["custom_app_brand_pass"]) == (
        "gh_86a091e50ad4@app",
        "pages/guide/index",
    )
    path.write_text(path.read_text().replace("pages/guide/index", "pages/guide/autumn"), encoding="utf-8")
    plan = await shop.plan()
    assert [(c.address, c.action, [a.path for a in c.changes]) for c in plan.changes] == [
        ("cards.museum-pass", Action.UPDATE, ["base_info.custom_app_brand_pass"])
    ]
    assert not plan.changes[0].review
    await shop.apply()
    assert not (await shop.plan()).changes
    card = await shop.api.get(shop.card_id("museum-pass"))
    assert card is not None and card["scenic_ticket"]["base_info"]["custom_app_brand_pass"] == "pages/guide/autumn"


async def test_a_mini_program_field_dropped_from_the_manifest_is_left_alone_and_said(shop: Harness) -> None:
    path = ticket(shop.directory)
    await shop.apply()
    path.write_text(path.read_text().replace("      center_app_brand_pass: pages/booking/index\n", ""), "utf-8")
    plan = await shop.plan()
    assert not plan.changes, "no empty value is ever sent to clear it"
    assert any("base_info.center_app_brand_pass is no longer in the manifest" in w for w in plan.warnings)


def test_a_web_link_an_earlier_apply_set_is_never_cleared_and_the_warning_names_its_pair() -> None:
    spec = yaml.safe_load(TICKET.format(extra=MINI_PROGRAM))["cards"]["museum-pass"]
    desired = desired_card("museum-pass", spec, None)
    applied = {**desired.fields, "base_info.center_url": "u"}
    live = LiveCard("pCARD", "SCENIC_TICKET", "CARD_STATUS_VERIFY_OK", applied, quantity=1, total_quantity=1)
    assert unclearable(desired, live, applied) == [
        "cards.museum-pass: base_info.center_url is no longer in the manifest, but WeChat cannot clear it: it stays "
        "'u'; set base_info.center_app_brand_user_name and base_info.center_app_brand_pass to send the entry to a "
        "mini program"
    ]


def test_export_keeps_the_mini_program_pair_and_leaves_a_live_web_link_out() -> None:
    fields = {
        "base_info.logo_url": "https://mmbiz.qpic.cn/logo.png",
        "base_info.brand_name": "山丘美术馆",
        "base_info.code_type": "CODE_TYPE_QRCODE",
        "base_info.title": "秋季特展门票",
        "base_info.color": "Color030",
        "base_info.notice": "入馆时请出示此票",
        "base_info.description": "当日有效",
        "base_info.date_info.type": "DATE_TYPE_FIX_TERM",
        "base_info.date_info.fixed_term": 30,
        "base_info.date_info.fixed_begin_term": 0,
        "base_info.promotion_url": "https://example.com/old",  # set before 2019, still on the live card
        "base_info.promotion_app_brand_user_name": "gh_86a091e50ad4@app",
        "base_info.promotion_app_brand_pass": "pages/promo/index",
    }
    live = LiveCard("pCARD", "SCENIC_TICKET", "CARD_STATUS_VERIFY_OK", fields, quantity=5, total_quantity=5)
    spec, dropped, refusal = manifest_card("museum-pass", live, Palette({"Color030": "#509fc9"}))
    assert refusal == "" and spec is not None
    assert "promotion_url" not in spec["base_info"]
    assert spec["base_info"]["promotion_app_brand_pass"] == "pages/promo/index"
    assert dropped == ("base_info.promotion_url",)


def test_export_round_trip_of_the_mini_program_fields_plans_no_changes(example_dir: Path) -> None:
    ticket(example_dir)
    apply_ok(example_dir)
    target = example_dir.parent / "exported"
    (target / ".wxrec").mkdir(parents=True)
    shutil.copy(example_dir / ".wxrec" / "emulator.json", target / ".wxrec" / "emulator.json")  # the same account
    assert wxrec("export", target, "--api", "emulator").exit_code == 0
    exported = "".join(p.read_text(encoding="utf-8") for p in target.glob("*.yaml"))
    assert "custom_app_brand_pass: pages/guide/index" in exported
    assert "center_app_brand_user_name: gh_86a091e50ad4@app" in exported
    planned = wxrec("plan", target, "--api", "emulator", "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


def test_the_card_face_says_in_words_where_each_entry_leads_and_marks_a_change() -> None:
    fields = {
        "base_info.title": "秋季特展门票",
        "base_info.color": "Color030",
        "base_info.center_title": "预约入馆",
        "base_info.center_app_brand_user_name": "gh_86a091e50ad4@app",
        "base_info.center_app_brand_pass": "pages/booking/index",
        "base_info.custom_url_name": "导览",
        "base_info.custom_app_brand_user_name": "gh_86a091e50ad4@app",
    }
    edited = fields | {"base_info.custom_app_brand_pass": "pages/guide/index"}
    stock = {"quantity": 10, "total_quantity": 10}
    change = ResourceChange(
        "cards.museum-pass",
        Action.UPDATE,
        id="p1",
        before={"card_type": "SCENIC_TICKET", "fields": fields, "stock": stock, "status": "CARD_STATUS_VERIFY_OK"},
        after={"card_type": "SCENIC_TICKET", "fields": edited, "stock": {"mode": "refill", "target": 10}},
        changes=[AttributeChange("base_info.custom_app_brand_pass", None, "pages/guide/index")],
    )
    page = render_html(Plan(appid="wx0123456789abcdef", endpoint="emulator", changes=[change]).to_dict(), palette={})
    centre = "“预约入馆” opens mini program gh_86a091e50ad4@app, page pages/booking/index"
    assert parsed(page, "entry").texts == [
        centre,
        "“导览” opens mini program gh_86a091e50ad4@app, page (its home page)",
        centre,
        "“导览” opens mini program gh_86a091e50ad4@app, page pages/guide/index",
    ]
    assert page.count('class="entry changed"') == 4
