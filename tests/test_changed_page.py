"""A landing page changed in the manifests is made anew (WeChat cannot edit one), and the plan shows what
changed, not every field of the page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.support import EXAMPLE, RUN_LEFTOVERS, apply_ok, wxrec


def _retitle_shelf(directory: Path) -> None:
    campaign_file = directory / "campaign.yaml"
    campaign = yaml.safe_load(campaign_file.read_text(encoding="utf-8"))
    campaign["landing_pages"]["coupon-shelf"]["page_title"] = "秋季新品"
    campaign_file.write_text(yaml.safe_dump(campaign, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_changed_page_shows_only_what_changed(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    apply_ok(shop)
    _retitle_shelf(shop)
    reports = {
        output: wxrec("plan", shop, "--api", "emulator", "--format", output).output
        for output in ("text", "markdown", "html")
    }
    for output in ("text", "markdown"):
        assert "秋季新品" in reports[output] and "山丘咖啡优惠专区" in reports[output], output  # before and after
        for unchanged in ("banner", "can_share", "card_list", "thumb_url"):
            assert unchanged not in reports[output], (output, unchanged)
    assert 'page_title: "山丘咖啡优惠专区" → "秋季新品"' in reports["text"]
    panel = reports["html"].split('data-address="landing_pages.coupon-shelf"')[1].split("</section>")[0]
    assert re.findall(r'<td class="path">([^<]*)</td>', panel) == ["page_title"]


def test_a_new_page_shows_every_field(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    text = wxrec("plan", shop, "--api", "emulator").output
    assert "banner: " in text and 'card_list.1.card: "weekday-discount"' in text


@pytest.mark.parametrize(
    ("field", "value", "outlined"),
    [
        ("page_title", "秋季新品", "shelf-title"),
        ("banner", "https://mmbiz.qpic.cn/mmbiz/hillcoffee/autumn.jpg", "banner"),
    ],
)
def test_the_shelf_outlines_only_the_page_field_that_changed(
    tmp_path: Path, field: str, value: str, outlined: str
) -> None:
    """As on the card faces and the menu bar: a new banner does not outline the page's title, nor the reverse."""
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    apply_ok(shop)
    campaign_file = shop / "campaign.yaml"
    campaign = yaml.safe_load(campaign_file.read_text(encoding="utf-8"))
    campaign["landing_pages"]["coupon-shelf"][field] = value
    campaign_file.write_text(yaml.safe_dump(campaign, allow_unicode=True, sort_keys=False), encoding="utf-8")
    html = wxrec("plan", shop, "--api", "emulator", "--format", "html").output
    panel = html.split('data-address="landing_pages.coupon-shelf"')[1].split("</section>")[0]
    shelves = re.findall(r'<div class="shelf">.*?\n</div>', panel, flags=re.DOTALL)
    assert len(shelves) == 2  # before and after
    for shelf in shelves:
        assert re.findall(r'class="([\w-]+) changed"', shelf) == [outlined]
