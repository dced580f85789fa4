"""A card rejected in WeChat's review, end to end against a served emulator: plan and drift report it in every
format, drift exits 2, `plan -detailed-exitcode` does not (nothing to apply), and an edit applied sends the card
back to review. A test account's cards never pass review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import EXAMPLE, served_emulator, wxrec

CARD = """\
cards:
  member:
    card_type: MEMBER_CARD
    base_info:
      logo_url: https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png
      brand_name: 山丘咖啡
      code_type: CODE_TYPE_QRCODE
      title: 山丘咖啡会员卡
      color: Color082
      notice: 买单时请出示会员卡
      description: {description}
      date_info:
        type: DATE_TYPE_PERMANENT
      sku:
        total_quantity: 1000
    prerogative: 会员每月可领取一张免费升杯券。
    supply_bonus: false
    supply_balance: false
"""
REASON = "会员卡图片与品牌不符"


def _manifests(directory: Path, description: str = "会员凭卡享专属优惠。") -> Path:
    directory.mkdir(exist_ok=True)
    shutil.copy(EXAMPLE / "account.yaml", directory / "account.yaml")
    (directory / "cards.yaml").write_text(CARD.format(description=description), encoding="utf-8")
    return directory


def _card_id(directory: Path) -> str:
    state = json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    return str(state["resources"]["cards.member"]["id"])


@pytest.fixture
def rejected(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A served emulator (review manual), the member card applied to it, then rejected with a reason."""
    with served_emulator("--review", "manual") as url:
        directory = _manifests(tmp_path / "shop")
        applied = wxrec("apply", directory, "--api", url, "--auto-approve")
        assert applied.exit_code == 0, applied.output
        card_id = _card_id(directory)
        verdict = wxrec("emulator", "reject", card_id, "--reason", REASON, "--url", url)
        assert verdict.exit_code == 0 and f"reason: {REASON}" in verdict.output, verdict.output
        yield url, directory, card_id


def test_plan_reports_a_rejected_card_in_every_format_without_a_change(rejected) -> None:  # type: ignore[no-untyped-def]
    url, directory, card_id = rejected
    text = wxrec("plan", directory, "--api", url, "--detailed-exitcode")
    assert text.exit_code == 0, text.output  # nothing for apply to do: not a change
    assert f"! cards.member ({card_id}): rejected in WeChat's review (CARD_STATUS_VERIFY_FAIL)" in text.output
    assert "Edit what the reviewer objected to in the manifests and apply" in text.output
    assert "No changes, but 1 card rejected in WeChat's review" in text.output
    assert "matches the manifests" not in text.output

    document = json.loads(wxrec("plan", directory, "--api", url, "--format", "json").output)
    assert document["changes"] == []
    [item] = document["attention"]
    assert (item["address"], item["id"], item["status"]) == ("cards.member", card_id, "CARD_STATUS_VERIFY_FAIL")
    assert item["before"]["fields"]["base_info.title"] == "山丘咖啡会员卡"

    markdown = wxrec("plan", directory, "--api", url, "--format", "markdown").output
    assert "> [!IMPORTANT]" in markdown and "`cards.member`" in markdown and "card_not_pass_check" in markdown

    html = wxrec("plan", directory, "--api", url, "--format", "html").output
    assert 'data-action="attention"' in html and 'class="stamp" data-status="rejected"' in html
    assert "山丘咖啡会员卡" in html  # the rejected card's face is drawn


def test_drift_reports_a_rejected_card_and_exits_2_in_every_format(rejected) -> None:  # type: ignore[no-untyped-def]
    url, directory, card_id = rejected
    text = wxrec("drift", directory, "--api", url)
    assert text.exit_code == 2, text.output
    assert "Needs attention in WeChat (drift):" in text.output and "Drifted." in text.output
    assert f"cards.member ({card_id}): rejected in WeChat's review" in text.output

    report = json.loads(wxrec("drift", directory, "--api", url, "--format", "json").output)
    assert report["in_sync"] is False and not report["live"] and not report["manifest"]
    assert [(a["address"], a["id"]) for a in report["attention"]] == [("cards.member", card_id)]
    assert "card_not_pass_check" in report["attention"][0]["todo"]

    markdown = wxrec("drift", directory, "--api", url, "--format", "markdown")
    assert markdown.exit_code == 2 and "**drifted**" in markdown.output
    assert "#### Needs attention in WeChat (drift)" in markdown.output


def test_an_edit_applied_sends_a_rejected_card_back_to_review(rejected) -> None:  # type: ignore[no-untyped-def]
    url, directory, card_id = rejected
    _manifests(directory, description="会员凭卡享专属优惠，详情见店内公告。")
    planned = wxrec("plan", directory, "--api", url)
    assert "1 to update (1 back to review)" in planned.output, planned.output
    assert "This plan's update sends it back to review." in planned.output
    html = wxrec("plan", directory, "--api", url, "--format", "html").output
    assert 'data-action="update"' in html and 'data-action="attention"' not in html  # one panel, stamped
    assert 'class="stamp" data-status="rejected"' in html
    applied = wxrec("apply", directory, "--api", url, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    # Waiting for review again (approve acts only on a waiting card), and nothing needs attention.
    approved = wxrec("emulator", "approve", card_id, "--url", url)
    assert approved.exit_code == 0 and "CARD_STATUS_VERIFY_OK" in approved.output, approved.output
    after = wxrec("drift", directory, "--api", url)
    assert after.exit_code == 0, after.output


def test_a_test_accounts_card_waits_for_a_review_it_never_passes(tmp_path: Path) -> None:
    directory = _manifests(tmp_path / "shop")
    appid = "wx0123456789abcdef"
    with served_emulator("--review", "instant", "--test-account", appid) as url:
        assert wxrec("apply", directory, "--api", url, "--auto-approve").exit_code == 0
        card_id = _card_id(directory)
        refused = wxrec("emulator", "approve", card_id, "--url", url)
        assert refused.exit_code != 0 and "test account: its cards never pass review" in refused.output
        planned = wxrec("plan", directory, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0 and "No changes." in planned.output  # waiting is not rejected
