"""The plan's counts read the same in text, Markdown and HTML: one source (render.text.tally). Each change counts
once, under its action as its headline says (a deposit of codes too: its codes are counted beside)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from reconciler.emulator import EXISTING_CARDS_FILE
from tests.support import EXAMPLE, RUN_LEFTOVERS, apply_ok, wxrec


def shop_with_one_of_each(tmp_path: Path) -> Path:
    """The gift-codes shop, applied, then: five more codes, an edited card, a changed stock target."""
    directory = tmp_path / "shop"
    shutil.copytree(EXAMPLE.parent / "gift-codes", directory, ignore=RUN_LEFTOVERS)
    shutil.copy(EXAMPLE / "cards.yaml", directory / "cards.yaml")
    shutil.copy(EXAMPLE / EXISTING_CARDS_FILE, directory / EXISTING_CARDS_FILE)  # the coupons cards.yaml imports
    apply_ok(directory)
    with (directory / "codes" / "gift.txt").open("a", encoding="utf-8") as codes:
        codes.writelines(f"NEWCODE{n}\n" for n in range(5))
    cards = (directory / "cards.yaml").read_text(encoding="utf-8")
    cards = cards.replace("结账时请出示此券", "结账时请出示此券。").replace("quantity: 200 ", "quantity: 300 ")
    (directory / "cards.yaml").write_text(cards, encoding="utf-8")
    return directory


def fresh_shop(tmp_path: Path) -> Path:
    """The gift-codes shop with the coffee shop's cards, never applied: creates, imports and codes to deposit."""
    directory = tmp_path / "fresh"
    shutil.copytree(EXAMPLE.parent / "gift-codes", directory, ignore=RUN_LEFTOVERS)
    shutil.copy(EXAMPLE / "cards.yaml", directory / "cards.yaml")
    shutil.copy(EXAMPLE / EXISTING_CARDS_FILE, directory / EXISTING_CARDS_FILE)
    return directory


def plan_as(directory: Path, output: str) -> str:
    result = wxrec("plan", directory, "--api", "emulator", "--format", output)
    assert result.exit_code == 0, result.output
    return result.output


def markdown_table(directory: Path) -> dict[str, int]:
    head, row = [
        line for line in plan_as(directory, "markdown").splitlines() if line.startswith("| ") and "---" not in line
    ][:2]
    return {
        label.strip(): int(n) for label, n in zip(head.strip("|").split("|"), row.strip("|").split("|"), strict=True)
    }


def html_chips(directory: Path) -> dict[str, int]:
    html = plan_as(directory, "html")
    return {label: int(n) for n, label in re.findall(r"<li[^>]*><b>(\d+)</b>([^<]+)</li>", html)}


def test_the_summary_line_the_table_and_the_chips_count_what_the_headlines_list(tmp_path: Path) -> None:
    directory = fresh_shop(tmp_path)
    text = plan_as(directory, "text")
    headlines = {
        action: len(re.findall(rf"^[-+~=!/]+ \S+( \(\S+\))? will be {verb}", text, re.MULTILINE))
        for action, verb in (("create", "created"), ("import", "imported"))
    }
    codes = sum(
        c["after"]["pending"] for c in json.loads(plan_as(directory, "json"))["changes"] if "pending" in c["after"]
    )
    assert headlines["create"] == 5 and headlines["import"] == 3 and codes == 300, (
        "the codes file is one of the creates"
    )
    said = (
        f"Plan: {headlines['create']} to create, 0 to update, 0 stock changes, {codes} codes to deposit, 0 to replace"
    )
    assert said in text and f"{headlines['import']} to import." in text
    shown = {"create": headlines["create"], "update": 0, "stock": 0, "codes to deposit": codes, "replace": 0}
    shown |= {"delete": 0, "import": headlines["import"]}
    assert markdown_table(directory) == shown
    assert html_chips(directory) == shown


def test_every_format_counts_updates_stock_and_codes_alike(tmp_path: Path) -> None:
    directory = shop_with_one_of_each(tmp_path)
    changes = json.loads(plan_as(directory, "json"))["changes"]
    deposits = [c for c in changes if c["address"].startswith("codes.")]
    updates = [c for c in changes if c["action"] == "update"]
    stock = [c for c in changes if c["action"] == "stock"]
    codes = sum(c["after"]["pending"] for c in deposits)
    assert (len(updates), len(deposits), len(stock), codes) == (2, 1, 1, 5), "the scenario has one of each"

    text = plan_as(directory, "text")
    assert f"{len(updates)} to update (1 back to review), {len(stock)} stock change, {codes} codes to deposit" in text
    shown = {"update": len(updates), "back to review": 1, "stock": len(stock), "codes to deposit": codes}
    assert markdown_table(directory).items() >= shown.items()
    assert html_chips(directory).items() >= shown.items()


def test_codes_uploaded_to_a_wechat_pay_stock_are_counted_in_every_format(tmp_path: Path) -> None:
    directory = tmp_path / "stocks"
    shutil.copytree(EXAMPLE.parent / "pay-coupons", directory, ignore=RUN_LEFTOVERS)
    changes = json.loads(plan_as(directory, "json"))["changes"]
    uploads = sum(((c["after"] or {}).get("codes") or {}).get("pending", 0) for c in changes)
    assert uploads == 300, "the example uploads one file of codes"
    assert f"{uploads} codes to upload" in plan_as(directory, "text")
    assert markdown_table(directory)["codes to upload"] == uploads
    assert html_chips(directory)["codes to upload"] == uploads
