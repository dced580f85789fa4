"""The HTML report in a real browser (headless chromium): the example's plan after a campaign's edits,
opened with the network blocked, screenshotted, and checked from the page and the pixels."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from reconciler.render.card_face import contrast_ratio
from tests.browser import open_browser, screenshot
from tests.report_scenario import NEW_TITLES, report_in, report_of_edited_example

A4_PRINTABLE_HEIGHT_PX = (297 - 2 * 12) / 25.4 * 96  # the report's @page margin is 12 mm
A4_PRINTABLE_WIDTH_PX = (210 - 2 * 12) / 25.4 * 96
DRAWN_CARD_ACTIONS = ("create", "update", "stock", "replace")


@dataclass
class Opened:
    page: Page
    pixels: Image.Image
    console_errors: list[str]
    fetched: list[str]
    lang: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launched after the report is made: playwright's sync API keeps an event loop running while it is open."""
    with open_browser() as launched:
        yield launched


LANGUAGES = ("en", "zh-CN")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same plan's report in each language."""
    scratch = tmp_path_factory.mktemp("report")
    made = {}
    for lang in LANGUAGES:
        text = report_in(scratch / "shop", lang) if made else report_of_edited_example(scratch / "shop", lang)
        made[lang] = scratch / f"report-{lang}.html"
        made[lang].write_text(text, encoding="utf-8")
    return made


PHONE, DESKTOP = 390, 1280  # WeChat's browser on a common phone; a laptop


@pytest.fixture(
    scope="module",
    params=[(lang, width) for lang in LANGUAGES for width in (PHONE, DESKTOP)],
    ids=lambda param: f"{param[0]}-{param[1]}px",
)
def opened(reports: dict[str, Path], browser: Browser, request: pytest.FixtureRequest) -> Iterator[Opened]:
    lang, width = request.param
    report = reports[lang]
    page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
    console_errors: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    def block(route, request) -> None:  # type: ignore[no-untyped-def]
        if request.url == report.as_uri():
            route.continue_()
        else:
            fetched.append(request.url)
            route.abort()

    page.route("**/*", block)
    page.goto(report.as_uri())
    png = screenshot(page, report.with_name(f"report-{lang}-{width}.png"))
    yield Opened(page, Image.open(io.BytesIO(png)).convert("RGB"), console_errors, fetched, lang)
    page.close()


def test_the_page_loads_nothing_and_logs_no_error(opened: Opened) -> None:
    assert opened.fetched == []
    assert opened.console_errors == []


