"""pay_coupons end to end: the `wxrec` command against the embedded emulator's WeChat Pay (signed both ways)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import RUN_LEFTOVERS, apply_ok, served_emulator, wxrec
from tests.test_hints import printed
from tests.test_saved_plan import forge, refused

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pay-coupons"
CREATE = "/v3/marketing/busifavor/stocks"


@pytest.fixture
def coupons(tmp_path: Path) -> Path:
    directory = tmp_path / "pay-coupons"
    shutil.copytree(EXAMPLE, directory, ignore=RUN_LEFTOVERS)
    return directory


def edit(directory: Path, old: str, new: str) -> None:
    manifest = directory / "pay-coupons.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert old in text
    manifest.write_text(text.replace(old, new, 1), encoding="utf-8")


def plan(directory: Path, *extra: str) -> Any:
    result = wxrec("plan", directory, "--api", "emulator", *extra)
    return result


def held_stocks(directory: Path) -> dict[str, Any]:
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    stocks: dict[str, Any] = data["pay"]["1230000109"]["stocks"]
    return stocks


def state(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    return document


def test_the_example_applies_and_then_plans_no_changes_with_no_code_anywhere(coupons: Path) -> None:
    applied = apply_ok(coupons)
    assert "uploaded 300 codes" in applied.output
    assert "No changes." in plan(coupons).output
    codes = (coupons / "codes" / "spring.txt").read_text(encoding="utf-8").split()
    kept = (coupons / ".wxrec" / "state.json").read_text(encoding="utf-8")
    document = plan(coupons, "--format", "json").output
    assert not any(code in kept or code in document or code in applied.output for code in codes)
    assert {r["mchid"] for r in state(coupons)["resources"].values()} == {"1230000109"}


def test_raising_max_coupons_is_an_in_place_budget_change(coupons: Path) -> None:
    apply_ok(coupons)
    edit(coupons, "max_coupons: 1000", "max_coupons: 3000")
    planned = plan(coupons)
    assert "~ pay_coupons.latte-88 (" in planned.output and "will be updated in place" in planned.output
    assert "stock_send_rule.max_coupons: 1000 → 3000" in planned.output, planned.output
    assert "the budget changes" in planned.output
    apply_ok(coupons)
    (latte,) = [s for s in held_stocks(coupons).values() if s["document"]["stock_name"] == "拿铁88折券"]
    assert latte["document"]["stock_send_rule"]["max_coupons"] == 3000
    assert "No changes." in plan(coupons).output


def test_a_fixed_field_is_refused_naming_the_field(coupons: Path) -> None:
    apply_ok(coupons)
    edit(coupons, "discount_percent: 88", "discount_percent: 80")
    refused = plan(coupons)
    assert refused.exit_code == 1
    assert "coupon_use_rule.discount_coupon.discount_percent cannot change once a stock is created" in refused.output
    chinese = plan(coupons, "--format", "markdown", "--lang", "zh_CN").output
    assert "批次创建后 coupon_use_rule.discount_coupon.discount_percent 不可修改" in chinese, chinese


def test_a_lost_create_answer_is_adopted_with_import_never_sent_again(coupons: Path) -> None:
    faults = {"WXREC_EMULATOR_FAULTS": f"drop=1,paths={CREATE}"}
    failed = wxrec("apply", coupons, "--api", "emulator", "--auto-approve", env=faults)
    assert failed.exit_code == 1 and "never sends that create again" in failed.output, failed.output
    wxrec("emulator", "faults", "none", "--data", coupons / ".wxrec" / "emulator.json")
    made = held_stocks(coupons)
    assert len(made) == 2  # both were made; neither answer arrived
    refused = plan(coupons)
    assert refused.exit_code == 1 and "wxrec import pay_coupons.latte-88 STOCK_ID" in refused.output
    numbers = [i["out_request_no"] for i in state(coupons)["intents"].values()]
    assert all(number in refused.output for number in numbers)
    by_name = {s["document"]["stock_name"]: stock_id for stock_id, s in made.items()}
    for key, name in (("latte-88", "拿铁88折券"), ("spring-5-off", "春日满30减5元券")):
        adopted = wxrec("import", coupons, f"pay_coupons.{key}", by_name[name], "--api", "emulator")
        assert adopted.exit_code == 0, adopted.output
    apply_ok(coupons)  # the codes of the adopted upload stock
    assert "No changes." in plan(coupons).output
    assert len(held_stocks(coupons)) == 2


def test_import_refuses_a_stock_another_address_holds(coupons: Path) -> None:
    apply_ok(coupons)
    stock_id = state(coupons)["resources"]["pay_coupons.latte-88"]["id"]
    refused = wxrec("import", coupons, "pay_coupons.spring-5-off", stock_id, "--api", "emulator")
    assert refused.exit_code == 1 and f"{stock_id} is already managed as pay_coupons.latte-88" in refused.output


def test_import_refuses_while_the_address_manages_another_stock(coupons: Path) -> None:
    apply_ok(coupons)
    records = state(coupons)["resources"]
    latte, spring = records["pay_coupons.latte-88"]["id"], records["pay_coupons.spring-5-off"]["id"]
    assert wxrec("state", "rm", coupons, "pay_coupons.spring-5-off").exit_code == 0
    refused = wxrec("import", coupons, "pay_coupons.latte-88", spring, "--api", "emulator")
    assert refused.exit_code == 1, refused.output
    assert f"pay_coupons.latte-88 already manages {latte}; `wxrec state rm" in refused.output
    assert state(coupons)["resources"]["pay_coupons.latte-88"]["id"] == latte


@pytest.mark.parametrize(
    ("lang", "rules"),
    [("en", ["¥5 off over ¥30", "12 percent off over ¥10 (8.8折)"]), ("zh_CN", ["满30减5元", "满10元享8.8折"])],
)
def test_the_html_report_draws_each_stock_as_its_coupon(coupons: Path, lang: str, rules: list[str]) -> None:
    """The face the card pack shows: the rule in large type, the stock and goods names, the validity."""
    page = plan(coupons, "--format", "html", "--lang", lang).output
    for rule in rules:
        assert f'class="title">{rule}</div>' in page, page
    assert "春日满30减5元券 · 全场饮品" in page and "2027-01-01 – 2027-12-31" in page


def leaves(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, item in value.items():
        found |= leaves(item, f"{prefix}{key}.") if isinstance(item, dict) else {f"{prefix}{key}": item}
    return found


def test_a_new_stock_lists_every_field_it_is_created_with(coupons: Path) -> None:
    """As a new card lists its fields: the names, amounts, budget and dates a reviewer approves."""
    document = json.loads(plan(coupons, "--format", "json").output)
    created = {c["address"]: leaves(c["after"]["stock"]) for c in document["changes"] if c["action"] == "create"}
    assert created["pay_coupons.spring-5-off"]["stock_send_rule.max_coupons"] == 300, "the budget is among them"
    text, markdown = (plan(coupons, "--format", output).output for output in ("text", "markdown"))
    for address, fields in created.items():
        listed = text[text.index(f"+ {address} will be created") :].split("\n\n")[0]
        shown = markdown[markdown.index(f"<b>{address}</b>") :].split("</details>")[0]
        for path, value in fields.items():
            assert f"    {path}: {json.dumps(value, ensure_ascii=False)}" in listed
            assert f"| `{path}` | | {json.dumps(value, ensure_ascii=False)} | |" in shown


def merchant_platform(directory: Path, name: str, edit: Any) -> None:
    """What the merchant does in the merchant platform (no API does it): `edit` changes the emulator's stock."""
    path = directory / ".wxrec" / "emulator.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    (stock,) = [s for s in data["pay"]["1230000109"]["stocks"].values() if s["document"]["stock_name"] == name]
    edit(stock)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_drift_tells_a_budget_moved_in_the_merchant_platform_and_a_paused_stock_from_issuing(coupons: Path) -> None:
    apply_ok(coupons)
    merchant_platform(coupons, "拿铁88折券", lambda s: s.update(total_send=400, today_send=150))
    issued = json.loads(wxrec("drift", coupons, "--api", "emulator", "--format", "json").output)
    assert issued["in_sync"], issued  # issuing moves the issued counts, never the budget
    moved = {"state": "PAUSED"}
    merchant_platform(
        coupons, "拿铁88折券", lambda s: (s.update(moved), s["document"]["stock_send_rule"].update(max_coupons=1500))
    )
    found = json.loads(wxrec("drift", coupons, "--api", "emulator", "--format", "json").output)
    (budget,) = found["live"]
    assert budget["address"] == "pay_coupons.latte-88" and budget["path"] == "stock_send_rule.max_coupons"
    assert (budget["live"], budget["wanted"]) == (1500, 1000) and "by hand" in budget["what"]
    (paused,) = found["attention"]
    assert paused["what"] == "paused or stopped in the merchant platform (PAUSED)", paused
    text = plan(coupons).output
    assert "pay_coupons.latte-88" in text and "paused or stopped in the merchant platform (PAUSED)" in text


