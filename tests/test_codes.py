"""Custom code deposit (`codes`): planning is pure and counts only; apply deposits what the ledger lacks, in
batches of 100, verified; stock follows min(target, deposited); codes never leave the codes file."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest
from reconciler.manifest.files import ALLOW_OUTSIDE
from reconciler.plan import Action
from reconciler.resources.cards.model import LiveCard
from reconciler.resources.codes.files import CodeFile
from reconciler.resources.codes.planning import BATCH, CodeCounts, CodesLive, count_codes, plan_codes
from reconciler.resources.codes.record import CodesRecord
from reconciler.state import FileBackend, code_hash
from tests.support import EXAMPLE, RUN_LEFTOVERS, Harness, harness_for, wxrec

DEPOSIT_CARD = """
cards:
  gift-card:
    card_type: MEMBER_CARD
    base_info:
      logo_url: https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png
      brand_name: 山丘咖啡
      code_type: CODE_TYPE_QRCODE
      title: 咖啡礼品卡
      color: Color010
      notice: 出示券码
      description: 兑换一杯任意饮品
      use_custom_code: true
      get_custom_code_mode: GET_CUSTOM_CODE_MODE_DEPOSIT
      date_info:
        type: DATE_TYPE_FIX_TERM
        fixed_begin_term: 0
        fixed_term: 30
      sku:
        total_quantity: {target}
    prerogative: 兑换一杯任意饮品
    supply_bonus: false
    supply_balance: false
codes:
  gift-codes:
    card: gift-card
    file: gift-codes.txt
