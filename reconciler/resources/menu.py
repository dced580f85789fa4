"""The custom menu (cgi-bin/menu): replaced whole when the resolved manifest menu differs from menu/get; `menu:
null` deletes it. Its buttons may link to cards, landing pages and QR codes, so it is applied after them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from reconciler.errors import Locate, Problem, WxrecError
from reconciler.i18n import said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import (
    Applier,
    ApplyContext,
    Drift,
    KindPlan,
    PlanContext,
    entry,
    forget,
    schema_fragment,
)
from reconciler.resources.menu_checks import validate_menu
from reconciler.resources.menu_tree import menu_tree
from reconciler.resources.references import GETS_NEW_URL_OR_ID, follows, resolve, resolve_known, state_lookup
from reconciler.state import State
from reconciler.wechat.account import AccountApi

FILLED_IN = "once its references are filled in"


class MenuDocument(TypedDict):
    """The menu's `before`/`after` (plan.schema.json's `other`): menu/get's shape, normalised."""

    menu: dict[str, Any] | None


@dataclass
class MenuLive:
    menu: dict[str, Any] | None
    console: bool  # a menu made in the MP console, which menu/get cannot see
    conditional: list[str] = field(default_factory=list)  # menu/get's conditional menus: "menuid (rule)"


@dataclass(frozen=True)
class MenuRecord:
    """State's record: the menu wxrec last created, references filled in."""

    applied: dict[str, Any] | None

    @classmethod
    def from_state(cls, state: State | None) -> MenuRecord:
        return cls((state.resources.get("menu") or {}).get("applied") if state else None)

    def to_state(self) -> dict[str, Any]:
        return {"applied": self.applied}


async def read_menu(api: AccountApi) -> MenuLive:
    answer, console = await asyncio.gather(api.menu_config(), api.console_menu())
    menu = None if answer is None else answer.get("menu") or {}
    made_in_console = menu is None and bool(console.get("is_menu_open")) and bool(console.get("selfmenu_info"))
    conditional = [_conditional(item) for item in (answer or {}).get("conditionalmenu") or []]
    return MenuLive(normal_menu(menu) if menu else None, made_in_console, conditional)


def live_rule(rule: Mapping[str, Any]) -> dict[str, str]:
    """menu/get's match rule as addconditional takes it: it answers the tag as `group_id` and numbers for strings
    (docs/wechat/tags-and-conditional-menus.md); empty fields dropped."""
    named = {("tag_id" if k == "group_id" else k): v for k, v in rule.items()}
    return {k: str(v) for k, v in named.items() if v not in (None, "")}


def describe_rule(rule: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in rule.items()) or "no rule"


def _conditional(item: Mapping[str, Any]) -> str:
    return f"{item.get('menuid')} ({describe_rule(live_rule(item.get('matchrule') or {}))})"


def normal_menu(menu: Mapping[str, Any]) -> dict[str, Any]:
    """menu/get's shape and the manifest's compared alike: no empty sub_button lists, no menuid."""

    def button(item: Mapping[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in item.items() if k != "sub_button"}
        subs = item.get("sub_button") or []
        if subs:
            result["sub_button"] = [button(sub) for sub in subs]
        return result

    return {"button": [button(b) for b in menu.get("button", [])]}


class Menu:
    name = "menu"
    keyed = False
    layer = 3
    attributes: tuple[str, ...] = ()
    may_refer_to = ("cards", "landing_pages", "qrcodes")
    new_badge = "new"
    panel = "menu"
    schema: Mapping[str, Any] = schema_fragment("menu")

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return validate_menu(section, locate)

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """What an apply of `section` leaves in state, references filled in from `state`; `menu: null` leaves
        no record."""
        if section is None:
            return {}
        return {self.name: MenuRecord(resolve(normal_menu(section), state_lookup(state))[0]).to_state()}

    async def plan(self, context: PlanContext) -> KindPlan:
        """Full replacement when the resolved manifest menu differs from menu/get; null deletes it. Also
        refusals: a limit a reference breaks once it is filled in (a card id as a 16-byte name), unless
        `context.locate` is None (the lookup's values are stand-ins)."""
        if not context.present:
            if context.state is None or self.name not in context.state.resources:
                return KindPlan()
            notes: list[str] = [said("no menu section any more: the live menu is left as it is")]
            return KindPlan([ResourceChange(self.name, Action.FORGET, notes=notes)])
        assert isinstance(context.live, MenuLive)
        return _plan(context, context.live)

    async def read(self, api: AccountApi | None, state: State | None) -> MenuLive:
        """menu/get and the console's menu; without `api`, the menu state says was last created."""
        if api is None:
            return MenuLive(MenuRecord.from_state(state).applied, console=False)
        return await read_menu(api)

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        """WeChat's menu is not the one wxrec last applied: someone changed it by hand."""
        applied = MenuRecord.from_state(state).applied
        if applied is not None and (change.before or {}).get("menu") != applied:
            found.live.append(entry(change, said("menu changed in WeChat by hand")))
        else:
            found.manifest.append(entry(change, said("menu edited in the manifests")))

    def applier(self, context: ApplyContext) -> Applier:
        return MenuApplier(context)


def _plan(context: PlanContext, live: MenuLive) -> KindPlan:
    found = KindPlan()
    if live.console:
        found.warnings.append(
            said("menu: a menu made in the MP console is live (menu/get cannot see it); applying replaces it")
        )
    desired = context.section
    if desired is None:
        if live.menu is None and not live.console:
            return found
        change = ResourceChange("menu", Action.DELETE, before=MenuDocument(menu=live.menu), after=None)
        if live.conditional:
            removed = said(
                "menu/delete also removes every conditional menu: {menus}", menus="; ".join(live.conditional)
            )
        else:
            removed = said("menu/delete also removes every conditional menu")
        change.notes = [removed]
        change.details = menu_tree(live.menu, None)
        found.changes.append(change)
        return found
    resolved, unknown = resolve(normal_menu(desired), context.lookup)
    if context.locate:
        found.refusals = [f"{problem} {FILLED_IN}" for problem in validate_menu(resolved, context.locate)]
    if not unknown and resolved == live.menu and not live.console:
        return found
    # With no menu live (none made by the API, none in the console), menu/create makes one: a create.
    action = Action.CREATE if live.menu is None and not live.console else Action.UPDATE
    change = ResourceChange(
        "menu", action, before=MenuDocument(menu=live.menu), after=MenuDocument(menu=normal_menu(desired))
    )
    change.details = menu_tree(live.menu, resolved)
    if unknown and action == Action.UPDATE:
        change.reasons.append(follows(unknown, GETS_NEW_URL_OR_ID))
    change.notes.append(said("menu/create replaces the whole menu"))
    found.changes.append(change)
    return found


@dataclass
class MenuApplier:
    context: ApplyContext

    async def apply(self, change: ResourceChange) -> str:
        state, save = self.context.state, self.context.save
        if change.action == Action.FORGET:
            return await forget(self.context, change)
        if change.action == Action.DELETE:
            await self.context.api.delete_menu()
            state.resources.pop("menu", None)
            await save()
            return "menu deleted"
        assert change.after is not None
        menu = resolve_known(change.address, change.after["menu"], state)
        problems = validate_menu(menu, lambda _: None)  # what only this run's ids and urls could break
        if problems:
            raise WxrecError(f"{'; '.join(map(str, problems))} {FILLED_IN}; menu/create was not called")
        await self.context.api.create_menu(menu)
        state.resources["menu"] = MenuRecord(menu).to_state()
        await save()
        return "menu replaced"


MENU = Menu()
