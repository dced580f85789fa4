"""The HTML report without a browser: contrast, dates, escaping, determinism, no fetch, and the CLI wiring
(`plan`/`diff --format html`, `--embed-logos`, `-out`)."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import EXISTING_CARDS_FILE
from reconciler.plan import Action, Plan, ResourceChange, StockChange
from reconciler.render.card_face import contrast_ratio, text_colour_on, validity
from reconciler.render.html import render_html
from reconciler.render.logos import MAX_BYTES, fetch_logos, logo_urls
from tests.report_scenario import NEW_TITLES, edit_example
from tests.support import EXAMPLE, RUN_LEFTOVERS, apply_ok, wxrec

EXAMPLE_LOGO = "https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png"

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
# A fetch when the page opens: an http(s) URL in src or href, or any url() in CSS.
FETCHING = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(""", re.IGNORECASE)


def card_plan(title: str = "拿铁满30减8元", brand: str = "山丘咖啡", colour: str = "Color010") -> dict[str, Any]:
    fields = {
        "base_info.brand_name": brand,
        "base_info.title": title,
        "base_info.color": colour,
        "base_info.code_type": "CODE_TYPE_QRCODE",
        "base_info.logo_url": "https://mmbiz.qpic.cn/logo.png",
        "base_info.date_info.type": "DATE_TYPE_FIX_TERM",
        "base_info.date_info.fixed_begin_term": 0,
        "base_info.date_info.fixed_term": 30,
    }
    before = {"card_type": "CASH", "fields": fields, "stock": {"quantity": 10, "total_quantity": 12}, "status": "OK"}
    after = {"card_type": "CASH", "fields": fields, "stock": {"mode": "refill", "target": 20, "ceiling": None}}
    change = ResourceChange("cards.x", Action.STOCK, id="p1", before=before, after=after)
    change.stock = StockChange(mode="refill", target=20, quantity=10, total_quantity=12, delta=10)
    return Plan(appid="wx0123456789abcdef", endpoint="emulator", changes=[change]).to_dict()


class Elements(HTMLParser):
    """The tags of a page and the text inside each element with a given class."""

    def __init__(self, wanted_class: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.wanted_class = wanted_class
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        if self.depth or self.wanted_class in classes:
            self.depth += 1
            if self.depth == 1:
                self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.texts[-1] += data


def parsed(page: str, wanted_class: str) -> Elements:
    elements = Elements(wanted_class)
    elements.feed(page)
    return elements


@given(st.integers(0, 0xFFFFFF))
def test_the_text_colour_meets_wcag_aa_on_every_card_colour(value: int) -> None:
    background = f"#{value:06x}"
    assert contrast_ratio(text_colour_on(background), background) >= 4.5


def test_light_cards_get_black_text_and_dark_cards_white() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert text_colour_on("#a9d92d") == "#000000"  # Color082, a light green
    assert text_colour_on("#5e6671") == "#ffffff"  # Color102, slate


def test_validity_is_shown_in_china_time_or_in_days_after_claiming() -> None:
    # 2026-08-31T16:00:00Z is already 1 September in UTC+8.
    fixed = {"base_info.date_info.type": "DATE_TYPE_FIX_TIME_RANGE"}
    fixed |= {"base_info.date_info.begin_timestamp": 1788192000, "base_info.date_info.end_timestamp": 1924963199}
    assert validity(fixed) == "Valid 2026-09-01 – 2030-12-31 (UTC+8)"
    term = {"base_info.date_info.type": "DATE_TYPE_FIX_TERM", "base_info.date_info.fixed_term": 30}
    assert validity(term | {"base_info.date_info.fixed_begin_term": 0}) == "Valid 30 days, from the day it is claimed"
    assert validity(term | {"base_info.date_info.fixed_begin_term": 3}) == "Valid 30 days, from 3 days after claiming"
    assert validity({"base_info.date_info.type": "DATE_TYPE_PERMANENT"}) == "Valid permanently"


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=20))
def test_hostile_titles_and_brands_are_text_never_markup(title: str, brand: str) -> None:
    page = render_html(card_plan(title=title, brand=brand), palette={})
    benign = render_html(card_plan(), palette={})
    assert parsed(page, "title").tags == parsed(benign, "title").tags
    assert parsed(page, "title").texts == [title, title]
    assert parsed(page, "brand").texts == [brand, brand]