"""

CODE_PATTERN = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=6, max_size=20)


def codes(count: int, start: int = 0) -> list[str]:
    return [f"GIFT{n:08d}" for n in range(start, start + count)]


def write_codes(directory: Path, values: list[str], target: int = 1000) -> None:
    (directory / "gift.yaml").write_text(DEPOSIT_CARD.format(target=target), encoding="utf-8")
    (directory / "gift-codes.txt").write_text("\n".join(values) + "\n", encoding="utf-8")


def rebrand(path: Path) -> None:
    """An edit that replaces the deposit card: card/update cannot change brand_name."""
    path.write_text(path.read_text(encoding="utf-8").replace("brand_name: 山丘咖啡", "brand_name: 山丘咖啡二店"))


@pytest.fixture
async def gift(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in harness_for(tmp_path):
        write_codes(harness.directory, codes(250))
        yield harness


# ---- pure planning -------------------------------------------------------------------------------------


def live(card_id: str | None = "p1", deposited: int = 0, total: int = 0, status: str = "CARD_STATUS_VERIFY_OK"):  # type: ignore[no-untyped-def]
    card = LiveCard(card_id or "", "MEMBER_CARD", status, {}, total, total) if card_id else None
    return CodesLive(card_id, deposited, card)


@given(st.sets(CODE_PATTERN, min_size=1, max_size=300), st.sets(CODE_PATTERN, max_size=300), st.randoms())
def test_pending_is_what_the_ledger_lacks_whatever_the_order(
    wanted: set[str], held: set[str], rng: random.Random
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        source = CodeFile(Path(scratch) / "codes.txt")
        source.path.write_text("\n".join(rng.sample(sorted(wanted), len(wanted))), encoding="utf-8")
        counts = count_codes(source, {code_hash(c) for c in held})
    assert (counts.codes, counts.pending, counts.gone) == (len(wanted), len(wanted - held), len(held - wanted))
    change = plan_codes("k", {"card": "c", "file": "f"}, "f", counts, CodesRecord("p1"), live(), 10**6)
    if change is None:
        assert not wanted - held
        return
    assert change.after is not None and change.after["pending"] == len(wanted - held)
    assert change.stock is not None and change.stock.delta == len(wanted - held), "stock follows the deposit"


def test_stock_stays_at_the_deposited_count_when_codes_run_short() -> None:
    change = plan_codes("k", {"card": "c", "file": "f"}, "f", CodeCounts(30, 30, 0), None, live(), 100)
    assert change is not None and change.action == Action.CREATE
    assert change.stock is not None and change.stock.delta == 30
    assert any("codes run short: stock stays at 30, below the target 100" in n for n in change.notes)
    assert change.reasons == [f"30 codes to deposit in 1 call of {BATCH}, each checked with checkcode"]


def test_a_replaced_card_gets_every_code_again() -> None:
    counts = CodeCounts(5, 5, 0)  # counted against an empty ledger: the new card holds none
    change = plan_codes("k", {"card": "c", "file": "f"}, "f", counts, CodesRecord("old"), live("new"), 5)
    assert change is not None and change.after is not None and change.after["pending"] == 5
    assert "the card was replaced: every code goes into the new card" in change.reasons


def test_nothing_to_do_when_everything_is_deposited_and_stock_is_at_target() -> None:
    record = CodesRecord("p1")
    done = CodeCounts(5, 0, 0)
    assert plan_codes("k", {"card": "c", "file": "f"}, "f", done, record, live(deposited=5, total=5), 5) is None


def test_code_file_reads_lines_and_csv_columns(tmp_path: Path) -> None:
    lines = tmp_path / "codes.txt"
    lines.write_text("\ufeffA1\r\n\r\n  B2  \nC3", encoding="utf-8")
    assert list(CodeFile(lines).read()) == [(1, "A1"), (3, "B2"), (4, "C3")]
    table = tmp_path / "codes.csv"
    table.write_text("batch,code\n7,X1\n7,X2\n", encoding="utf-8")
    assert [c for _, c in CodeFile(table, "code").read()] == ["X1", "X2"]
    assert list(CodeFile(table, 2).read()) == [(2, "X1"), (3, "X2")], "the header row is never a code"


# ---- validation ----------------------------------------------------------------------------------------


def test_bad_codes_are_named_by_line_never_by_value(tmp_path: Path) -> None:
    secret = "TOOLONGCODE-0123456789"
    write_codes(tmp_path, ["OK000001", secret, "OK000001", "HAS SPACE"])
    with pytest.raises(ManifestError) as raised:
        load_manifest(tmp_path)
    message = str(raised.value)
    assert "gift-codes.txt:2" in message and "longer than 20 bytes" in message
    assert "gift-codes.txt:3" in message and "repeats the code on line 1" in message
    assert "gift-codes.txt:4" in message and "whitespace" in message
    assert secret not in message and "OK000001" not in message


# Characters str.splitlines() breaks lines on, and others a code must not hold: C0/C1 controls, the
# information separators, NEL, the line and paragraph separators, format characters, a no-break space.
NOT_LINE_BREAKS = "\t\v\f\r\x1c\x1d\x1e\x1f\x7f\x85\xa0\u2028\u2029\u200b\ufeff"


@given(separator=st.sampled_from(NOT_LINE_BREAKS), first=CODE_PATTERN, second=CODE_PATTERN)
def test_a_code_holding_a_control_or_separator_character_is_refused_at_its_line(
    separator: str, first: str, second: str
) -> None:
    """Lines end at \n only: the file below has three lines, and its second holds one code with `separator` in
    it, refused at line 2 (splitting there would deposit two codes the file never held, for good)."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        write_codes(directory, [])
        (directory / "gift-codes.txt").write_text(f"OK000001\n{first}{separator}{second}\r\nOK000002\n", "utf-8")
        assert [n for n, _ in CodeFile(directory / "gift-codes.txt").read()] == [1, 2, 3]
        with pytest.raises(ManifestError) as raised:
            load_manifest(directory)
        assert [p.location.line for p in raised.value.problems if p.location] == [2]
        assert "gift-codes.txt:2" in str(raised.value) and "whitespace or a control character" in str(raised.value)
        assert first not in str(raised.value)


