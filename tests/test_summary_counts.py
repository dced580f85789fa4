"""The plan's counts read the same in text, Markdown and HTML: one source (render.text.tally). A deposit of
codes is counted as codes to deposit, not as an update of the codes resource."""

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


def plan_as(directory: Path, output: str) -> str:
    result = wxrec("plan", directory, "--api", "emulator", "--format", output)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_format_counts_updates_stock_and_codes_alike(tmp_path: Path) -> None:
    directory = shop_with_one_of_each(tmp_path)
    changes = json.loads(plan_as(directory, "json"))["changes"]
    deposits = [c for c in changes if c["address"].startswith("codes.")]
    updates = [c for c in changes if c["action"] == "update" and c not in deposits]
    stock = [c for c in changes if c["action"] == "stock"]
    codes = sum(c["after"]["pending"] for c in deposits)
    assert (len(updates), len(stock), codes) == (1, 1, 5), "the scenario has one of each"

    text = plan_as(directory, "text")
    assert f"{len(updates)} to update (1 back to review), {len(stock)} stock change, {codes} codes to deposit" in text

    markdown = plan_as(directory, "markdown")
    head, row = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line][:2]
    table = dict(zip(head.strip("|").split(" | "), row.strip("|").split(" | "), strict=True))
    assert (table["update"].strip(), table["stock"].strip(), table["codes to deposit"].strip()) == ("1", "1", "5")

    html = plan_as(directory, "html")
    shown = {label: int(n) for n, label in re.findall(r"<li[^>]*><b>(\d+)</b>([^<]+)</li>", html)}
    assert shown["to update"] == len(updates) and shown["stock"] == len(stock) and shown["codes to deposit"] == codes