def test_export_writes_the_stocks_named_and_those_state_knows_and_plans_no_changes(coupons: Path) -> None:
    apply_ok(coupons)
    target = coupons.parent / "exported"
    (target / ".wxrec").mkdir(parents=True)
    shutil.copy(coupons / ".wxrec" / "emulator.json", target / ".wxrec" / "emulator.json")  # the same merchant
    ids = {a: r["id"] for a, r in state(coupons)["resources"].items()}
    latte = ids["pay_coupons.latte-88"]
    args = ("--api", "emulator", "--mchid", "1230000109")
    exported = wxrec("export", target, *args, "--stock", latte, "--stock", "1000009999999999")
    assert exported.exit_code == 0, exported.output
    assert "1 WeChat Pay stock" in exported.output and "no stock 1000009999999999" in exported.output
    stocks = yaml.safe_load((target / "pay-coupons.yaml").read_text(encoding="utf-8"))["pay_coupons"]
    (spec,) = stocks.values()
    assert spec["stock_name"] == "拿铁88折券" and "stock_state" not in spec and "send_count_information" not in spec
    planned = wxrec("plan", target, "--api", "emulator", "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output
    again = wxrec("export", target, *args, "--force")  # the stock state knows, without naming it
    assert again.exit_code == 0 and "1 WeChat Pay stock" in again.output, again.output
    assert yaml.safe_load((target / "pay-coupons.yaml").read_text(encoding="utf-8"))["pay_coupons"] == stocks


def test_an_import_block_settles_a_lost_create_reviewably(coupons: Path) -> None:
    faults = {"WXREC_EMULATOR_FAULTS": f"drop=1,paths={CREATE}"}
    assert wxrec("apply", coupons, "--api", "emulator", "--auto-approve", env=faults).exit_code == 1
    wxrec("emulator", "faults", "none", "--data", coupons / ".wxrec" / "emulator.json")
    by_name = {s["document"]["stock_name"]: stock_id for stock_id, s in held_stocks(coupons).items()}
    blocks = [
        {"to": "pay_coupons.latte-88", "id": by_name["拿铁88折券"]},
        {"to": "pay_coupons.spring-5-off", "id": by_name["春日满30减5元券"]},
    ]
    (coupons / "imports.yaml").write_text(yaml.safe_dump({"import": blocks}), encoding="utf-8")
    planned = plan(coupons)
    assert planned.exit_code == 0, planned.output
    assert "pay_coupons.latte-88" in planned.output and "an import block adopts this stock" in planned.output
    applied = apply_ok(coupons)
    assert "imported stock" in applied.output and "uploaded 300 codes" in applied.output, applied.output
    assert "No changes." in plan(coupons).output and len(held_stocks(coupons)) == 2 and not state(coupons)["intents"]


def test_diff_classifies_stock_changes_offline_counting_codes_against_the_base(coupons: Path) -> None:
    base = coupons.parent / "base"
    shutil.copytree(coupons, base)
    assert "No changes." in wxrec("diff", base, coupons).output
    edit(coupons, "max_coupons: 1000", "max_coupons: 3000")
    with (coupons / "codes" / "spring.txt").open("a", encoding="utf-8") as codes:
        codes.write("SPRING-NEW-1\n")
    shown = wxrec("diff", base, coupons).output
    assert "stock_send_rule.max_coupons: 1000 → 3000" in shown, shown
    assert "1 code to upload (of 301 in codes/spring.txt)" in shown, shown


def test_a_merchant_id_without_stocks_asks_for_no_wechat_pay_credentials(tmp_path: Path) -> None:
    """Only manifests with stocks connect to WeChat Pay; here the card API's refused connection is the error."""
    manifests = write_manifest(tmp_path, "account:\n  appid: wx1234567890abcdef\n  mchid: '1230000109'\n")
    planned = wxrec("plan", manifests, "--api", "http://127.0.0.1:9", env={"WXREC_APPSECRET": "secret"})
    assert planned.exit_code == 1 and "WeChat Pay" not in planned.output, planned.output


def write_manifest(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "account.yaml").write_text(text, encoding="utf-8")
    return directory


def test_replace_is_destructive_keeps_the_old_stock_in_state_and_uploads_the_codes_again(coupons: Path) -> None:
    apply_ok(coupons)
    old = state(coupons)["resources"]["pay_coupons.spring-5-off"]
    old_id = old["id"]
    edit(coupons, "discount_amount: 500", "discount_amount: 600")
    replace = ("-replace", "pay_coupons.spring-5-off")
    planned = plan(coupons, *replace, "--format", "json")
    (change,) = json.loads(planned.output)["changes"]
    assert change["action"] == "replace" and change["id"] == old_id
    shown = plan(coupons, *replace).output
    assert "-/+ pay_coupons.spring-5-off" in shown and "the old one keeps issuing" in shown and "deleted" not in shown
    chinese = plan(coupons, *replace, "--format", "markdown", "--lang", "zh_CN").output
    assert "旧批次继续发券" in chinese
    refused = wxrec("apply", coupons, "--api", "emulator", "--auto-approve", *replace)
    assert refused.exit_code == 1 and "--allow-destroy" in refused.output, refused.output
    assert len(held_stocks(coupons)) == 2
    apply_ok(coupons, *replace, "--allow-destroy")
    record = state(coupons)["resources"]["pay_coupons.spring-5-off"]
    assert record["retired_ids"] == [old_id] and record["generation"] > old["generation"]
    assert len(held_stocks(coupons)[record["id"]]["codes"]) == 300
    assert "No changes." in plan(coupons).output


def test_a_lost_state_is_warned_and_each_new_stock_names_its_import_command(coupons: Path) -> None:
    edit(coupons, "pay_coupons:", "tags:\n  member:\n    name: 山丘会员\n\npay_coupons:")
    apply_ok(coupons)
    for key in ("latte-88", "spring-5-off"):  # state lost the stocks but still manages the tag
        assert wxrec("state", "rm", coupons, f"pay_coupons.{key}").exit_code == 0
    planned = plan(coupons, "--format", "json")
    (warning,) = [w for w in json.loads(planned.output)["warnings"] if "no pay_coupons stock" in w]
    assert f"wxrec import {coupons} --api emulator pay_coupons.KEY STOCK_ID" in warning
    notes = [n for c in json.loads(planned.output)["changes"] for n in c["notes"]]
    assert f"`wxrec import {coupons} --api emulator pay_coupons.latte-88 STOCK_ID`" in " ".join(notes)


@pytest.mark.parametrize(("mchid", "demo_keys"), [("1230000109", True), ("1900000001", False)])
def test_the_demo_merchant_keys_stand_in_at_another_address_for_the_demo_merchant_only(
    coupons: Path, mchid: str, demo_keys: bool
) -> None:
    """Like the demo secret for the demo account: a served emulator's demo merchant needs no WXREC_PAY_*, but
    any other merchant at a --pay-api address (a proxy of WeChat Pay, say) is never signed for with them."""
    edit(coupons, 'mchid: "1230000109"', f'mchid: "{mchid}"')
    nowhere = "http://127.0.0.1:9"
    planned = wxrec("plan", coupons, "--api", nowhere, "--pay-api", nowhere, env={"WXREC_APPSECRET": "secret"})
    assert planned.exit_code == 1
    refused = f"no WeChat Pay credentials for merchant {mchid}"
    assert (refused not in planned.output) == demo_keys, planned.output


def test_a_lost_state_file_is_refused_by_the_codes_ledger_left_beside_it_until_allowed(
    coupons: Path, tmp_path: Path
) -> None:
    apply_ok(coupons)
    (coupons / ".wxrec" / "state.json").unlink()  # the codes ledger beside it survives
    planned = plan(coupons, "--format", "json")
    assert planned.exit_code == 1, planned.output
    (refusal,) = json.loads(planned.stdout)["refusals"]
    assert "pay_coupons.spring-5-off" in refusal and "300 codes" in refusal, refusal
    assert f"wxrec import {coupons} --api emulator pay_coupons.spring-5-off STOCK_ID" in refusal
    assert "--allow-duplicate" in refusal
    assert "latte-88" not in refusal  # its stock took no codes: nothing beside state tells it
    refused = wxrec("apply", coupons, "--api", "emulator", "--auto-approve")
    assert refused.exit_code == 1 and len(held_stocks(coupons)) == 2, refused.output
    saved = tmp_path / "plan.json"
    assert plan(coupons, "-out", saved).exit_code == 1 and not saved.exists()
    # Allowed (and saved: the plan is bound to the state and ledger it was checked against), the second stock
    # WeChat Pay makes holds none of the codes: every one is uploaded again.
    allowed = plan(coupons, "--allow-duplicate", "-out", saved)
    assert allowed.exit_code == 0, allowed.output
    assert "300 codes to upload (of 300 in codes/spring.txt)" in allowed.output
    applied = wxrec("apply", saved, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    record = state(coupons)["resources"]["pay_coupons.spring-5-off"]
    assert len(held_stocks(coupons)[record["id"]]["codes"]) == 300


def test_what_a_kind_out_of_target_refuses_does_not_block_the_targeted_rest(coupons: Path) -> None:
    apply_ok(coupons)
    (coupons / ".wxrec" / "state.json").unlink()  # the stocks' ledger now refuses their creates
    (coupons / "tags.yaml").write_text("tags:\n  vip:\n    name: 高级会员\n", encoding="utf-8")
    assert plan(coupons).exit_code == 1
    targeted = plan(coupons, "--target", "tags.vip", "--format", "json")
    assert targeted.exit_code == 0, targeted.output
    document = json.loads(targeted.stdout)
    assert document["refusals"] == [] and [c["address"] for c in document["changes"]] == ["tags.vip"]
    still = plan(coupons, "--target", "pay_coupons.latte-88", "--format", "json")
    assert still.exit_code == 1 and json.loads(still.stdout)["refusals"], "a targeted stock keeps its kind's refusals"


def test_the_stock_a_lost_state_file_left_is_adopted_as_the_refusal_says(coupons: Path) -> None:
    apply_ok(coupons)
    spring = state(coupons)["resources"]["pay_coupons.spring-5-off"]["id"]
    (coupons / ".wxrec" / "state.json").unlink()
    adopted = wxrec("import", coupons, "pay_coupons.spring-5-off", spring, "--api", "emulator")
    assert adopted.exit_code == 0, adopted.output
    planned = plan(coupons)
    assert planned.exit_code == 0, planned.output
    # The ledger knew no stock: every code is sent again, and WeChat Pay answers those it holds as such.
    assert "300 codes to upload (of 300 in codes/spring.txt)" in planned.output, planned.output
    assert "+ pay_coupons.latte-88" in planned.output  # without codes, a lost stock is not told (decisions.md)
    applied = apply_ok(coupons)
    assert "uploaded 0 codes, 300 already held" in applied.output, applied.output
    assert len(held_stocks(coupons)[spring]["codes"]) == 300
    assert "No changes." in plan(coupons).output


def test_a_stock_an_older_wxrec_forgot_with_its_ledger_kept_is_let_go_with_state_rm(coupons: Path) -> None:
    """Before session 5, removing a stock from the manifests forgot its record and kept its codes ledger: declared
    again, the address looks like a lost state's. The refusal names the narrow way out, not --allow-duplicate."""
    apply_ok(coupons)
    path = coupons / ".wxrec" / "state.json"
    document = state(coupons)
    del document["resources"]["pay_coupons.spring-5-off"]  # as an older forget left it: the ledger stays
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    refused = plan(coupons)
    assert refused.exit_code == 1 and "counts 300 codes" in refused.output, refused.output
    removed = wxrec(*printed(refused, "state rm"))
    assert removed.exit_code == 0 and "codes ledger (300 codes)" in removed.output, removed.output
    planned = plan(coupons, "--format", "json")
    assert planned.exit_code == 0, planned.output
    (create,) = json.loads(planned.output)["changes"]
    assert (create["address"], create["action"]) == ("pay_coupons.spring-5-off", "create")
    assert create["after"]["codes"]["pending"] == 300


def made_in_the_merchant_platform(directory: Path, name: str) -> str:
    """A copy of the stock `name` made outside wxrec, holding no codes: answers its id."""
    path = directory / ".wxrec" / "emulator.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    merchant = data["pay"]["1230000109"]
    (stock,) = [s for s in merchant["stocks"].values() if s["document"]["stock_name"] == name]
    stock_id = str(int(max(merchant["stocks"])) + 1)
    merchant["next_stock"] += 1  # the emulator's next create takes the number after it
    merchant["stocks"][stock_id] = {**stock, "stock_id": stock_id, "codes": []}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return stock_id


@pytest.mark.parametrize("how", ["wxrec import", "import block"])
def test_a_stock_adopted_after_a_lost_state_gets_every_code_whatever_the_ledger_counted(
    coupons: Path, how: str
) -> None:
    """The ledger does not say which stock its codes went to: adopting another stock than the one it counted
    for (here a wrong one) must not leave that stock without the codes."""
    apply_ok(coupons)
    other = made_in_the_merchant_platform(coupons, "春日满30减5元券")
    (coupons / ".wxrec" / "state.json").unlink()  # the codes ledger beside it survives
    if how == "wxrec import":
        adopted = wxrec("import", coupons, "pay_coupons.spring-5-off", other, "--api", "emulator")
        assert adopted.exit_code == 0, adopted.output
    else:
        blocks = [{"to": "pay_coupons.spring-5-off", "id": other}]
        (coupons / "imports.yaml").write_text(yaml.safe_dump({"import": blocks}), encoding="utf-8")
    planned = plan(coupons)
    assert planned.exit_code == 0, planned.output
    assert "300 codes to upload (of 300 in codes/spring.txt)" in planned.output, planned.output
    applied = apply_ok(coupons)
    assert "uploaded 300 codes" in applied.output, applied.output
    assert len(held_stocks(coupons)[other]["codes"]) == 300
    assert "No changes." in plan(coupons).output


def test_a_stock_removed_from_the_manifests_and_declared_again_is_a_plain_create(coupons: Path) -> None:
    apply_ok(coupons)
    manifest = coupons / "pay-coupons.yaml"
    text = manifest.read_text(encoding="utf-8")
    spring = text[text.index("  spring-5-off:") : text.index("  latte-88:")]
    manifest.write_text(text.replace(spring, ""), encoding="utf-8")
    assert "forgotten" in apply_ok(coupons).output
    manifest.write_text(text, encoding="utf-8")
    planned = plan(coupons, "--format", "json")
    assert planned.exit_code == 0, planned.output
    document = json.loads(planned.output)
    assert not document["refusals"] and not document["warnings"], document
    (create,) = document["changes"]
    assert (create["address"], create["action"]) == ("pay_coupons.spring-5-off", "create")
    assert create["after"]["codes"]["pending"] == 300


def saved_budget(coupons: Path, tmp_path: Path, max_coupons: int) -> Path:
    """The example applied, then a plan -out of latte-88's budget moved to `max_coupons`."""
    apply_ok(coupons)
    edit(coupons, "max_coupons: 1000", f"max_coupons: {max_coupons}")
    saved = tmp_path / "plan.json"
    assert wxrec("plan", coupons, "--api", "emulator", "-out", saved).exit_code == 0
    return saved


def latte_budget(directory: Path) -> int:
    (latte,) = [s for s in held_stocks(directory).values() if s["document"]["stock_name"] == "拿铁88折券"]
    return int(latte["document"]["stock_send_rule"]["max_coupons"])


def test_a_saved_budget_below_what_was_issued_since_the_plan_is_refused_before_any_call(
    coupons: Path, tmp_path: Path
) -> None:
    saved = saved_budget(coupons, tmp_path, 500)
    merchant_platform(coupons, "拿铁88折券", lambda s: s.update(total_send=600))  # issued after the plan was made
    output = refused(coupons, saved)
    assert "stock_send_rule.max_coupons 500 is below the 600 coupons already issued" in output, output
    assert latte_budget(coupons) == 1000


def test_a_forged_saved_plan_acts_on_its_own_stocks_of_the_manifests_merchant_only(
    coupons: Path, tmp_path: Path
) -> None:
    saved = saved_budget(coupons, tmp_path, 3000)
    stocks = {a: r["id"] for a, r in state(coupons)["resources"].items()}
    latte, spring = stocks["pay_coupons.latte-88"], stocks["pay_coupons.spring-5-off"]
    document = json.loads(saved.read_text(encoding="utf-8"))
    (change,) = document["changes"]
    other = {**change, "address": "pay_coupons.extra", "action": "create", "id": None}
    stock = {**change["after"]["stock"], "belong_merchant": "1900000002"}
    other["after"] = {**change["after"], "stock": stock, "out_request_no": "1230000109-forged"}
    forge(saved, coupons, other, **{"pay_coupons.latte-88": {"id": spring}})
    output = refused(coupons, saved)
    assert f"pay_coupons.latte-88: the plan acts on {spring}, but state says the address manages {latte}" in (output), (
        output
    )
    assert (
        "pay_coupons.extra: the plan makes a stock of merchant 1900000002, and the manifests give it to merchant "
        "1230000109" in output
    )
    assert latte_budget(coupons) == 1000 and len(held_stocks(coupons)) == 2


def spent_numbers(directory: Path) -> set[str]:
    """Every request number the emulator's merchant has taken (create, modify, budget, upload)."""
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    return set(data["pay"]["1230000109"]["requests"])


def without(directory: Path, key: str) -> str:
    """Removes `key` from the manifests; answers the text to put back."""
    manifest = directory / "pay-coupons.yaml"
    text = manifest.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    del data["pay_coupons"][key]
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return text


def declared_again(directory: Path) -> tuple[str, set[str]]:
    """spring-5-off lives once (a create, two uploads, a modify), leaves the manifests and is declared again:
    answers the first stock's id and the numbers spent so far."""
    apply_ok(directory)
    edit(directory, "comment: 春季拉新", "comment: 春季拉新二期")
    apply_ok(directory)
    first_id = state(directory)["resources"]["pay_coupons.spring-5-off"]["id"]
    manifest = without(directory, "spring-5-off")
    assert "forgotten" in apply_ok(directory).output
    (directory / "pay-coupons.yaml").write_text(manifest, encoding="utf-8")
    return first_id, spent_numbers(directory)


def second_life(directory: Path, first_id: str, spent: set[str]) -> set[str]:
    """The new stock holds every code and takes a modify; answers the numbers its life spent."""
    record = state(directory)["resources"]["pay_coupons.spring-5-off"]
    assert record["id"] != first_id and len(held_stocks(directory)[record["id"]]["codes"]) == 300
    edit(directory, "comment: 春季拉新二期", "comment: 春季拉新三期")
    apply_ok(directory)
    assert "No changes." in plan(directory).output and len(held_stocks(directory)) == 3
    second = spent_numbers(directory) - spent
    assert len(second) == 4 and {n.partition(":")[0] for n in second} == {"stock", "codes"}  # modify is `stock:`
    return second


def test_a_stock_declared_again_after_removal_spends_only_new_request_numbers(coupons: Path) -> None:
    """WeChat Pay holds each number once per merchant (busifavor.md §7): the second life repeats none of the
    first's create, upload and modify numbers; a saved plan's create carries the number the plan shows."""
    first_id, spent = declared_again(coupons)
    saved = coupons.parent / "plan.json"
    assert wxrec("plan", coupons, "--api", "emulator", "-out", saved).exit_code == 0
    (change,) = json.loads(saved.read_text(encoding="utf-8"))["changes"]
    applied = wxrec("apply", coupons, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert applied.exit_code == 0 and "uploaded 300 codes" in applied.output, applied.output
    assert f"stock:{change['after']['out_request_no']}" in second_life(coupons, first_id, spent)


def test_a_stock_declared_again_resends_its_own_lost_create_only(coupons: Path) -> None:
    first_id, spent = declared_again(coupons)
    reset = {"WXREC_EMULATOR_FAULTS": f"reset=1,paths={CREATE}"}  # the create never reaches WeChat Pay
    lost = wxrec("apply", coupons, "--api", "emulator", "--auto-approve", env=reset)
    assert lost.exit_code == 1 and "never sends that create again" in lost.output, lost.output
    wxrec("emulator", "faults", "none", "--data", coupons / ".wxrec" / "emulator.json")
    number = state(coupons)["intents"]["pay_coupons.spring-5-off"]["out_request_no"]
    assert f"stock:{number}" not in spent
    apply_ok(coupons, "-replace", "pay_coupons.spring-5-off")  # the merchant platform shows none
    assert f"stock:{number}" in second_life(coupons, first_id, spent)


def test_a_stock_imported_again_after_removal_spends_only_new_request_numbers(coupons: Path) -> None:
    apply_ok(coupons)
    edit(coupons, "goods_name: 拿铁\n", "goods_name: 拿铁咖啡\n")
    apply_ok(coupons)  # a modify: the stock's first request number after its create
    stock_id = state(coupons)["resources"]["pay_coupons.latte-88"]["id"]
    assert wxrec("state", "rm", coupons, "pay_coupons.latte-88").exit_code == 0
    adopted = wxrec("import", coupons, "pay_coupons.latte-88", stock_id, "--api", "emulator")
    assert adopted.exit_code == 0, adopted.output
    edit(coupons, "goods_name: 拿铁咖啡\n", "goods_name: 拿铁饮品\n")
    apply_ok(coupons)
    assert held_stocks(coupons)[stock_id]["document"]["goods_name"] == "拿铁饮品"


def test_the_example_against_a_served_emulator_runs_as_readme_says_and_each_missing_step_is_named(
    coupons: Path,
) -> None:
    appid = "wx1234567890abcdef"  # the example's account, not the emulator's demo one
    assert f"appid: {appid}" in (coupons / "pay-coupons.yaml").read_text(encoding="utf-8")
    with served_emulator("--account", f"{appid}:example-secret") as url:
        no_secret = wxrec("plan", coupons, "--api", url)
        assert no_secret.exit_code == 1
        assert f"serve {appid} with `wxrec emulator serve --account {appid}:SECRET`" in no_secret.output
        secret = {"WXREC_APPSECRET": "example-secret"}
        no_pay_api = wxrec("plan", coupons, "--api", url, env=secret)
        assert no_pay_api.exit_code == 1
        assert "no WeChat Pay credentials for merchant 1230000109" in no_pay_api.output
        assert f"give --pay-api {url} too" in no_pay_api.output, no_pay_api.output
        both = ("--api", url, "--pay-api", url)
        applied = wxrec("apply", coupons, *both, "--auto-approve", env=secret)
        assert applied.exit_code == 0, applied.output
        again = wxrec("plan", coupons, *both, "--detailed-exitcode", env=secret)
        assert again.exit_code == 0 and "No changes." in again.output, again.output


def test_the_pay_api_hint_is_for_another_api_than_wechats_only(coupons: Path) -> None:
    planned = wxrec("plan", coupons, env={"WXREC_APPSECRET": "secret"})
    assert planned.exit_code == 1 and "no WeChat Pay credentials for merchant" in planned.output
    assert "--pay-api" not in planned.output
