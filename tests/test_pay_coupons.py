"""pay_coupons: validation, the plan (create, modify, budget, fixed fields, codes, uncertain creates, merchants)
and the applier's request numbers, against a fake WeChat Pay client (the end-to-end tests use the emulator)."""

from __future__ import annotations

import asyncio
import copy
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError, WxrecError
from reconciler.manifest import load_manifest
from reconciler.pay import Budget, BudgetChange, CreatedStock, PayError, UploadResult
from reconciler.plan import Action, AttributeChange, Plan, ResourceChange
from reconciler.planning import Options
from reconciler.resources.base import ApplyContext, PlanContext, SafetyContext
from reconciler.resources.pay_coupons.model import StockRecord, rfc3339, stock_body
from reconciler.resources.pay_coupons.resource import PAY_COUPONS
from reconciler.resources.references import state_lookup
from reconciler.safety import mass_destroy_refusals
from reconciler.state import FileBackend, State
from reconciler.wechat.errors import UncertainOutcome

MCHID = "1900000001"
ADDRESS = "pay_coupons.latte"
STOCK: dict[str, Any] = {
    "stock_name": "拿铁88折券",
    "goods_name": "拿铁",
    "stock_type": "DISCOUNT",
    "coupon_use_rule": {
        "coupon_available_time": {
            "available_begin_time": "2027-01-01T00:00:00",
            "available_end_time": "2027-06-30T23:59:59",
        },
        "discount_coupon": {"discount_percent": 88, "transaction_minimum": 1000},
        "use_method": "OFF_LINE",
    },
    "stock_send_rule": {"max_coupons": 1000, "max_coupons_per_user": 2},
    "coupon_code_mode": "WECHATPAY_MODE",
}


