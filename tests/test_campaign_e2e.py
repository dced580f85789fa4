"""A whole campaign in one manifest: cards, landing page, QR codes, menu, whitelist; references and order."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import apply_ok, wxrec
from tests.test_qr_images import decode_png


def emulator(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    return data


def state(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    return data


def test_the_whole_campaign_applies_then_plans_no_changes(example_dir: Path) -> None:
    first = wxrec("plan", example_dir, "--api", "emulator")
    assert "+ landing_pages.coupon-shelf will be created" in first.output
    assert "+ menu will be created" in first.output and "menu will be updated" not in first.output
    assert "+ whitelist will be created" in first.output and "whitelist will be updated" not in first.output
    assert "because re-" not in first.output
    apply_ok(example_dir)
    again = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, again.output
    resources = state(example_dir)["resources"]
    page = resources["landing_pages.coupon-shelf"]
    assert page["url"].startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0123456789abcdef")
    assert resources["menu"]["applied"]["button"][0]["url"] == page["url"]
    assert resources["whitelist"]["applied"] == {"openid": [], "username": ["hillcoffee_ops", "hillcoffee_qa"]}
    for key in ("counter-poster", "window-poster", "follow-us"):
        assert (example_dir / "qrcodes" / f"{key}.png").exists() and (example_dir / "qrcodes" / f"{key}.svg").exists()


def test_qr_png_decodes_to_the_codes_url(example_dir: Path) -> None:
    apply_ok(example_dir)
    for key in ("counter-poster", "window-poster", "follow-us"):
        url = state(example_dir)["resources"][f"qrcodes.{key}"]["url"]
        assert url.startswith("http://weixin.qq.com/q/")
        assert decode_png(example_dir / "qrcodes" / f"{key}.png") == [url]


def test_a_replaced_card_repoints_everything_in_one_apply_and_is_deleted_last(example_dir: Path) -> None:
    apply_ok(example_dir)
    old = state(example_dir)["resources"]["cards.latte-art-class"]["id"]
    old_page = state(example_dir)["resources"]["landing_pages.coupon-shelf"]["url"]
    cards = example_dir / "cards.yaml"
    text = cards.read_text(encoding="utf-8")
    # A ticket's title: a replace (a coupon's would be refused: WeChat creates none since 2021-04-01).
    cards.write_text(text.replace("title: 周末拿铁拉花课", "title: 周末拿铁拉花体验课", 1), encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "    because cards.latte-art-class gets a new id" in plan.output
    assert "because re-" not in plan.output
    seen = emulator(example_dir)["calls"]["next_seq"]
    apply_ok(example_dir, "--allow-destroy")
    calls = [c for c in emulator(example_dir)["calls"]["entries"] if c["seq"] >= seen and c["errcode"] == 0]
    order = [c["path"] for c in calls if c["path"] not in ("/card/get", "/card/batchget", "/card/getcolors")]
    new = state(example_dir)["resources"]["cards.latte-art-class"]["id"]
    assert new != old
    assert order.index("/card/create") < order.index("/card/landingpage/create") < order.index("/card/qrcode/create")
    assert order.index("/card/qrcode/create") < order.index("/cgi-bin/menu/create") < order.index("/card/delete")
    assert order[-1] == "/card/delete" and order.count("/card/delete") == 1
    deleted = [c for c in calls if c["path"] == "/card/delete"]
    assert deleted[0].get("card_id") == old
    resources = state(example_dir)["resources"]
    assert resources["landing_pages.coupon-shelf"]["url"] != old_page
    assert resources["menu"]["applied"]["button"][0]["url"] == resources["landing_pages.coupon-shelf"]["url"]
    assert {c["card_id"] for c in resources["qrcodes.class-poster"]["resolved"]["cards"]} == {new}
    final = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert final.exit_code == 0, final.output


SIX_CARDS = "".join(f"      - card: {key}\n" for key in ("member", "breakfast-set", "member", "latte-voucher"))
MISTAKES = {
    "menu name too long": (("    - name: 会员\n", "    - name: 会员与积分与优惠\n"), "menu.button.1.name: "),
    "whitelist over 10": (("[hillcoffee_qa, hillcoffee_ops]", "[a, b, c, d, e, f, g, h, i, j, k]"), "has 11 entries"),
    "six cards in a QR code": (
        ("        outer_str: window\n", "        outer_str: window\n" + SIX_CARDS),
        "is too long",
    ),
    "reference to nowhere": (
        ("${landing_pages.coupon-shelf.url}", "${landing_pages.nowhere.url}"),
        "refers to landing_pages.nowhere, which the manifests do not declare",
    ),
    "reference cycle (or against apply's order)": (
        ("banner: https://mmbiz.qpic.cn/mmbiz/hillcoffee/banner.png", "banner: ${landing_pages.coupon-shelf.url}"),
        "refers to landing_pages.coupon-shelf, but landing_pages may refer only to cards",
    ),
    "page pointing at a QR code": (
        ("banner: https://mmbiz.qpic.cn/mmbiz/hillcoffee/banner.png", "banner: ${qrcodes.follow-us.url}"),
        "refers to qrcodes.follow-us, but landing_pages may refer only to cards",
    ),
    "unknown card": (
        ("      - card: weekday-discount\n        thumb", "      - card: lunch-set\n        thumb"),
        "refers to cards.lunch-set",
    ),
}


@pytest.mark.parametrize(("edit", "expected"), MISTAKES.values(), ids=MISTAKES.keys())
def test_account_mistakes_are_caught_by_validate_with_file_and_line(
    example_dir: Path, edit: tuple[str, str], expected: str
) -> None:
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    result = wxrec("validate", example_dir)
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if expected in line)
    assert "campaign.yaml:" in line, line


def test_removed_landing_page_is_forgotten_not_deleted(example_dir: Path) -> None:
    apply_ok(example_dir)
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("landing_pages:"), text.index("qrcodes:")
    menu_fixed = text[:start] + text[end:]
    path.write_text(
        menu_fixed.replace("${landing_pages.coupon-shelf.url}", "https://hillcoffee.example.com/coupons"),
        encoding="utf-8",
    )
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "landing_pages.coupon-shelf" in plan.output and "stays live" in plan.output
    apply_ok(example_dir)
    assert "landing_pages.coupon-shelf" not in state(example_dir)["resources"]
    assert wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode").exit_code == 0


def test_menu_null_deletes_it_and_needs_allow_destroy(example_dir: Path) -> None:
    apply_ok(example_dir)
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("menu:"), text.index("whitelist:")
    path.write_text(text[:start] + "menu: null\n\n" + text[end:], encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "- menu will be deleted" in plan.output and "removes every conditional menu" in plan.output
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve")
    assert refused.exit_code == 1 and "--allow-destroy" in refused.output
    apply_ok(example_dir, "--allow-destroy")
    assert wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode").exit_code == 0


def test_whitelist_is_compared_with_state_and_says_so(example_dir: Path) -> None:
    apply_ok(example_dir)
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[hillcoffee_qa, hillcoffee_ops]", "[hillcoffee_qa]"), encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "WeChat cannot read the whitelist back" in plan.output
    assert 'whitelist.username: −1\n        − "hillcoffee_ops"\n' in plan.output


def test_an_empty_whitelist_never_set_is_no_change(example_dir: Path) -> None:
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[hillcoffee_qa, hillcoffee_ops]", "[]"), encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert plan.exit_code == 0, plan.output
    assert "whitelist" not in plan.output


def test_expired_temporary_code_is_shown_not_planned_and_replace_renews_it(example_dir: Path) -> None:
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "qrcodes:\n",
            "qrcodes:\n  flash-sale:\n    action_name: QR_SCENE\n    scene_id: 42\n    expire_seconds: 600\n",
            1,
        ),
        encoding="utf-8",
    )
    apply_ok(example_dir)
    state_file = example_dir / ".wxrec" / "state.json"
    saved = state(example_dir)
    first_url = saved["resources"]["qrcodes.flash-sale"]["url"]
    saved["resources"]["qrcodes.flash-sale"]["expire_at"] = 1_000_000_000  # long past
    state_file.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert plan.exit_code == 0, "an expired temporary code must not make every drift check fire"
    assert "qrcodes.flash-sale expired at" in plan.output and "-replace qrcodes.flash-sale renews it" in plan.output
    apply_ok(example_dir, "-replace", "qrcodes.flash-sale")
    assert state(example_dir)["resources"]["qrcodes.flash-sale"]["url"] != first_url


def test_diff_shows_repointed_pages_codes_and_menu_offline(tmp_path: Path, example_dir: Path) -> None:
    subprocess.run(["git", "-C", str(tmp_path), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    commit = ["git", "-C", str(tmp_path), "-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "b"]
    subprocess.run(commit, check=True)
    cards = example_dir / "cards.yaml"
    cards.write_text(
        cards.read_text(encoding="utf-8").replace("title: 周末拿铁拉花课", "title: 周末拿铁拉花体验课"),
        encoding="utf-8",
    )
    result = wxrec("diff", "HEAD", example_dir, "--format", "json")
    changes = {c["address"]: c["action"] for c in json.loads(result.output)["changes"]}
    assert changes == {
        "cards.latte-art-class": "replace",
        "landing_pages.coupon-shelf": "create",
        "qrcodes.class-poster": "create",
        "menu": "update",
    }