def test_a_csv_code_is_refused_at_its_line_and_a_stray_carriage_return_is_located(tmp_path: Path) -> None:
    write_codes(tmp_path, [])
    gift = tmp_path / "gift.yaml"
    gift.write_text(gift.read_text(encoding="utf-8").replace("file: gift-codes.txt", "file: c.csv\n    column: 2"))
    (tmp_path / "c.csv").write_text('batch,code\n1,"A\nB"\n1,C\u2028D\n1,OK000003\n', encoding="utf-8")
    with pytest.raises(ManifestError) as raised:
        load_manifest(tmp_path)
    assert [p.location.line for p in raised.value.problems if p.location] == [2, 4]
    (tmp_path / "c.csv").write_text("batch,code\n1,OK000001\n1,A\rB\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"c\.csv:3: .*not a CSV row"):
        load_manifest(tmp_path)


def test_codes_need_a_deposit_mode_card(tmp_path: Path) -> None:
    write_codes(tmp_path, codes(3))
    path = tmp_path / "gift.yaml"
    path.write_text(path.read_text().replace("get_custom_code_mode: GET_CUSTOM_CODE_MODE_DEPOSIT", ""))
    result = wxrec("validate", str(tmp_path))
    assert result.exit_code == 1
    assert "gift.yaml:" in result.output and "codes.gift-codes.card" in result.output
    assert "is not in GET_CUSTOM_CODE_MODE_DEPOSIT" in result.output


# ---- end to end against the emulator -------------------------------------------------------------------


async def test_apply_deposits_verifies_and_raises_stock_then_plans_nothing(gift: Harness) -> None:
    plan = await gift.plan()
    change = next(c for c in plan.changes if c.address == "codes.gift-codes")
    assert change.after is not None and change.after["pending"] == 250
    await gift.apply()
    card_id = gift.card_id("gift-card")
    count = await gift.api.deposit_count(card_id)
    assert count == 250
    card = await gift.api.get(card_id)
    assert card is not None and card["member_card"]["base_info"]["sku"]["total_quantity"] == 250, "min(1000, 250)"
    assert not (await gift.plan()).changes
    calls = (await gift.control_get("calls"))["calls"]
    deposits = [c for c in calls if c["path"] == "/card/code/deposit"]
    assert len(deposits) == 3 and len([c for c in calls if c["path"] == "/card/code/checkcode"]) == 3


async def test_reordered_file_changes_nothing_and_new_codes_are_deposited_alone(gift: Harness) -> None:
    await gift.apply()
    values = codes(250)
    random.Random(7).shuffle(values)
    write_codes(gift.directory, values)
    assert not (await gift.plan()).changes, "the same codes in another order"
    write_codes(gift.directory, values + codes(40, start=900))
    change = next(c for c in (await gift.plan()).changes if c.address == "codes.gift-codes")
    assert change.action == Action.UPDATE and change.after is not None and change.after["pending"] == 40
    await gift.control("calls/clear")
    await gift.apply()
    assert await gift.api.deposit_count(gift.card_id("gift-card")) == 290
    deposits = [c for c in (await gift.control_get("calls"))["calls"] if c["path"] == "/card/code/deposit"]
    assert len(deposits) == 1


async def test_codes_removed_from_the_file_are_reported_also_when_nothing_else_is_pending(gift: Harness) -> None:
    """README: codes removed from the file stay deposited, and the plan says how many."""
    await gift.apply()
    write_codes(gift.directory, codes(250)[:-3])
    plan = await gift.plan()
    assert not plan.changes
    assert "codes.gift-codes: 3 codes deposited earlier are no longer in the file: WeChat cannot take them back" in (
        plan.warnings
    )
    write_codes(gift.directory, codes(249) + codes(1, start=900))
    change = next(c for c in (await gift.plan()).changes if c.address == "codes.gift-codes")
    assert "1 code deposited earlier is no longer in the file: WeChat cannot take it back" in change.notes


async def test_an_interrupted_deposit_resumes_without_depositing_twice(gift: Harness) -> None:
    write_codes(gift.directory, codes(1000))
    await gift.control("faults", spec="quota=4/day,paths=/card/code/deposit")
    with pytest.raises(AssertionError):
        await gift.apply(parallelism=2)
    held = gift.backend.code_hashes("codes.gift-codes")
    assert 0 < len(held) < 1000, "the ledger kept the batches verified before the failure"
    await gift.control("faults", spec="none")
    await gift.apply(parallelism=2)
    assert await gift.api.deposit_count(gift.card_id("gift-card")) == 1000
    assert len(gift.backend.code_hashes("codes.gift-codes")) == 1000
    assert not (await gift.plan()).changes


@pytest.mark.parametrize("new_codes", [0, 40])
async def test_after_the_ledger_is_lost_plan_predicts_the_stock_apply_reaches(gift: Harness, new_codes: int) -> None:
    """WeChat holds the codes the lost ledger recorded: plan counts getdepositcount, not the file again."""
    await gift.apply()
    card_id = gift.card_id("gift-card")
    shutil.rmtree(gift.directory / ".wxrec" / "state.codes")
    write_codes(gift.directory, codes(250) + codes(new_codes, start=900))
    change = next(c for c in (await gift.plan()).changes if c.address == "codes.gift-codes")
    assert change.after is not None and change.after["pending"] == new_codes
    assert "the ledger of deposited codes is missing: WeChat holds 250 codes of this card, the ledger none" in (
        change.reasons
    )
    predicted = 250 + (change.stock.delta if change.stock else 0)
    report = await gift.apply()
    card = await gift.api.get(card_id)
    assert card is not None
    assert card["member_card"]["base_info"]["sku"]["total_quantity"] == predicted == 250 + new_codes
    outcome = next(o for o in report.outcomes if o.address == "codes.gift-codes")
    assert outcome.message.startswith(
        f"deposited {new_codes} codes ({250 + new_codes} in the card), 250 others were in"
    )
    assert len(gift.backend.code_hashes("codes.gift-codes")) == 250 + new_codes, "the ledger is rebuilt"
    assert not (await gift.plan()).changes


async def test_codes_never_reach_plans_state_or_output(gift: Harness) -> None:
    await gift.apply()
    write_codes(gift.directory, codes(260))
    result = await asyncio.to_thread(
        wxrec, "plan", str(gift.directory), "--api", "emulator", "--format", "json", "--refresh=false"
    )
    assert result.exit_code == 0, result.output
    texts = [result.output, json.dumps((await gift.plan()).to_dict())]
    texts += [p.read_text(errors="replace") for p in (gift.directory / ".wxrec").rglob("*") if p.is_file()]
    for text in texts:
        assert "GIFT000" not in text
    ledger = FileBackend(gift.directory / ".wxrec" / "state.json").code_hashes("codes.gift-codes")
    assert len(ledger) == 250


async def test_a_deposit_card_deleted_outside_wxrec_does_not_break_the_plan(gift: Harness) -> None:
    await gift.apply()
    await gift.api.delete(gift.card_id("gift-card"))
    plan = await gift.plan()
    gone = {c.address: c.action for c in plan.changes}
    assert gone.get("cards.gift-card") == Action.GONE
    assert "codes.gift-codes" not in gone, "nothing can be deposited into a deleted card"


async def test_replacing_a_card_whose_codes_users_hold_refuses_to_deposit_them_again(gift: Harness) -> None:
    await gift.apply()
    await gift.control("claim", card_id=gift.card_id("gift-card"), count=3)
    path = gift.directory / "gift.yaml"

    rebrand(path)
    plan = await gift.plan()
    assert any("3 codes of it are with users already" in r for r in plan.refusals)
    write_codes(gift.directory, codes(100, start=5000))  # fresh codes for the new card
    rebrand(path)
    fresh = await gift.plan()
    assert not fresh.refusals
    change = next(c for c in fresh.changes if c.address == "codes.gift-codes")
    assert change.after is not None and change.after["pending"] == 100
    assert change.after["target"] == 997, "the 3 codes users hold from the old card count against the target"


async def test_a_first_deposit_cut_short_never_trusts_its_ledger_for_another_card(gift: Harness) -> None:
    gift.backend.add_code_hashes("codes.gift-codes", [code_hash(c) for c in codes(250)])  # left by a dead run
    await gift.apply()
    assert await gift.api.deposit_count(gift.card_id("gift-card")) == 250, "the stale ledger was not trusted"


def test_diff_counts_the_codes_a_change_adds_against_the_base_at_a_git_ref(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "shop", ignore=RUN_LEFTOVERS)
    shop = tmp_path / "shop"
    write_codes(shop, codes(250))

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "base")
    assert wxrec("diff", "HEAD", str(shop), "--detailed-exitcode").exit_code == 0
    write_codes(shop, codes(290))
    result = wxrec("diff", "HEAD", str(shop), "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    change = next(c for c in json.loads(result.output)["changes"] if c["address"] == "codes.gift-codes")
    assert change["action"] == "update" and change["after"]["pending"] == 40
    assert "GIFT000" not in result.output


def test_a_saved_plan_is_stale_once_its_codes_file_changed(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    write_codes(shop, codes(250))
    saved = tmp_path / "plan.json"
    assert wxrec("plan", str(shop), "--api", "emulator", "-out", str(saved)).exit_code == 0
    write_codes(shop, codes(250) + codes(10, start=7000))  # codes nobody reviewed
    refused = wxrec("apply", str(shop), "--api", "emulator", "--auto-approve", "--plan", str(saved))
    assert refused.exit_code == 1
    assert "codes.gift-codes: gift-codes.txt changed since the plan was made" in refused.output
    assert (
        not (shop / ".wxrec" / "state.json").exists() or "gift-card" not in (shop / ".wxrec" / "state.json").read_text()
    )


async def test_deposits_under_faults_put_every_code_in_once(gift: Harness) -> None:
    write_codes(gift.directory, codes(2000))
    spec = "error=-1:0.15,reset=0.1,drop=0.1,seed=3,paths=/card/code/deposit|/card/code/checkcode"
    await gift.control("faults", spec=spec)
    for _ in range(5):  # a run the faults defeat is run again, as a pipeline would
        try:
            await gift.apply()
            break
        except AssertionError:
            continue
    await gift.control("faults", spec="none")
    assert await gift.api.deposit_count(gift.card_id("gift-card")) == 2000
    assert len(gift.backend.code_hashes("codes.gift-codes")) == 2000
    assert not (await gift.plan()).changes
    faulted = [c for c in (await gift.control_get("calls"))["calls"] if c.get("fault")]
    assert faulted, "the faults were injected"


def test_the_gift_codes_example_applies_and_then_plans_no_changes(tmp_path: Path) -> None:
    example = tmp_path / "gift-codes"
    shutil.copytree(EXAMPLE.parent / "gift-codes", example, ignore=RUN_LEFTOVERS)
    applied = wxrec("apply", str(example), "--api", "emulator", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "deposited 300 codes (300 in the card)" in applied.output
    again = wxrec("plan", str(example), "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output
    secret = (example / "codes" / "gift.txt").read_text(encoding="utf-8").split()[0]
    assert secret not in applied.output + again.output


def test_the_gift_codes_example_after_rm_of_its_ledger_plans_what_apply_does(tmp_path: Path) -> None:
    example = tmp_path / "gift-codes"
    shutil.copytree(EXAMPLE.parent / "gift-codes", example, ignore=RUN_LEFTOVERS)
    assert wxrec("apply", str(example), "--api", "emulator", "--auto-approve").exit_code == 0
    shutil.rmtree(example / ".wxrec" / "state.codes")
    plan = wxrec("plan", str(example), "--api", "emulator")
    assert "the ledger of deposited codes is missing" in plan.output, plan.output
    assert "stock +" not in plan.output and "stock stays at 300" in plan.output
    applied = wxrec("apply", str(example), "--api", "emulator", "--auto-approve")
    assert "deposited 0 codes (300 in the card), 300 others were in it already; stock +0" in applied.output


def test_drift_names_new_codes_as_a_manifest_edit(tmp_path: Path) -> None:
    example = tmp_path / "gift-codes"
    shutil.copytree(EXAMPLE.parent / "gift-codes", example, ignore=RUN_LEFTOVERS)
    assert wxrec("apply", str(example), "--api", "emulator", "--auto-approve").exit_code == 0
    assert wxrec("drift", str(example), "--api", "emulator").exit_code == 0
    with (example / "codes" / "gift.txt").open("a", encoding="utf-8") as codes_file:
        codes_file.write("HCNEWCODE0001\nHCNEWCODE0002\n")
    drift = wxrec("drift", str(example), "--api", "emulator", "--format", "json")
    assert drift.exit_code == 2
    report = json.loads(drift.output)
    assert [i["what"] for i in report["manifest"]] == ["2 codes in the file not deposited yet"]
    assert report["live"] == [] and "HCNEWCODE" not in drift.output


async def test_claims_on_the_old_card_while_the_new_one_waits_for_review_still_refuse_reuse(tmp_path: Path) -> None:
    async for shop in harness_for(tmp_path, review="manual"):
        write_codes(shop.directory, codes(250))
        with pytest.raises(AssertionError):
            await shop.apply()  # the codes wait for the new card's review
        first = shop.card_id("gift-card")
        await shop.control("review", card_id=first, result="approve")
        await shop.apply()
        rebrand(shop.directory / "gift.yaml")
        with pytest.raises(AssertionError):
            await shop.apply()  # replaced; the codes wait for the new card's review, the old card stays live
        assert shop.backend.code_hashes("codes.gift-codes"), "the old card's ledger is kept while it is live"
        await shop.control("claim", card_id=first, count=3)
        await shop.control("review", card_id=shop.card_id("gift-card"), result="approve")
        plan = await shop.plan()
        assert any("3 codes of it are with users already" in r for r in plan.refusals)
        assert await shop.api.deposit_count(shop.card_id("gift-card")) == 0


def test_diff_reads_a_base_whose_codes_file_is_outside_the_manifests_and_skips_links(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    (tmp_path / "shared").mkdir()
    write_codes(shop, [])
    (tmp_path / "shared" / "gift.txt").write_text("\n".join(codes(100)) + "\n", encoding="utf-8")
    (shop / "gift-codes.txt").unlink()
    gift = shop / "gift.yaml"
    gift.write_text(gift.read_text(encoding="utf-8").replace("file: gift-codes.txt", "file: ../shared/gift.txt"))
    (shop / "outside").symlink_to("/etc/passwd")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "base")
    with (tmp_path / "shared" / "gift.txt").open("a", encoding="utf-8") as more:
        more.write("\n".join(codes(5, start=500)) + "\n")
    result = wxrec("diff", "HEAD", str(shop), "--format", "json", env={ALLOW_OUTSIDE: "1"})
    assert result.exit_code == 0, result.output
    change = next(c for c in json.loads(result.output)["changes"] if c["address"] == "codes.gift-codes")
    assert change["after"]["pending"] == 5


# ---- the path policy -----------------------------------------------------------------------------------


def name_codes_file(shop: Path, named: str) -> tuple[Path, int]:
    """Point the codes entry at `named`; the manifest and the line of `file:`."""
    gift = shop / "gift.yaml"
    text = gift.read_text(encoding="utf-8").replace("file: gift-codes.txt", f"file: {named}")
    gift.write_text(text, encoding="utf-8")
    return gift, text.splitlines().index(f"    file: {named}") + 1


@pytest.mark.parametrize("how", ["relative", "absolute", "symlinked file", "symlinked directory"])
def test_a_codes_file_outside_the_manifests_is_refused_unless_allowed(tmp_path: Path, how: str) -> None:
    """`wxrec diff` runs on fork pull requests: a manifest must not make it read (and count, or embed) any file
    of the machine. The outside file holds a bad code, so reading it would add a second problem."""
    shop = tmp_path / "shop"
    shop.mkdir()
    write_codes(shop, codes(3))
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "gift.txt").write_text("\n".join(codes(3)) + "\nHAS SPACE\n", encoding="utf-8")
    (shop / "link.txt").symlink_to(tmp_path / "shared" / "gift.txt")
    (shop / "linked").symlink_to(tmp_path / "shared")
    named = {
        "relative": "../shared/gift.txt",
        "absolute": str(tmp_path / "shared" / "gift.txt"),
        "symlinked file": "link.txt",
        "symlinked directory": "linked/gift.txt",
    }[how]
    gift, line = name_codes_file(shop, named)
    refused = wxrec("validate", shop)
    assert refused.exit_code == 1
    assert refused.output.count(f"{gift}:") == 1, "the file is not read"
    assert f"{gift}:{line}:5: codes.gift-codes.file: {named!r} " in refused.output
    assert f"set {ALLOW_OUTSIDE}=1 to allow" in refused.output
    allowed = wxrec("validate", shop, env={ALLOW_OUTSIDE: "1"})
    assert allowed.exit_code == 1 and ".txt:4:1: code: holds whitespace" in allowed.output, "read when allowed"


@pytest.mark.parametrize("allowed", [{}, {ALLOW_OUTSIDE: "1"}])
def test_a_file_name_holding_a_nul_is_refused_at_its_line(tmp_path: Path, allowed: dict[str, str]) -> None:
    """No file can have that name: os calls raise ValueError ("embedded null byte"), a traceback in validate, plan
    and diff alike."""
    write_codes(tmp_path, codes(3))
    gift, line = name_codes_file(tmp_path, '"gift\\0codes.txt"')
    result = wxrec("validate", tmp_path, env=allowed)
    assert result.exit_code == 1
    assert f"{gift}:{line}:5: codes.gift-codes.file: 'gift\\x00codes.txt' holds a NUL" in result.output, result.output


def test_a_symlink_that_stays_inside_the_manifests_is_followed(tmp_path: Path) -> None:
    write_codes(tmp_path, codes(3))
    (tmp_path / "batches").mkdir()
    (tmp_path / "gift-codes.txt").rename(tmp_path / "batches" / "may.txt")
    (tmp_path / "current.txt").symlink_to(tmp_path / "batches" / "may.txt")
    name_codes_file(tmp_path, "current.txt")
    assert wxrec("validate", tmp_path).exit_code == 0


def test_the_policy_holds_for_the_base_of_a_diff(tmp_path: Path) -> None:
    """The base at a git ref is the fork's own commit: it names ../shared, the head does not."""
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    write_codes(shop, codes(3))
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "gift.txt").write_text("\n".join(codes(3)) + "\n", encoding="utf-8")
    original = (shop / "gift.yaml").read_text(encoding="utf-8")
    _, line = name_codes_file(shop, "../shared/gift.txt")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.email=ci@x", "-c", "user.name=ci", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)
    (shop / "gift.yaml").write_text(original, encoding="utf-8")
    refused = wxrec("diff", "HEAD", shop)
    assert refused.exit_code == 1
    assert f"HEAD:shop/gift.yaml:{line}:5: codes.gift-codes.file: '../shared/gift.txt' leads outside" in refused.output
    assert "wxrec-base-" not in refused.output, "the scratch copy is not named"
    assert wxrec("diff", "HEAD", shop, env={ALLOW_OUTSIDE: "1"}).exit_code == 0
