"""Kind `tags`: created, renamed in place, deleted only with --allow-destroy, drift, duplicates, the threshold."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.drift import drift_report
from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.planning import plan_for_apply
from reconciler.scheduler import apply_plan
from reconciler.state import State
from reconciler.wechat.account import AccountApi
from reconciler.wechat.client import StableToken, WeChatClient
from reconciler.wechat.errors import UncertainOutcome
from tests.support import Harness, apply_ok, served_emulator, wxrec


def write_tags(directory: Path, **names: str) -> Path:
    path = directory / "tags.yaml"
    lines = ["tags:"] + [f"  {key}:\n    name: {name}" for key, name in names.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def live_tags(shop: Harness) -> dict[str, tuple[str, int]]:
    answer = await shop.api.client.get("/cgi-bin/tags/get")
    return {str(t["id"]): (t["name"], t["count"]) for t in answer["tags"]}


def tag_id(shop: Harness, key: str) -> str:
    state = shop.backend.load()
    assert state is not None
    return str(state.resources[f"tags.{key}"]["id"])


def tag_changes(plan: object) -> list[tuple[str, Action]]:
    return [(c.address, c.action) for c in plan.changes if c.address.startswith("tags.")]  # type: ignore[attr-defined]


async def test_tags_apply_then_plan_no_changes_and_a_rename_is_in_place(shop: Harness) -> None:
    write_tags(shop.directory, vip="高级会员", regular="普通会员")
    plan = await shop.plan()
    assert tag_changes(plan) == [("tags.regular", Action.CREATE), ("tags.vip", Action.CREATE)]
    await shop.apply()
    vip = tag_id(shop, "vip")
    assert (await live_tags(shop))[vip] == ("高级会员", 0)
    assert not tag_changes(await shop.plan())
    await shop.control("fans", openid="o-1", tags=[int(vip)])

    write_tags(shop.directory, vip="金卡会员", regular="普通会员")
    change = next(c for c in (await shop.plan()).changes if c.address == "tags.vip")
    assert change.action == Action.UPDATE and change.id == vip and not change.destructive
    assert [(a.old, a.new) for a in change.changes] == [("高级会员", "金卡会员")]
    await shop.apply()
    assert tag_id(shop, "vip") == vip and (await live_tags(shop))[vip] == ("金卡会员", 1), "same id, same fans"
    assert not tag_changes(await shop.plan())


async def test_a_rename_in_the_mp_console_is_drift(shop: Harness) -> None:
    write_tags(shop.directory, vip="高级会员")
    await shop.apply()
    vip = tag_id(shop, "vip")
    await shop.api.client.post("/cgi-bin/tags/update", {"tag": {"id": int(vip), "name": "被改了"}})
    plan = await shop.plan()
    report = drift_report(plan, shop.backend.load())
    found = [e for e in report["live"] if e["address"] == "tags.vip"]
    assert found and found[0]["live"] == "被改了" and found[0]["wanted"] == "高级会员"
    assert not [e for e in report["manifest"] if e["address"] == "tags.vip"]
    write_tags(shop.directory, vip="金卡会员")
    report = drift_report(await shop.plan(), shop.backend.load())
    assert [e["address"] for e in report["manifest"] if e["address"] == "tags.vip"] == [], "still a hand edit"
    await shop.api.client.post("/cgi-bin/tags/update", {"tag": {"id": int(vip), "name": "高级会员"}})
    report = drift_report(await shop.plan(), shop.backend.load())
    assert [e["address"] for e in report["manifest"] if e["address"] == "tags.vip"] == ["tags.vip"]


async def test_an_unmanaged_tag_of_the_same_name_is_refused_and_points_at_import(shop: Harness) -> None:
    made = await shop.api.client.post("/cgi-bin/tags/create", {"tag": {"name": "高级会员"}}, idempotent=False)
    write_tags(shop.directory, vip="高级会员")
    plan = await shop.plan()
    refusal = next(r for r in plan.refusals if r.startswith("tags.vip"))
    assert f"(id {made['tag']['id']})" in refusal and "import" in refusal


async def test_a_tag_deleted_in_wechat_is_created_again(shop: Harness) -> None:
    write_tags(shop.directory, vip="高级会员")
    await shop.apply()
    old = tag_id(shop, "vip")
    await shop.api.client.post("/cgi-bin/tags/delete", {"tag": {"id": int(old)}})
    change = next(c for c in (await shop.plan()).changes if c.address == "tags.vip")
    assert change.action == Action.CREATE and "was deleted in WeChat" in change.reasons[0]
    await shop.apply()
    assert tag_id(shop, "vip") != old and not tag_changes(await shop.plan())


def test_deleting_a_tag_needs_allow_destroy(example_dir: Path) -> None:
    write_tags(example_dir, vip="高级会员", regular="普通会员")
    apply_ok(example_dir)
    write_tags(example_dir, regular="普通会员")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "- tags.vip" in plan.output and "takes the tag off every fan" in plan.output
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve")
    assert refused.exit_code == 1 and "--allow-destroy" in refused.output
    apply_ok(example_dir, "--allow-destroy")
    assert wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode").exit_code == 0


async def test_tag_deletes_count_toward_the_destroy_threshold(shop: Harness) -> None:
    write_tags(shop.directory, **{f"t{i}": f"tag {i}" for i in range(6)})
    await shop.apply()
    write_tags(shop.directory, t0="tag 0")
    plan = await shop.plan()
    assert sum(action == Action.DELETE for _, action in tag_changes(plan)) == 5
    assert any("deletes or replaces 5 of" in r and "cards, tags and stocks" in r for r in plan.refusals)
    assert not (await shop.plan(destroy_threshold=1.0)).refusals


async def test_a_removed_tags_section_forgets_and_deletes_nothing(shop: Harness) -> None:
    path = write_tags(shop.directory, vip="高级会员")
    await shop.apply()
    vip = tag_id(shop, "vip")
    path.unlink()
    assert tag_changes(await shop.plan()) == [("tags.vip", Action.FORGET)]
    await shop.apply()
    assert vip in await live_tags(shop)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"vip": "一二三四五六七八九十a"}, "tags.vip.name: is over 30 bytes"),
        ({"a": "same", "b": "same"}, "tags.b.name: is also tags.a's name"),
    ],
)
def test_validate_refuses_long_and_duplicate_names(example_dir: Path, names: dict[str, str], message: str) -> None:
    path = write_tags(example_dir, **names)
    with pytest.raises(ManifestError) as refused:
        load_manifest(example_dir)
    assert message in str(refused.value) and f"{path}:" in str(refused.value)


async def make_tags(url: str, *names: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        client = WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET))
        for name in names:
            await client.post("/cgi-bin/tags/create", {"tag": {"name": name}}, idempotent=False)


def test_export_writes_the_tags_and_plans_no_changes(tmp_path: Path) -> None:
    with served_emulator() as url:
        asyncio.run(make_tags(url, "高级会员", "VIP", "vip"))
        exported = wxrec("export", tmp_path, "--api", url)
        assert exported.exit_code == 0, exported.output
        tags = yaml.safe_load((tmp_path / "tags.yaml").read_text(encoding="utf-8"))["tags"]
        assert tags == {"gao-ji-hui-yuan": {"name": "高级会员"}, "vip": {"name": "VIP"}, "vip-102": {"name": "vip"}}
        planned = wxrec("plan", tmp_path, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


def test_export_force_replaces_a_hand_chosen_tag_key_and_deletes_no_tag(tmp_path: Path) -> None:
    with served_emulator() as url:
        assert wxrec("export", tmp_path, "--api", url).exit_code == 0
        write_tags(tmp_path, vip="高级会员")
        applied = wxrec("apply", tmp_path, "--api", url, "--auto-approve")
        assert applied.exit_code == 0, applied.output
        forced = wxrec("export", tmp_path, "--api", url, "--force")
        assert forced.exit_code == 0, forced.output
        state = json.loads((tmp_path / ".wxrec" / "state.json").read_text(encoding="utf-8"))
        assert [a for a in state["resources"] if a.startswith("tags.")] == ["tags.gao-ji-hui-yuan"]
        planned = wxrec("plan", tmp_path, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


async def test_an_import_block_adopts_the_live_tag(shop: Harness) -> None:
    made = await shop.api.client.post("/cgi-bin/tags/create", {"tag": {"name": "高级会员"}}, idempotent=False)
    live_id = str(made["tag"]["id"])
    path = write_tags(shop.directory, vip="高级会员")
    with path.open("a", encoding="utf-8") as out:
        out.write(f"import:\n  - to: tags.vip\n    id: '{live_id}'\n")
    plan = await shop.plan()
    assert not plan.refusals and tag_changes(plan) == [("tags.vip", Action.IMPORT)]
    await shop.apply()
    assert tag_id(shop, "vip") == live_id and not tag_changes(await shop.plan())


@pytest.mark.parametrize(("live_id", "why"), [("2", "reserved tags"), ("999", "is not a tag of this account")])
async def test_an_import_of_no_such_tag_is_refused(shop: Harness, live_id: str, why: str) -> None:
    path = write_tags(shop.directory, vip="高级会员")
    with path.open("a", encoding="utf-8") as out:
        out.write(f"import:\n  - to: tags.vip\n    id: '{live_id}'\n")
    plan = await shop.plan()
    assert any(r.startswith("import tags.vip:") and why in r for r in plan.refusals), plan.refusals


async def test_a_create_whose_answer_was_lost_is_adopted_not_made_twice(shop: Harness, monkeypatch: Any) -> None:
    real = AccountApi.create_tag

    async def create_then_lose_answer(self: AccountApi, name: str) -> str:
        await real(self, name)
        raise UncertainOutcome("/cgi-bin/tags/create", "timeout", maybe_applied=True)

    write_tags(shop.directory, vip="高级会员")
    monkeypatch.setattr(AccountApi, "create_tag", create_then_lose_answer)
    current = shop.backend.load() or State(appid=DEMO_APPID, endpoint="emulator")
    _, plan = await plan_for_apply(
        load_manifest(shop.directory), shop.api, current, shop.backend, "emulator", shop.options()
    )
    report = await apply_plan(plan, shop.api, current, shop.backend, shop.options())
    assert not next(o for o in report.outcomes if o.address == "tags.vip").ok
    monkeypatch.undo()
    again = await shop.plan()
    assert not [r for r in again.refusals if "tags.vip" in r] and tag_changes(again) == [("tags.vip", Action.IMPORT)]
    await shop.apply()
    live_ids = [i for i, (name, _) in (await live_tags(shop)).items() if name == "高级会员"]
    assert [tag_id(shop, "vip")] == live_ids and not tag_changes(await shop.plan())
    state = shop.backend.load()
    assert state is not None and "tags.vip" not in state.intents
