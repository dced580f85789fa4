"""A kind defined here, registered, goes through validation, planning, apply and every renderer without a line of
product code touched; a plan naming a kind nobody registered is refused with a clear error."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler import resources
from reconciler.address import Address
from reconciler.drift import drift_report
from reconciler.errors import Locate, ManifestError, Problem, WxrecError
from reconciler.manifest import load_manifest
from reconciler.plan import Action, AttributeChange, Plan, ResourceChange
from reconciler.planning import offline_plan
from reconciler.render.html import render_html
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_plan
from reconciler.resources.base import Applier, ApplyContext, Drift, KindPlan, PlanContext, entry
from reconciler.scheduler import apply_plan
from reconciler.state import State
from tests.support import Harness

RESERVED = "星标组"  # WeChat's own tag: a user tag may not take its name


@dataclass
class TagApplier:
    context: ApplyContext
    created: list[str]

    async def apply(self, change: ResourceChange) -> str:
        assert change.after is not None
        name = change.after["spec"]["name"]
        self.created.append(name)
        self.context.state.resources[change.address] = {"id": str(len(self.created)), "name": name}
        await self.context.save()
        return f"tag {name} created"


@dataclass
class UserTags:
    name: str = "user_tags"
    keyed: bool = True
    layer: int = 1
    attributes: tuple[str, ...] = ("id",)
    may_refer_to: tuple[str, ...] = ()
    new_badge: str = "new tag"
    panel: str = "other"
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "section": {
                "type": "object",
                "propertyNames": {"$ref": "#/$defs/key"},
                "additionalProperties": {"$ref": "#/$defs/user_tag"},
            },
            "$defs": {
                "user_tag": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string", "maxLength": 30}},
                }
            },
        }
    )
    created: list[str] = field(default_factory=list)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return [
            Problem(locate((self.name, key, "name")), f"{self.name}.{key}.name", "is WeChat's own tag")
            for key, tag in section.items()
            if tag.get("name") == RESERVED  # validate runs on what the schema refused too
        ]

    async def plan(self, context: PlanContext) -> KindPlan:
        records = context.state.resources if context.state else {}
        found = KindPlan()
        for key, tag in sorted((context.section or {}).items()):
            address = str(Address(self.name, key))
            record = records.get(address)
            if record is None:
                found.changes.append(ResourceChange(address, Action.CREATE, after={"spec": dict(tag)}))
            elif record["name"] != tag["name"]:
                change = ResourceChange(address, Action.UPDATE, id=record["id"], after={"spec": dict(tag)})
                change.changes.append(AttributeChange("name", record["name"], tag["name"]))
                found.changes.append(change)
        return found

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        for attribute in change.changes:
            found.manifest.append(entry(change, f"renamed from {attribute.old} to {attribute.new} in the manifests"))

    def applier(self, context: ApplyContext) -> Applier:
        return TagApplier(context, self.created)

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """What an apply of the section leaves in state, ids stood in (wxrec diff's base)."""
        addresses = {key: str(Address(self.name, key)) for key in section or {}}
        return {address: {"id": f"<{address}>", "name": section[key]["name"]} for key, address in addresses.items()}


@pytest.fixture
def user_tags() -> Iterator[UserTags]:
    kind = UserTags()
    resources.register(kind)
    yield kind
    resources.unregister(kind.name)


async def test_a_kind_defined_elsewhere_is_validated_planned_applied_and_rendered(
    shop: Harness, user_tags: UserTags
) -> None:
    tags = shop.directory / "tags.yaml"
    tags.write_text(f"user_tags:\n  vip:\n    name: {RESERVED}\n  new:\n    nom: x\n", encoding="utf-8")
    with pytest.raises(ManifestError) as refused:
        load_manifest(shop.directory)
    found = str(refused.value)
    assert f"{tags}:3:" in found and "user_tags.vip.name: is WeChat's own tag" in found, "its own validate"
    assert "user_tags.new.nom: unknown field" in found, "its own schema fragment"

    tags.write_text("user_tags:\n  vip:\n    name: VIP\n", encoding="utf-8")
    plan = await shop.plan()
    change = next(c for c in plan.changes if c.address == "user_tags.vip")
    assert change.action == Action.CREATE and not plan.refusals
    document = plan.to_dict()
    assert "user_tags.vip" in render_plan(document) and "user_tags.vip" in render_markdown(document)
    assert "new tag" in render_html(document, palette=plan.palette)
    assert json.loads(json.dumps(document))["changes"]

    await shop.apply()
    assert user_tags.created == ["VIP"]
    state = shop.backend.load()
    assert state is not None and state.resources["user_tags.vip"] == {"id": "1", "name": "VIP"}
    assert not [c for c in (await shop.plan()).changes if c.address.startswith("user_tags.")]

    tags.write_text("user_tags:\n  vip:\n    name: Gold\n", encoding="utf-8")
    report = drift_report(await shop.plan(), shop.backend.load())
    assert {"address": "user_tags.vip", "id": "1", "what": "renamed from VIP to Gold in the manifests"} in report[
        "manifest"
    ], "its own drift hook"


async def test_wxrec_diff_stands_in_for_a_kind_defined_elsewhere(shop: Harness, user_tags: UserTags) -> None:
    """wxrec diff plans against what an apply of the base would leave: the kind says what that is, so an
    unchanged section is no change (it was a create of every tag, whatever the base held)."""
    tags = shop.directory / "tags.yaml"
    tags.write_text("user_tags:\n  vip:\n    name: VIP\n", encoding="utf-8")
    base = load_manifest(shop.directory)
    unchanged = await offline_plan(base, base, "manifests at HEAD", {})
    assert not [c for c in unchanged.changes if c.address.startswith("user_tags.")]
    tags.write_text("user_tags:\n  vip:\n    name: VIP\n  new:\n    name: New\n", encoding="utf-8")
    added = await offline_plan(base, load_manifest(shop.directory), "manifests at HEAD", {})
    assert [c.address for c in added.changes if c.address.startswith("user_tags.")] == ["user_tags.new"]


async def test_a_plan_of_a_kind_nobody_registered_is_refused_before_anything_changes(shop: Harness) -> None:
    plan = Plan(appid="wx0123456789abcdef", endpoint="emulator")
    plan.changes = [ResourceChange("cards.new", Action.CREATE), ResourceChange("user_tags.vip", Action.CREATE)]
    state = State(appid="wx0123456789abcdef", endpoint="emulator")
    with pytest.raises(WxrecError, match="no resource kind 'user_tags' is known to this wxrec"):
        await apply_plan(plan, shop.api, state, shop.backend, shop.options())
    assert shop.backend.load() is None, "nothing was applied"


def test_the_shipped_manifest_schema_is_the_one_the_registry_builds() -> None:
    """schemas/manifest.schema.json is kept for editors; `wxrec schema` and validation use the built one."""
    shipped = Path(__file__).parent.parent / "schemas" / "manifest.schema.json"
    assert shipped.read_text(encoding="utf-8") == resources.schema_text()