def test_one_card_face_per_changed_card_in_its_colour(opened: Opened) -> None:
    page = opened.page
    sections = page.locator("section[data-address^='cards.']")
    drawn = [
        sections.nth(i)
        for i in range(sections.count())
        if sections.nth(i).get_attribute("data-action") in DRAWN_CARD_ACTIONS
    ]
    assert {s.get_attribute("data-address") for s in drawn} == {
        "cards.latte-voucher",
        "cards.latte-art-class",
        "cards.autumn-tasting",
    }
    for section in drawn:
        after = section.locator(".face[data-side=after]")
        assert after.count() == 1, section.get_attribute("data-address")
    faces = page.locator(".face")
    assert faces.count() == 6  # before and after of the update and of the replace, the new card, the deleted one
    for i in range(faces.count()):
        face = faces.nth(i)
        expected = face.get_attribute("data-colour")
        assert expected is not None
        box = face.bounding_box()
        assert box is not None
        crop = opened.pixels.crop(
            (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
        )
        _, dominant = max(crop.getcolors(crop.width * crop.height) or [])
        wanted = tuple(int(expected[k : k + 2], 16) for k in (1, 3, 5))
        assert max(abs(a - b) for a, b in zip(dominant, wanted, strict=True)) <= 2, (expected, dominant)


def test_the_new_titles_are_on_the_new_faces(opened: Opened) -> None:
    for address, title in NEW_TITLES.items():
        after = opened.page.locator(f"section[data-address='{address}'] .face[data-side=after] .title")
        assert after.inner_text() == title


def test_the_changed_colour_is_drawn_before_and_after(opened: Opened) -> None:
    section = opened.page.locator("section[data-address='cards.latte-voucher']")
    colours = [section.locator(f".face[data-side={side}]").get_attribute("data-colour") for side in ("before", "after")]
    assert colours == ["#63b359", "#dd6549"]  # Color010 → Color090, from the emulator's getcolors
    assert section.locator(".badge.review").count() == 1


def test_text_on_every_card_meets_wcag_aa(opened: Opened) -> None:
    faces = opened.page.locator(".face")
    for i in range(faces.count()):
        face = faces.nth(i)
        rgb = face.evaluate("node => getComputedStyle(node).color")
        red, green, blue = (int(part) for part in rgb.removeprefix("rgb(").removesuffix(")").split(","))
        assert contrast_ratio(f"#{red:02x}{green:02x}{blue:02x}", face.get_attribute("data-colour") or "") >= 4.5


# Every box whose content is wider than the box (cut by overflow: hidden, or spilling out of it).
OVERFLOWING = """() => [...document.querySelectorAll('main, main *')]
    .filter(node => node instanceof HTMLElement && getComputedStyle(node).display !== 'inline')
    .filter(node => node.scrollWidth > node.clientWidth + 1)
    .map(node => node.className + ': ' + node.textContent.slice(0, 40))"""
# Text squeezed into a column a few characters wide (a brand name one character per line).
SQUEEZED = """() => [...document.querySelectorAll('main *')]
    .filter(node => node.getClientRects().length > 0)
    .filter(node => [...node.childNodes].some(child => child.nodeType === 3 && child.textContent.trim().length > 3))
    .filter(node => {
        const box = node.getBoundingClientRect(), em = parseFloat(getComputedStyle(node).fontSize);
        return box.width < 4 * em && box.height > 3 * 1.6 * em;  // three lines or more of a few characters
    })
    .map(node => node.className + ': ' + node.textContent.slice(0, 40))"""
OUTSIDE_THEIR_FACE = """() => [...document.querySelectorAll('.face')].flatMap(face => {
    const box = face.getBoundingClientRect();
    return [...face.querySelectorAll('*')].filter(node => {
        const inner = node.getBoundingClientRect();
        return inner.left < box.left - 1 || inner.right > box.right + 1 || inner.bottom > box.bottom + 1;
    }).map(node => node.className + ': ' + node.textContent.slice(0, 40));
})"""
OUTSIDE_THE_VIEWPORT = """() => [...document.querySelectorAll('main *')]
    .filter(node => node.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map(node => node.className + ': ' + node.textContent.slice(0, 40))"""


def assert_nothing_cut(page: Page) -> None:
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate(SQUEEZED) == []
    assert page.evaluate(OUTSIDE_THEIR_FACE) == []
    assert page.evaluate(OUTSIDE_THE_VIEWPORT) == []
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_nothing_is_clipped_or_off_the_edge(opened: Opened) -> None:
    assert_nothing_cut(opened.page)


def test_before_and_after_are_stacked_on_a_phone_and_side_by_side_on_a_laptop(opened: Opened) -> None:
    section = opened.page.locator("section[data-address='cards.latte-voucher']")
    before, after = (section.locator(f".face[data-side={side}]").bounding_box() for side in ("before", "after"))
    assert before is not None and after is not None
    stacked = after["y"] >= before["y"] + before["height"]
    assert stacked == (opened.page.viewport_size == {"width": PHONE, "height": 900})
    assert stacked or after["x"] >= before["x"] + before["width"]


# An API name: a colour or enum name, or a field path.
API_NAME = re.compile(r"Color\d{3}|\b[A-Z]+_[A-Z_]+\b|\b[A-Z]{4,}\b|\bbase_info\.")


def test_the_drawings_speak_in_words_not_api_names(opened: Opened) -> None:
    drawn = opened.page.locator(".face, .shelf, .phone")
    texts = [drawn.nth(i).inner_text() for i in range(drawn.count())]
    assert texts and [API_NAME.findall(text) for text in texts] == [[] for _ in texts]


def test_a_marked_part_has_room_inside_its_outline(opened: Opened) -> None:
    marked = opened.page.locator(".face .changed:not(.logo)")
    assert marked.count() > 0
    for i in range(marked.count()):
        padding = marked.nth(i).evaluate("node => parseFloat(getComputedStyle(node).paddingLeft)")
        assert padding >= 4


def test_it_prints_on_a4_without_cutting_a_card(opened: Opened) -> None:
    page = opened.page
    viewport = page.viewport_size
    assert viewport is not None
    page.emulate_media(media="print")
    page.set_viewport_size({"width": int(A4_PRINTABLE_WIDTH_PX), "height": int(A4_PRINTABLE_HEIGHT_PX)})
    try:
        assert_nothing_cut(page)
        pairs = page.locator(".pair")
        for i in range(pairs.count()):
            pair = pairs.nth(i)
            assert pair.evaluate("node => getComputedStyle(node).breakInside") == "avoid"
            box = pair.bounding_box()
            assert box is not None and box["height"] < A4_PRINTABLE_HEIGHT_PX  # so avoiding a break is possible
        assert page.locator(".face").first.evaluate("node => getComputedStyle(node).breakInside") == "avoid"
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF")
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size(viewport)


# The report's own words: labels, badges, the drawings' texts (not addresses, values or the plan's reasons).
CHROME = ".badge, .side-label, .counts li, .ghost, .qr-new, th, .face .validity, .face .code, .face .colour-name, "
CHROME += ".face .stock, .banner, .callout > b, .whitelist b"
# Names a sentence may hold in any language: the command, its verbs, a directory.
COMMANDS = re.compile(r"wxrec|apply|qrcodes/")


def test_a_chinese_report_speaks_chinese_in_its_own_words(opened: Opened) -> None:
    chrome = opened.page.locator(CHROME)
    texts = [chrome.nth(i).inner_text() for i in range(chrome.count())]
    english = [text for text in texts if re.search(r"[a-z]{3}", COMMANDS.sub("", text))]
    badge = opened.page.locator(".badge.review").inner_text()
    if opened.lang == "zh-CN":
        assert texts and english == []
        assert badge == "重新提交审核"
    else:
        assert english and badge == "goes back to review"
