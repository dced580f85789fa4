"""Kind `conditional_menus`: published beside the default menu, re-published on a change (new first), re-pointed
when its tag is replaced, refused rules and `menu: null`, menus made elsewhere reported."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import DEMO_APPID
from reconciler.errors import ManifestError
from reconciler.i18n import language
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.planning import plan_for_apply
from reconciler.render.html import render_html
from reconciler.render.text import render_plan
from reconciler.scheduler import apply_plan
from reconciler.state import State
from reconciler.wechat.account import AccountApi
from tests.support import Harness, apply_ok, wxrec

MEMBERS = """\
tags:
  vip:
    name: 高级会员
conditional_menus:
  vip-menu:
    matchrule: {tag: vip}
    button:
      - {type: view, name: 会员专区, url: "https://example.com/vip"}
"""


def write(directory: Path, text: str = MEMBERS) -> Path:
    path = directory / "members.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def live(shop: Harness) -> dict[str, Any]:
    return await shop.api.client.get("/cgi-bin/menu/get")


async def seen_by(shop: Harness, openid: str) -> str:
    answer = await shop.api.client.post("/cgi-bin/menu/trymatch", {"user_id": openid})
    return str(answer["button"][0]["name"])


def record(shop: Harness, address: str) -> dict[str, Any]:
    state = shop.backend.load()
    assert state is not None
    return dict(state.resources[address])


def changes(plan: Any, kind: str) -> list[tuple[str, Action]]:
    return [(c.address, c.action) for c in plan.changes if c.address.startswith(kind + ".")]


async def test_a_members_menu_applies_matches_its_tag_and_plans_no_changes(shop: Harness) -> None:
    write(shop.directory)
    plan = await shop.plan()
    assert changes(plan, "conditional_menus") == [("conditional_menus.vip-menu", Action.CREATE)]
    assert [c.address for c in plan.ordered()].index("menu") < [c.address for c in plan.ordered()].index(
        "conditional_menus.vip-menu"
    ), "the default menu first (65303 otherwise)"
    await shop.apply()
    vip = record(shop, "tags.vip")["id"]
    menus = (await live(shop))["conditionalmenu"]
    assert [(str(m["menuid"]), m["matchrule"]) for m in menus] == [
        (record(shop, "conditional_menus.vip-menu")["id"], {"group_id": int(vip)})
    ]
    await shop.control("fans", openid="member", tags=[int(vip)])
    await shop.control("fans", openid="passer-by", tags=[])
    assert await seen_by(shop, "member") == "会员专区"
    assert await seen_by(shop, "passer-by") != "会员专区"
    assert not changes(await shop.plan(), "conditional_menus") and not changes(await shop.plan(), "tags")


async def test_a_change_republishes_new_first_then_removes_the_old(shop: Harness) -> None:
    write(shop.directory)
    await shop.apply()
    old = record(shop, "conditional_menus.vip-menu")["id"]
    write(shop.directory, MEMBERS.replace("会员专区", "会员福利"))
    plan = await shop.plan()
    change = next(c for c in plan.changes if c.address == "conditional_menus.vip-menu")
    assert change.action == Action.UPDATE and change.id == old and not change.destructive
    text = render_plan(plan.to_dict())
    assert "addconditional publishes the new menu first" in text and "会员福利" in text
    since = (await shop.control_get("calls"))["next_seq"]
    await shop.apply()
    calls = (await shop.http.get("/_emulator/calls", params={"since": since})).json()["calls"]
    paths = [c["path"] for c in calls if "conditional" in c["path"]]
    assert paths == ["/cgi-bin/menu/addconditional", "/cgi-bin/menu/delconditional"]
    new = record(shop, "conditional_menus.vip-menu")["id"]
    assert new != old and [str(m["menuid"]) for m in (await live(shop))["conditionalmenu"]] == [new]
    assert not changes(await shop.plan(), "conditional_menus"), "converged"


async def test_a_replaced_tag_re_points_the_menu(shop: Harness) -> None:
    write(shop.directory)
    await shop.apply()
    old = record(shop, "tags.vip")["id"]
    await shop.api.client.post("/cgi-bin/tags/delete", {"tag": {"id": int(old)}})
    plan = await shop.plan()
    change = next(c for c in plan.changes if c.address == "conditional_menus.vip-menu")
    assert change.action == Action.UPDATE and change.reasons == ["tags.vip gets a new id"]
    await shop.apply()
    new = record(shop, "tags.vip")["id"]
    assert new != old
    assert [m["matchrule"] for m in (await live(shop))["conditionalmenu"]] == [{"group_id": int(new)}]
    assert not changes(await shop.plan(), "conditional_menus")


async def test_the_menu_goes_before_the_tag_it_matches(shop: Harness) -> None:
    path = write(shop.directory)
    await shop.apply()
    path.write_text("tags: {}\nconditional_menus: {}\n", encoding="utf-8")
    plan = await shop.plan()
    order = [c.address for c in plan.ordered() if c.action == Action.DELETE]
    assert order == ["conditional_menus.vip-menu", "tags.vip"]
    assert [len(layer) for layer in plan.layers() if any(c.action == Action.DELETE for c in layer)] == [1, 1]
    await shop.apply()
    assert "conditionalmenu" not in await live(shop)
    tags = (await shop.api.client.get("/cgi-bin/tags/get"))["tags"]
    assert [t["name"] for t in tags] == ["星标组"]


async def test_menus_made_elsewhere_are_reported_not_deleted(shop: Harness) -> None:
    write(shop.directory)
    await shop.apply()
    body = {"button": [{"type": "click", "name": "安卓", "key": "A"}], "matchrule": {"client_platform_type": "2"}}
    made = await shop.api.client.post("/cgi-bin/menu/addconditional", body, idempotent=False)
    plan = await shop.plan()
    assert any(f"conditional menu {made['menuid']} (client_platform_type 2) is live" in w for w in plan.warnings)
    assert not changes(plan, "conditional_menus")


def test_the_menu_null_note_names_the_live_conditional_menus(example_dir: Path) -> None:
    path = write(example_dir)
    apply_ok(example_dir)
    path.write_text(MEMBERS.split("conditional_menus:")[0], encoding="utf-8")
    campaign = example_dir / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text[: text.index("menu:")] + "menu: null\n\n" + text[text.index("whitelist:") :], "utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "removes every conditional menu: " in plan.output and "(tag_id " in plan.output, plan.output


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{tag: vip, sex: '1'}", "conditional_menus.vip-menu.matchrule.sex: WeChat no longer matches on sex"),
        ("{tag: vip, tag_id: '100'}", "matchrule.tag_id: give `tag` or `tag_id`, not both"),
        ("{tag: gold}", "refers to tags.gold, which the manifests do not declare"),
        ("{}", "conditional_menus.vip-menu.matchrule"),
    ],
)
def test_validate_refuses_bad_rules(example_dir: Path, rule: str, message: str) -> None:
    path = write(example_dir, MEMBERS.replace("{tag: vip}", rule))
    with pytest.raises(ManifestError) as refused:
        load_manifest(example_dir)
    assert message in str(refused.value) and f"{path}:" in str(refused.value), str(refused.value)


def test_menu_null_is_refused_while_conditional_menus_are_declared(example_dir: Path) -> None:
    write(example_dir)
    campaign = example_dir / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text[: text.index("menu:")] + "menu: null\n\n" + text[text.index("whitelist:") :], "utf-8")
    with pytest.raises(ManifestError) as refused:
        load_manifest(example_dir)
    assert "menu: is null, which deletes every conditional menu with it" in str(refused.value)


async def test_the_html_report_draws_each_conditional_menu_as_a_phone_labelled_with_its_tag(shop: Harness) -> None:
    write(shop.directory)
    plan = await shop.plan()
    html = render_html(plan.to_dict(), palette=plan.palette)
    panel = html[html.index("conditional_menus.vip-menu") :]
    assert "Shown to: fans tagged tags.vip" in panel and "会员专区" in panel
    with language("zh-cn"):
        assert "展示给：带有标签 tags.vip 的粉丝" in render_html(plan.to_dict(), palette=plan.palette)


async def test_an_import_block_adopts_a_live_conditional_menu(shop: Harness) -> None:
    write(shop.directory, MEMBERS.split("conditional_menus:")[0])
    await shop.apply()
    vip = record(shop, "tags.vip")["id"]
    body = {"button": [{"type": "view", "name": "会员专区", "url": "https://example.com/vip"}]}
    made = await shop.api.client.post(
        "/cgi-bin/menu/addconditional", {**body, "matchrule": {"tag_id": vip}}, idempotent=False
    )
    write(shop.directory, MEMBERS + f"import:\n  - to: conditional_menus.vip-menu\n    id: '{made['menuid']}'\n")
    plan = await shop.plan()
    assert changes(plan, "conditional_menus") == [("conditional_menus.vip-menu", Action.IMPORT)], plan.refusals
    assert not plan.warnings or all(made["menuid"] not in w for w in plan.warnings)
    await shop.apply()
    assert record(shop, "conditional_menus.vip-menu")["id"] == made["menuid"]
    assert not changes(await shop.plan(), "conditional_menus"), "adopted as it is live: nothing to re-publish"


def test_the_members_example_applies_and_plans_no_changes(tmp_path: Path) -> None:
    directory = tmp_path / "members"
    shutil.copytree(Path(__file__).parent.parent / "examples" / "members", directory)
    result = apply_ok(directory)
    assert "tags.member: create ok" in result.output and "conditional_menus.members-menu: create ok" in result.output
    planned = wxrec("plan", directory, "--api", "emulator", "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


VIP_MENU = "conditional_menus.vip-menu"


async def apply_failing(shop: Harness) -> None:
    """An apply one of whose changes fails (the emulator's faults)."""
    current = shop.backend.load() or State(appid=DEMO_APPID, endpoint="emulator")
    settings = shop.options()
    _, plan = await plan_for_apply(load_manifest(shop.directory), shop.api, current, shop.backend, "emulator", settings)
    report = await apply_plan(plan, shop.api, current, shop.backend, settings)
    assert [o.address for o in report.outcomes if not o.ok] == [VIP_MENU]


async def live_ids(shop: Harness) -> list[str]:
    answer = await AccountApi(shop.api.client).menu_config()  # None: no menu yet
    return sorted(str(m["menuid"]) for m in (answer or {}).get("conditionalmenu", []))


async def conditional_calls(shop: Harness, since: int) -> list[str]:
    calls = (await shop.http.get("/_emulator/calls", params={"since": since})).json()["calls"]
    return [c["path"] for c in calls if "conditional" in c["path"]]


async def test_a_failed_removal_of_the_old_menu_keeps_its_id_until_the_next_apply_removes_it(shop: Harness) -> None:
    write(shop.directory)
    await shop.apply()
    old = record(shop, VIP_MENU)["id"]
    write(shop.directory, MEMBERS.replace("会员专区", "会员福利"))
    await shop.control("faults", spec="error=-1:1.0,paths=/cgi-bin/menu/delconditional")
    await apply_failing(shop)
    await shop.control("faults", spec="none")
    new = record(shop, VIP_MENU)
    assert new["retired"] == [old] and await live_ids(shop) == sorted([old, new["id"]])
    change = next(c for c in (await shop.plan()).changes if c.address == VIP_MENU)
    assert change.action == Action.UPDATE and change.id == new["id"] and not change.destructive
    since = (await shop.control_get("calls"))["next_seq"]
    await shop.apply()
    assert await conditional_calls(shop, since) == ["/cgi-bin/menu/delconditional"], "nothing published again"
    assert await live_ids(shop) == [new["id"]] and record(shop, VIP_MENU) == {k: new[k] for k in ("id", "applied")}
    assert not changes(await shop.plan(), "conditional_menus"), "converged"


@pytest.mark.parametrize("change_menu", [False, True], ids=["create", "update"])
async def test_a_publish_whose_answer_was_lost_is_adopted_not_published_twice(shop: Harness, change_menu: bool) -> None:
    write(shop.directory)
    if change_menu:
        await shop.apply()
        write(shop.directory, MEMBERS.replace("会员专区", "会员福利"))
    before = await live_ids(shop)
    await shop.control("faults", spec="drop=1.0,paths=/cgi-bin/menu/addconditional")
    await apply_failing(shop)
    await shop.control("faults", spec="none")
    made = [menuid for menuid in await live_ids(shop) if menuid not in before]
    assert len(made) == 1, "the lost call did publish"
    since = (await shop.control_get("calls"))["next_seq"]
    await shop.apply()
    assert "/cgi-bin/menu/addconditional" not in await conditional_calls(shop, since)
    assert await live_ids(shop) == made and record(shop, VIP_MENU)["id"] == made[0]
    state = shop.backend.load()
    assert state is not None and VIP_MENU not in state.intents
    assert not changes(await shop.plan(), "conditional_menus"), "converged"