def test_a_script_in_a_title_stays_text() -> None:
    page = render_html(card_plan(title="</div><script>alert(1)</script>"), palette={})
    assert "<script" not in page
    assert "&lt;/div&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_stock_changes_are_drawn_on_the_face_and_marked() -> None:
    page = render_html(card_plan(), palette={"Color010": "#63b359"})
    assert parsed(page, "stock").texts == ["Stock 10 claimable · 12 issued", "Stock 20 claimable · 22 issued"]
    assert page.count('class="stock changed"') == 2
    assert page.count('data-colour="#63b359"') == 2


def test_a_colour_name_the_palette_lacks_is_drawn_from_the_documented_colours() -> None:
    page = render_html(card_plan(colour="Color090"), palette={})
    assert page.count('data-colour="#dd6549"') == 2


@pytest.fixture
def edited_example(tmp_path: Path) -> Path:
    directory = tmp_path / "shop"
    shutil.copytree(EXAMPLE, directory, ignore=RUN_LEFTOVERS)
    apply_ok(directory)
    edit_example(directory)
    return directory


def section_of(page: str, address: str) -> str:
    start = page.index(f'data-address="{address}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize(("old", "new"), [("菜单", "点单"), ("附近门店", "门店")], ids=["button", "sub-button"])
def test_renaming_one_menu_button_marks_that_button_alone(example_dir: Path, old: str, new: str) -> None:
    """The first button links to a landing page by reference: it is unchanged, so it is not marked either."""
    apply_ok(example_dir)
    campaign = example_dir / "campaign.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").replace(f"- name: {old}\n", f"- name: {new}\n"))
    result = wxrec("plan", example_dir, "--api", "emulator", "--format", "html")
    assert result.exit_code == 0, result.output
    assert parsed(section_of(result.output, "menu"), "changed").texts == [old, new]


def test_a_replaced_card_marks_what_changed_and_not_its_unchanged_stock(edited_example: Path) -> None:
    result = wxrec("plan", edited_example, "--api", "emulator", "--format", "html")
    assert result.exit_code == 0, result.output
    replaced = section_of(result.output, "cards.latte-art-class")
    assert parsed(replaced, "changed").texts == ["周末拿铁拉花课", NEW_TITLES["cards.latte-art-class"]]


def test_the_report_fetches_nothing_and_is_the_same_bytes_every_time(edited_example: Path) -> None:
    first = wxrec("plan", edited_example, "--api", "emulator", "--format", "html")
    second = wxrec("plan", edited_example, "--api", "emulator", "--format", "html")
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    page = first.output
    assert FETCHING.findall(page) == []
    assert "<script" not in page
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in page
    assert "https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png" not in page  # logos are not even named
    assert page.count("<svg") == 1  # the window poster's current QR code, drawn inline
    listed = parsed(page, "added").texts, parsed(page, "removed").texts
    assert listed == (["usernamehillcoffee_marketing (added)"], ["usernamehillcoffee_ops (removed)"])