class FakePay:
    """WeChat Pay as the documents describe it, in memory: the budget call's compare-and-swap, request numbers that
    are never accepted twice. `lose` drops the next answer after the change is made."""

    def __init__(self) -> None:
        self.stocks: dict[str, dict[str, Any]] = {}
        self.numbers: set[str] = set()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lose = False
        self.seen_state: list[dict[str, Any]] = []

    def _number(self, number: str) -> None:
        if number in self.numbers:
            raise WxrecError(f"400 PARAM_ERROR: request number {number} was used")
        self.numbers.add(number)

    def _answer(self) -> None:
        if self.lose:
            self.lose = False
            raise UncertainOutcome("/v3/marketing/busifavor/stocks", "the answer was lost", maybe_applied=True)

    async def create_stock(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", dict(body)))
        self._number(body["out_request_no"])
        stock_id = str(1000 + len(self.stocks))
        held = {k: copy.deepcopy(v) for k, v in body.items() if k != "out_request_no"}
        self.stocks[stock_id] = {**held, "stock_id": stock_id, "stock_state": "RUNNING"}
        self._answer()
        return CreatedStock(stock_id, "2026-11-25T10:00:00+08:00")

    async def get_stock(self, stock_id: str) -> dict[str, Any]:
        if stock_id not in self.stocks:
            raise PayError("/v3/marketing/busifavor/stocks/x", 404, "RESOURCE_NOT_EXISTS", "no such stock")
        return copy.deepcopy(self.stocks[stock_id])

    async def modify_stock(self, stock_id: str, body: Mapping[str, Any]) -> None:
        self.calls.append(("modify", dict(body)))
        self._number(body["out_request_no"])
        for key, value in body.items():
            if key != "out_request_no" and isinstance(value, Mapping):
                self.stocks[stock_id].setdefault(key, {}).update(value)
            elif key != "out_request_no":
                self.stocks[stock_id][key] = value

    async def modify_budget(self, stock_id: str, change: BudgetChange) -> Budget:
        self.calls.append(("budget", change.body()))
        self._number(change.request_no)
        rule = self.stocks[stock_id]["stock_send_rule"]
        if rule[change.dimension] != change.current:
            raise WxrecError(f"400 PARAM_ERROR: current_{change.dimension} is not the stock's")
        rule[change.dimension] = change.target
        if rule.get("max_coupons_by_day", 0) > rule["max_coupons"]:
            rule[change.dimension] = change.current
            raise WxrecError("400 PARAM_ERROR: max_coupons_by_day above max_coupons")
        return Budget(rule.get("max_coupons"), rule.get("max_coupons_by_day"))

    async def upload_codes(self, stock_id: str, codes: Sequence[str], upload_request_no: str) -> UploadResult:
        self.calls.append(("upload", {"count": len(codes), "no": upload_request_no}))
        self._number(upload_request_no)
        held = self.stocks[stock_id].setdefault("_codes", set())
        new = tuple(c for c in codes if c not in held)
        held.update(new)
        exist = tuple(c for c in codes if c not in new)
        return UploadResult(stock_id, len(codes), len(new), 0, "", new, exist, (), ())

    def issue(self, stock_id: str, count: int) -> None:
        sent = self.stocks[stock_id].setdefault("send_count_information", {"total_send_num": 0, "today_send_num": 0})
        sent["total_send_num"] += count
        sent["today_send_num"] += count


def state() -> State:
    return State(appid="wx1234567890abcdef", endpoint="emulator", lineage="lineage-a")


async def planned(
    section: Mapping[str, Any],
    current: State,
    pay: FakePay | None,
    replace: frozenset[str] = frozenset(),
    mchid: str = MCHID,
    **extra: Any,
) -> Any:
    live = await PAY_COUPONS.read_pay(pay, current, list((extra.get("imports") or {}).values()))
    context = PlanContext(
        section=section,
        present=True,
        state=current,
        lookup=state_lookup(current),
        changing=frozenset(),
        replace=replace,
        live=live,
        locate=lambda path: None,
        account={"mchid": mchid},
        **extra,
    )
    return await PAY_COUPONS.plan(context)


def applier(current: State, pay: FakePay, tmp_path: Path, seen: list[dict[str, Any]] | None = None) -> Any:
    backend = FileBackend(tmp_path / "state.json")

    async def save() -> None:
        current.serial += 1  # as every backend does (StateBackend.save)
        if seen is not None:
            seen.append(copy.deepcopy(current.intents))

    context = ApplyContext(None, backend, current, save, tmp_path, tmp_path, pay=pay)  # type: ignore[arg-type]
    return PAY_COUPONS.applier(context), backend


async def created(pay: FakePay, tmp_path: Path, stock: Mapping[str, Any] = STOCK) -> State:
    current = state()
    found = await planned({"latte": stock}, current, pay)
    run, _ = applier(current, pay, tmp_path)
    await run.apply(found.changes[0])
    return current


def with_(path: str, value: Any, stock: Mapping[str, Any] = STOCK) -> dict[str, Any]:
    changed = copy.deepcopy(dict(stock))
    *parents, leaf = path.split(".")
    node = changed
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return changed


# --- the canonical stock


def test_a_time_without_zone_is_utc8_and_rfc3339_as_the_api_answers() -> None:
    assert rfc3339("2027-01-01T00:00:00") == "2027-01-01T00:00:00+08:00"
    assert rfc3339("2026-12-31T16:00:00Z") == "2027-01-01T00:00:00+08:00"
    assert rfc3339("2027-01-01 08:00") == "2027-01-01T08:00:00+08:00"


def test_belong_merchant_defaults_to_the_account_merchant_and_codes_are_never_sent() -> None:
    body = stock_body({**STOCK, "codes": {"file": "c.txt"}}, MCHID)
    assert body["belong_merchant"] == MCHID and "codes" not in body
    assert stock_body({**STOCK, "belong_merchant": "1900000002"}, MCHID)["belong_merchant"] == "1900000002"


# --- validation


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pay.yaml").write_text(text, encoding="utf-8")
    return directory


HEAD = "account:\n  appid: wx1234567890abcdef\n  mchid: '1900000001'\npay_coupons:\n  latte:\n"


def manifest_text(stock: Mapping[str, Any], head: str = HEAD) -> str:
    import yaml

    body = yaml.safe_dump(dict(stock), allow_unicode=True, default_flow_style=False)
    return head + "".join(f"    {line}\n" for line in body.splitlines())


def problems(tmp_path: Path, stock: Mapping[str, Any], head: str = HEAD) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifest(write(tmp_path / "m", manifest_text(stock, head)))
    return [str(p) for p in caught.value.problems]


def test_the_example_is_valid(tmp_path: Path) -> None:
    load_manifest(write(tmp_path / "m", manifest_text(STOCK)))


def test_a_stock_takes_the_rule_of_its_type(tmp_path: Path) -> None:
    normal = with_("stock_type", "NORMAL")
    found = problems(tmp_path, normal)
    assert any("pay.yaml:" in p and "a NORMAL stock needs fixed_normal_coupon" in p for p in found), found
    assert any("pay_coupons.latte.coupon_use_rule.discount_coupon" in p for p in found), found


def test_a_window_ends_after_it_begins_and_names_its_line(tmp_path: Path) -> None:
    stock = with_("coupon_use_rule.coupon_available_time.available_end_time", "2026-12-31T23:59:59")
    (found,) = problems(tmp_path, stock)
    assert "available_end_time: is not after available_begin_time" in found and "pay.yaml:" in found


def test_stock_name_is_counted_in_characters(tmp_path: Path) -> None:
    load_manifest(write(tmp_path / "ok", manifest_text(with_("stock_name", "拿" * 21))))
    (found,) = problems(tmp_path, with_("stock_name", "拿" * 22))
    assert "stock_name" in found


def test_codes_go_only_to_a_merchant_upload_stock_and_need_a_merchant(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "c.txt").write_text("A1\n", encoding="utf-8")
    (found,) = problems(tmp_path, {**STOCK, "codes": {"file": "c.txt"}})
    assert "codes are uploaded only to a MERCHANT_UPLOAD stock" in found
    (found,) = problems(tmp_path, STOCK, HEAD.replace("  mchid: '1900000001'\n", ""))
    assert "account.mchid" in found


def test_a_code_outside_wechat_pays_charset_is_named_by_line_never_shown(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "c.txt").write_text("GOOD-1\nBAD*SECRET\nGOOD-1\n", encoding="utf-8")
    stock = {**STOCK, "coupon_code_mode": "MERCHANT_UPLOAD", "codes": {"file": "c.txt"}}
    found = problems(tmp_path, stock)
    assert any("c.txt:2:1: code: is not 1–32 of" in p for p in found), found
    assert any("c.txt:3:1: code: repeats the code on line 1" in p for p in found), found
    assert not any("SECRET" in p for p in found)


# --- the plan


async def test_a_new_stock_is_a_create_whose_request_number_follows_the_lineage() -> None:
    found = await planned({"latte": STOCK}, state(), FakePay())
    (change,) = found.changes
    assert change.action == Action.CREATE and change.after["stock"]["belong_merchant"] == MCHID
    other = State(appid="wx1234567890abcdef", endpoint="emulator", lineage="lineage-b")
    (again,) = (await planned({"latte": STOCK}, state(), FakePay())).changes
    (elsewhere,) = (await planned({"latte": STOCK}, other, FakePay())).changes
    assert change.after["out_request_no"] == again.after["out_request_no"]
    assert change.after["out_request_no"] != elsewhere.after["out_request_no"]


async def test_an_applied_stock_plans_no_changes(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    assert StockRecord.from_state(current.resources[ADDRESS]).mchid == MCHID
    found = await planned({"latte": STOCK}, current, pay)
    assert found.changes == [] and found.refusals == [] and found.warnings == []


async def test_raising_max_coupons_is_an_in_place_budget_change_with_the_cas(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    found = await planned({"latte": with_("stock_send_rule.max_coupons", 3000)}, current, pay)
    (change,) = found.changes
    assert change.action == Action.UPDATE and [(c.path, c.old, c.new) for c in change.changes] == [
        ("stock_send_rule.max_coupons", 1000, 3000)
    ]
    run, _ = applier(current, pay, tmp_path)
    await run.apply(change)
    kind, body = pay.calls[-1]
    assert kind == "budget" and body["current_max_coupons"] == 1000 and body["target_max_coupons"] == 3000
    assert (await planned({"latte": with_("stock_send_rule.max_coupons", 3000)}, current, pay)).changes == []


async def test_a_stale_budget_plan_cannot_overshoot(tmp_path: Path) -> None:
    """The plan read 1000; the merchant platform moved it to 5000 since: the CAS refuses, nothing overshoots."""
    pay = FakePay()
    current = await created(pay, tmp_path)
    (change,) = (await planned({"latte": with_("stock_send_rule.max_coupons", 3000)}, current, pay)).changes
    stock_id = current.resources[ADDRESS]["id"]
    pay.stocks[stock_id]["stock_send_rule"]["max_coupons"] = 5000
    run, _ = applier(current, pay, tmp_path)
    with pytest.raises(WxrecError, match="current_max_coupons"):
        await run.apply(change)
    assert pay.stocks[stock_id]["stock_send_rule"]["max_coupons"] == 5000


async def test_lowering_below_what_was_issued_is_refused_with_the_figures(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    pay.issue(current.resources[ADDRESS]["id"], 250)
    found = await planned({"latte": with_("stock_send_rule.max_coupons", 200)}, current, pay)
    (refusal,) = found.refusals
    assert "max_coupons 200 is below the 250 coupons already issued" in refusal
    assert (await planned({"latte": with_("stock_send_rule.max_coupons", 250)}, current, pay)).refusals == []


async def test_a_modifiable_field_is_an_update_sending_only_what_modify_takes(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    stock = with_("coupon_use_rule.use_method", "SELF_CONSUME", with_("goods_name", "热拿铁"))
    (change,) = (await planned({"latte": stock}, current, pay)).changes
    assert {c.path for c in change.changes} == {"goods_name", "coupon_use_rule.use_method"}
    run, _ = applier(current, pay, tmp_path)
    await run.apply(change)
    kind, body = pay.calls[-1]
    assert kind == "modify" and body["goods_name"] == "热拿铁"
    assert body["coupon_use_rule"] == {"use_method": "SELF_CONSUME"}  # never the fixed amounts or times
    assert (await planned({"latte": stock}, current, pay)).changes == []


async def test_a_fixed_field_is_refused_and_replace_makes_a_new_stock_leaving_the_old(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    old_id, old_generation = current.resources[ADDRESS]["id"], current.resources[ADDRESS]["generation"]
    stock = with_("coupon_use_rule.discount_coupon.discount_percent", 80)
    found = await planned({"latte": stock}, current, pay)
    (refusal,) = found.refusals
    assert "coupon_use_rule.discount_coupon.discount_percent cannot change" in refusal and "-replace" in refusal
    replaced = await planned({"latte": stock}, current, pay, frozenset({ADDRESS}))
    (change,) = replaced.changes
    assert change.action == Action.REPLACE and change.id == old_id and change.destructive
    assert any(old_id in note and "keeps issuing" in note for note in change.notes)
    first_number = pay.calls[0][1]["out_request_no"]
    assert change.after["out_request_no"] != first_number
    run, _ = applier(current, pay, tmp_path)
    await run.apply(change)
    record = current.resources[ADDRESS]
    assert record["id"] != old_id and record["retired_ids"] == [old_id] and record["generation"] > old_generation
    (again,) = (await planned({"latte": stock}, current, pay, frozenset({ADDRESS}))).changes
    await run.apply(again)  # a second replace keeps both stocks it left behind
    assert current.resources[ADDRESS]["retired_ids"] == [old_id, record["id"]]


def test_replacing_stocks_counts_toward_the_destroy_threshold() -> None:
    changes = [ResourceChange(f"pay_coupons.s{n}", Action.REPLACE, id=str(n)) for n in range(4)]
    refusals = mass_destroy_refusals(Plan("wx1", "emulator", changes=changes), 4, Options())
    assert any("deletes or replaces 4 of 4" in refusal for refusal in refusals)


async def _a_stock_holding_three_codes(tmp_path: Path) -> tuple[dict[str, Any], FakePay, State, Any, dict[str, Any]]:
    """A stock created with a file of three codes, all uploaded: (its spec, WeChat Pay, state, the applier, the
    planning inputs)."""
    codes = tmp_path / "codes.txt"
    codes.write_text("".join(f"CODE-{n:05d}\n" for n in range(3)), encoding="utf-8")
    stock = {**STOCK, "coupon_code_mode": "MERCHANT_UPLOAD", "codes": {"file": "codes.txt"}}
    pay, current = FakePay(), state()
    run, backend = applier(current, pay, tmp_path)
    inputs = {"named": {("pay_coupons", "latte", "codes", "file"): codes}, "manifest_root": tmp_path}
    inputs |= {"ledger": backend.code_hashes}
    (change,) = (await planned({"latte": stock}, current, pay, **inputs)).changes
    await run.apply(change)
    return stock, pay, current, run, inputs


async def test_a_replaced_stock_gets_every_code_uploaded_again(tmp_path: Path) -> None:
    """The ledger counted the old stock's codes: the new stock holds none, so all of them go to it."""
    stock, pay, current, run, inputs = await _a_stock_holding_three_codes(tmp_path)
    (replace,) = (await planned({"latte": stock}, current, pay, frozenset({ADDRESS}), **inputs)).changes
    assert replace.action == Action.REPLACE and replace.after["codes"]["pending"] == 3
    await run.apply(replace)
    new_id = current.resources[ADDRESS]["id"]
    assert pay.stocks[new_id]["_codes"] == {"CODE-00000", "CODE-00001", "CODE-00002"}
    assert (await planned({"latte": stock}, current, pay, **inputs)).changes == []


async def test_the_stock_a_lost_replace_made_gets_every_code_once_imported(tmp_path: Path) -> None:
    """The ledger counted the replaced stock's codes; the stock an import block adopts holds none of them."""
    stock, pay, current, run, inputs = await _a_stock_holding_three_codes(tmp_path)
    (replace,) = (await planned({"latte": stock}, current, pay, frozenset({ADDRESS}), **inputs)).changes
    pay.lose = True
    with pytest.raises(WxrecError):
        await run.apply(replace)
    new_id = next(i for i in pay.stocks if i != current.resources[ADDRESS]["id"])
    adopt, upload = (await planned({"latte": stock}, current, pay, imports={ADDRESS: new_id}, **inputs)).changes
    assert (adopt.action, upload.action, upload.after["codes"]["pending"]) == (Action.IMPORT, Action.UPDATE, 3)
    await run.apply(adopt)
    await run.apply(upload)
    assert pay.stocks[new_id]["_codes"] == {"CODE-00000", "CODE-00001", "CODE-00002"}


async def test_a_lost_create_answer_is_uncertain_never_sent_again(tmp_path: Path) -> None:
    pay, current, seen = FakePay(), state(), []
    (change,) = (await planned({"latte": STOCK}, current, pay)).changes
    run, _ = applier(current, pay, tmp_path, seen)
    pay.lose = True
    with pytest.raises(WxrecError, match="never sends that create again") as caught:
        await run.apply(change)
    number = change.after["out_request_no"]
    assert number in str(caught.value) and f"wxrec import {ADDRESS}" in str(caught.value)
    assert seen[0][ADDRESS]["out_request_no"] == number  # written before the call
    found = await planned({"latte": STOCK}, current, pay)
    assert found.changes == [] and number in found.refusals[0] and "wxrec import" in found.refusals[0]
    assert [kind for kind, _ in pay.calls] == ["create"]


async def test_a_create_wechat_pay_refused_leaves_no_intent(tmp_path: Path) -> None:
    pay, current = FakePay(), state()
    (change,) = (await planned({"latte": STOCK}, current, pay)).changes
    pay.numbers.add(change.after["out_request_no"])
    run, _ = applier(current, pay, tmp_path)
    with pytest.raises(WxrecError, match="PARAM_ERROR"):
        await run.apply(change)
    assert current.intents == {} and ADDRESS not in current.resources


async def test_a_state_of_another_merchant_is_refused(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    found = await planned({"latte": STOCK}, current, pay, mchid="1900000002")
    assert found.changes == [] and "merchant 1900000001" in found.refusals[0]


async def test_a_paused_stock_is_said(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    pay.stocks[current.resources[ADDRESS]["id"]]["stock_state"] = "PAUSED"
    found = await planned({"latte": STOCK}, current, pay)
    (item,) = found.attention
    assert found.changes == [] and item.status == "PAUSED" and item.id == current.resources[ADDRESS]["id"]
    pay.stocks[current.resources[ADDRESS]["id"]]["stock_state"] = "UNAUDIT"
    found = await planned({"latte": STOCK}, current, pay)
    assert found.attention == [] and "is in review (UNAUDIT)" in found.warnings[0]


async def test_a_stock_gone_from_the_manifests_is_forgotten_not_deleted(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    (change,) = (await planned({}, current, pay)).changes
    assert change.action == Action.FORGET and "keeps issuing" in change.notes[0]


async def test_codes_are_counted_against_the_ledger_uploaded_200_a_call_never_kept(tmp_path: Path) -> None:
    codes = tmp_path / "codes.txt"
    codes.write_text("".join(f"CODE-{n:05d}\n" for n in range(450)), encoding="utf-8")
    stock = {**STOCK, "coupon_code_mode": "MERCHANT_UPLOAD", "codes": {"file": "codes.txt"}}
    pay, current = FakePay(), state()
    files = {"named": {("pay_coupons", "latte", "codes", "file"): codes}, "manifest_root": tmp_path}
    (change,) = (await planned({"latte": stock}, current, pay, **files)).changes
    assert change.after["codes"]["pending"] == 450 and "CODE-" not in str(change.to_dict())
    run, backend = applier(current, pay, tmp_path)
    await run.apply(change)
    assert [c[1]["count"] for c in pay.calls if c[0] == "upload"] == [200, 200, 50]
    assert len(backend.code_hashes(ADDRESS)) == 450 and "CODE-" not in str(current.to_dict())
    with codes.open("a", encoding="utf-8") as more:
        more.write("CODE-99999\n")
    ledger = {"ledger": backend.code_hashes}
    (again,) = (await planned({"latte": stock}, current, pay, **files, **ledger)).changes
    assert again.action == Action.UPDATE and again.changes == [] and again.after["codes"]["pending"] == 1


def test_a_change_document_round_trips() -> None:
    change = ResourceChange(ADDRESS, Action.CREATE, after={"stock": STOCK, "codes": None, "out_request_no": "1"})
    assert ResourceChange.from_dict(change.to_dict()).after == change.after


async def test_replace_after_a_lost_create_sends_it_again_with_its_own_number(tmp_path: Path) -> None:
    """The operator found no stock in the merchant platform: -replace resends the same out_request_no, so WeChat
    Pay (one stock per number) can never make a second stock of it."""
    pay, current = FakePay(), state()
    (change,) = (await planned({"latte": STOCK}, current, pay)).changes
    run, _ = applier(current, pay, tmp_path)
    pay.lose = True
    with pytest.raises(WxrecError):
        await run.apply(change)
    (again,) = (await planned({"latte": STOCK}, current, pay, frozenset({ADDRESS}))).changes
    assert again.action == Action.CREATE and again.after["out_request_no"] == change.after["out_request_no"]
    with pytest.raises(WxrecError, match="was used"):  # it was made: WeChat Pay refuses the number again
        await run.apply(again)
    assert len(pay.stocks) == 1 and current.intents[ADDRESS]["out_request_no"] == change.after["out_request_no"]


def test_the_days_maximum_is_at_most_the_stocks(tmp_path: Path) -> None:
    stock = with_("stock_send_rule.max_coupons_by_day", 1001)
    (found,) = problems(tmp_path, stock)
    assert "stock_send_rule.max_coupons_by_day: is more than max_coupons" in found


async def test_a_raised_maximum_goes_before_the_days_and_a_lowered_one_after(tmp_path: Path) -> None:
    pay = FakePay()
    stock = {**STOCK, "stock_send_rule": {"max_coupons_by_day": 100, "max_coupons": 1000, "max_coupons_per_user": 2}}
    current = await created(pay, tmp_path, stock)
    raised = with_("stock_send_rule.max_coupons", 3000, with_("stock_send_rule.max_coupons_by_day", 2000, stock))
    (change,) = (await planned({"latte": raised}, current, pay)).changes
    run, _ = applier(current, pay, tmp_path)
    await run.apply(change)
    order = [next(k for k in body if k.startswith("target_")) for kind, body in pay.calls if kind == "budget"]
    assert order == ["target_max_coupons", "target_max_coupons_by_day"]


async def test_an_empty_object_sets_nothing(tmp_path: Path) -> None:
    """An export of a stock whose display_pattern_info held only WeChat Pay's merchant_name once wrote {}."""
    pay = FakePay()
    current = await created(pay, tmp_path)
    pay.stocks[current.resources[ADDRESS]["id"]]["display_pattern_info"] = {"merchant_name": "山丘咖啡"}
    found = await planned({"latte": {**STOCK, "display_pattern_info": {}}}, current, pay)
    assert found.changes == [] and found.refusals == []


async def test_an_import_block_adopts_a_stock_and_the_plan_diffs_against_it(tmp_path: Path) -> None:
    pay = FakePay()
    made = await created(pay, tmp_path)
    stock_id = made.resources[ADDRESS]["id"]
    current = state()  # state lost: the stock is live, nothing owns it
    found = await planned({"latte": with_("goods_name", "热拿铁")}, current, pay, imports={ADDRESS: stock_id})
    adopt, update = found.changes
    assert (adopt.action, adopt.id) == (Action.IMPORT, stock_id) and update.action == Action.UPDATE
    assert [c.path for c in update.changes] == ["goods_name"]
    unknown = await planned({"latte": STOCK}, current, pay, imports={ADDRESS: "1000009999"})
    assert unknown.changes == [] and "no stock 1000009999" in unknown.refusals[0]
    run, _ = applier(current, pay, tmp_path)
    await run.apply(adopt)
    assert current.resources[ADDRESS]["id"] == stock_id


async def test_an_import_block_is_refused_while_the_address_manages_another_stock(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    held = current.resources[ADDRESS]["id"]
    other = (await pay.create_stock({**STOCK, "out_request_no": "made-elsewhere"})).stock_id
    found = await planned({"latte": STOCK}, current, pay, imports={ADDRESS: other})
    (refusal,) = found.refusals
    assert f"{ADDRESS} already manages {held}; `wxrec state rm" in refusal and found.changes == []


async def test_importing_a_lost_replace_keeps_the_stock_it_replaced(tmp_path: Path) -> None:
    pay = FakePay()
    current = await created(pay, tmp_path)
    old_id = current.resources[ADDRESS]["id"]
    stock = with_("coupon_use_rule.discount_coupon.discount_percent", 80)
    (change,) = (await planned({"latte": stock}, current, pay, frozenset({ADDRESS}))).changes
    run, _ = applier(current, pay, tmp_path)
    pay.lose = True
    with pytest.raises(WxrecError):
        await run.apply(change)
    generation = current.intents[ADDRESS]["generation"]  # the lost create's, which no call has spent yet
    new_id = next(i for i in pay.stocks if i != old_id)
    (adopt, *_) = (await planned({"latte": stock}, current, pay, imports={ADDRESS: new_id})).changes
    await run.apply(adopt)
    record = current.resources[ADDRESS]
    assert (record["id"], record["retired_ids"], record["generation"]) == (new_id, [old_id], generation)


async def test_a_new_stock_says_how_to_adopt_one_that_already_exists() -> None:
    pay = FakePay()
    found = await planned({"latte": STOCK}, state(), pay, invocation="shop --env prod")
    (change,) = found.changes
    assert any(f"`wxrec import shop --env prod {ADDRESS} STOCK_ID`" in note for note in change.notes)
    assert found.warnings == []  # a state that manages nothing yet is a first run, not a lost state


async def test_a_state_managing_others_but_no_stock_is_warned_once() -> None:
    current = state()
    current.resources["tags.vip"] = {"id": "100"}
    found = await planned({"latte": STOCK, "mocha": STOCK}, current, FakePay())
    (warning,) = found.warnings
    assert "no pay_coupons stock" in warning and "wxrec import . pay_coupons.KEY STOCK_ID" in warning


async def test_a_saved_change_of_a_fixed_field_or_of_another_merchant_is_guarded(tmp_path: Path) -> None:
    """A change of a stock its address does not hold is left to the saved plan's ownership check of every kind
    (tests/test_saved_plan.py): the guard reads only the stocks state holds for their address."""
    pay = FakePay()
    current = await created(pay, tmp_path)
    stock_id = current.resources[ADDRESS]["id"]
    context = SafetyContext(current, {"account": {"mchid": MCHID}, "pay_coupons": {"latte": STOCK}}, pay)
    fixed = AttributeChange("stock_type", "DISCOUNT", "NORMAL")
    changes = [
        ResourceChange(ADDRESS, Action.UPDATE, id=stock_id, changes=[fixed]),
        ResourceChange("pay_coupons.mocha", Action.UPDATE, id=stock_id),
    ]
    (frozen,) = await PAY_COUPONS.guard(changes, context)
    assert frozen.startswith(f"{ADDRESS} ({stock_id}): stock_type cannot change once a stock is created")
    elsewhere = SafetyContext(current, {"account": {"mchid": "1900000002"}}, pay)
    (merchant,) = await PAY_COUPONS.guard([ResourceChange(ADDRESS, Action.UPDATE, id=stock_id)], elsewhere)
    assert f"of merchant {MCHID}, and the manifests are for merchant 1900000002" in merchant
    assert pay.calls == [c for c in pay.calls if c[0] == "create"], "a guard reads, never changes"


# --- request numbers over a stock's lives

LIVES = ("modify", "budget", "remove", "declare", "replace", "state rm and import")


async def lived(steps: Sequence[str], directory: Path) -> FakePay:
    """Plans and applies each step of a stock's lives against a WeChat Pay that takes a number once."""
    pay, current, stock, declared = FakePay(), state(), copy.deepcopy(STOCK), True
    run, _ = applier(current, pay, directory)
    for step in ("declare", *steps):
        replace, imports = frozenset[str](), {}
        if step == "modify":
            stock["goods_name"] += "!"
        elif step == "budget":
            stock["stock_send_rule"]["max_coupons"] += 1
        elif step == "replace" and ADDRESS in current.resources:
            stock["coupon_use_rule"]["discount_coupon"]["discount_percent"] -= 1
            replace = frozenset({ADDRESS})
        elif step == "state rm and import" and ADDRESS in current.resources:
            imports = {ADDRESS: current.resources.pop(ADDRESS)["id"]}
            current.serial += 1  # `wxrec state rm` writes state
        declared = step != "remove" and (declared or step == "declare")
        found = await planned({"latte": stock} if declared else {}, current, pay, replace, imports=imports)
        assert found.refusals == []
        for change in found.changes:
            await run.apply(change)
    return pay


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LIVES), max_size=10))
def test_no_request_number_is_sent_twice_whatever_a_stock_lives_through(steps: list[str]) -> None:
    """Forgotten and declared again, replaced, imported back after `state rm`: each life's create, modify and
    budget numbers are new (FakePay refuses a number it has seen, as the emulator does)."""
    with tempfile.TemporaryDirectory() as directory:
        pay = asyncio.run(lived(steps, Path(directory)))
    sent = [body.get("out_request_no") or body.get("modify_budget_request_no") for _, body in pay.calls]
    assert len(sent) == len(set(sent)) == len(pay.numbers)
