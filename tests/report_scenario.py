"""A rich plan for the HTML report: the example applied to the emulator, then edited the way a campaign
changes (a coupon's colour and notice, a ticket's title that forces a replace, a new ticket, a ticket removed,
a renamed menu button, a tester swapped). The browser tests and docs/plan-report.png both use it.

`python -m tests.report_scenario OUT.png` remakes the screenshot the README shows."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tests.support import EXAMPLE, RUN_LEFTOVERS, apply_ok, wxrec

NEW_CARD = {
    "card_type": "MEETING_TICKET",
    "base_info": {
        "logo_url": "https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png",
        "brand_name": "山丘咖啡",
        "code_type": "CODE_TYPE_QRCODE",
        "title": "秋季桂花拿铁品鉴会",
        "sub_title": "会员生日月免费参加一次",
        "color": "Color070",
        "notice": "入场时请出示门票",
        "description": "每位会员限一位。",
        "date_info": {
            "type": "DATE_TYPE_FIX_TIME_RANGE",
            "begin_timestamp": "2026-09-01T00:00:00",
            "end_timestamp": "2030-11-30T23:59:59+08:00",
        },
        "sku": {"total_quantity": 800},
    },
    "meeting_detail": "桂花拿铁品鉴，含中杯一杯",
}
# The titles the changed cards have after the plan: the report must draw each of them.
NEW_TITLES = {"cards.latte-art-class": "周末拿铁拉花体验课", "cards.autumn-tasting": "秋季桂花拿铁品鉴会"}


def edit_example(directory: Path) -> None:
    """Change the applied example as a campaign would."""
    cards_file = directory / "cards.yaml"
    cards = _load(cards_file)
    latte = cards["cards"]["latte-voucher"]["base_info"]
    latte["color"] = "Color090"
    latte["notice"] = "结账时请出示此券，每人限两张"
    # A ticket's title forces a replace (a coupon's would be refused: WeChat creates none since 2021-04-01).
    cards["cards"]["latte-art-class"]["base_info"]["title"] = NEW_TITLES["cards.latte-art-class"]
    del cards["cards"]["farm-tour"]
    cards["cards"]["autumn-tasting"] = NEW_CARD
    _dump(cards_file, cards)
    campaign_file = directory / "campaign.yaml"
    campaign = _load(campaign_file)
    campaign["menu"]["button"][2] = {
        "name": "点单",
        "type": "miniprogram",
        "appid": "wx1234567890abcdef",
        "pagepath": "pages/order/index",
        "url": "https://hillcoffee.example.com/menu",
    }
    campaign["whitelist"]["username"] = ["hillcoffee_qa", "hillcoffee_marketing"]
    _dump(campaign_file, campaign)


def report_of_edited_example(directory: Path, lang: str = "en") -> str:
    """Copy the example to `directory`, apply it to the embedded emulator, edit it, and return the report."""
    import shutil

    shutil.copytree(EXAMPLE, directory, ignore=RUN_LEFTOVERS)
    apply_ok(directory)
    edit_example(directory)
    return report_in(directory, lang)


def report_in(directory: Path, lang: str) -> str:
    """The report of the edited example (`report_of_edited_example` made it) in another language."""
    result = wxrec("plan", directory, "--api", "emulator", "--format", "html", "--lang", lang)
    assert result.exit_code == 0, result.output
    return result.output


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def main(out: Path) -> None:
    from tests.browser import open_browser, screenshot

    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.html"
        report.write_text(report_of_edited_example(Path(scratch) / "shop"), encoding="utf-8")
        with open_browser() as browser:
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.goto(report.as_uri())
            screenshot(page, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