def test_out_saves_the_json_plan_while_the_report_goes_to_stdout(edited_example: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    result = wxrec("plan", edited_example, "--api", "emulator", "--format", "html", "-out", saved)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<!DOCTYPE html>") and "Saved the plan" not in result.output
    assert json.loads(saved.read_text(encoding="utf-8"))["summary"]["replace"] == 1
    apply_ok(edited_example, "--plan", str(saved), "--allow-destroy")


def test_diff_renders_the_report_offline(tmp_path: Path) -> None:
    head = tmp_path / "head"
    shutil.copytree(EXAMPLE, head, ignore=RUN_LEFTOVERS)
    edit_example(head)
    result = wxrec("diff", EXAMPLE, head, "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.output
    assert "wxrec diff for account wx0123456789abcdef from manifests at" in page
    assert 'data-colour="#dd6549"' in page  # Color090 with no state to read a palette from
    assert parsed(page, "title").texts.count(NEW_TITLES["cards.latte-art-class"]) == 1
    assert FETCHING.findall(page) == []


@pytest.fixture
def logo_server() -> Iterator[str]:
    class Logos(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PNG if self.path == "/logo.png" else b"<html>not a logo</html>"
            self.send_response(200)
            self.send_header("Content-Type", "image/png")  # whatever is sent, the bytes decide
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Logos)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_embed_logos_inlines_what_arrives_and_draws_initials_for_the_rest(example_dir: Path, logo_server: str) -> None:
    closed = "http://ops:hunter2@127.0.0.1:9/x.png?sign=s3cret"  # a signed, private logo URL
    # Every logo is one of the test's: the existing coupons' too, in the account (the seed) and in the manifests.
    for name in ("cards.yaml", EXISTING_CARDS_FILE):
        path = example_dir / name
        path.write_text(path.read_text(encoding="utf-8").replace(EXAMPLE_LOGO, closed), encoding="utf-8")
    cards_file = example_dir / "cards.yaml"
    cards = yaml.safe_load(cards_file.read_text(encoding="utf-8"))
    for key, path in {"latte-art-class": "/logo.png", "farm-tour": "/page.html"}.items():
        cards["cards"][key]["base_info"]["logo_url"] = f"{logo_server}{path}"
    cards_file.write_text(yaml.safe_dump(cards, allow_unicode=True), encoding="utf-8")
    result = wxrec("plan", example_dir, "--api", "emulator", "--format", "html", "--embed-logos")
    assert result.exit_code == 0, result.output
    inlined = f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"'
    assert result.stdout.count(inlined) == 1
    # An HTML page; a closed port for the member card and both faces (live, manifest) of each imported coupon.
    assert result.stdout.count('class="logo placeholder"') == 1 + 1 + 3 * 2
    assert logo_server not in result.stdout
    warned = [line for line in result.stderr.splitlines() if "could not fetch the logo" in line]
    assert sorted(warned) == sorted(
        f"Warning: --embed-logos: could not fetch the logo {url}; the report draws the brand's initial"
        for url in (f"{logo_server}/page.html", "http://127.0.0.1:9/x.png")
    )
    assert "hunter2" not in result.output and "s3cret" not in result.output


@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_embed_logos_warns_it_does_nothing_outside_html(example_dir: Path, output: str) -> None:
    result = wxrec("plan", example_dir, "--api", "emulator", "--format", output, "--embed-logos")
    assert result.exit_code == 0, result.output
    assert f"--embed-logos applies to --format html only; it has no effect with --format {output}" in result.stderr


def test_fetch_logos_keeps_only_real_images_that_arrive_in_time() -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow.png":
            await asyncio.sleep(5)
        bodies = {"/ok.png": PNG, "/big.png": PNG + b"\0" * MAX_BYTES, "/missing.png": PNG, "/slow.png": PNG}
        return httpx.Response(404 if request.url.path == "/missing.png" else 200, content=bodies[request.url.path])

    urls = [f"https://logos.example/{name}.png" for name in ("ok", "big", "missing", "slow")]
    fetched = asyncio.run(fetch_logos(urls, transport=httpx.MockTransport(answer), timeout=0.5))
    assert list(fetched) == ["https://logos.example/ok.png"]
    assert fetched["https://logos.example/ok.png"].startswith("data:image/png;base64,")


def test_logo_urls_are_every_card_logo_once() -> None:
    assert logo_urls(card_plan()) == ["https://mmbiz.qpic.cn/logo.png"]


@pytest.mark.parametrize("action", list(Action))
def test_every_action_renders_with_its_badge(action: Action) -> None:
    for address in ("cards.a", "codes.a", "landing_pages.a", "qrcodes.a", "menu", "whitelist"):
        change = ResourceChange(
            address, action, id="p1", before={"address": "cards.old"} if action == Action.MOVE else None
        )
        plan = Plan(appid="wx0123456789abcdef", endpoint="emulator", changes=[change])
        page = render_html(plan.to_dict(), palette={})
        assert f'data-address="{address}" data-action="{action}"' in page
