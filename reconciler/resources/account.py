"""The account resources beside cards: landing pages, QR codes, the menu and the test whitelist.

Each kind plans purely from (manifest section, live value where WeChat has one, state, references) and
applies one change at a time, writing state after every call that changed WeChat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.address import Address, kind_of, referenced
from reconciler.errors import FileError, Location, Problem, WxrecError
from reconciler.plan import Action, AttributeChange, ResourceChange
from reconciler.resources.cards.diff import APPROVED
from reconciler.resources.menu_rules import menu_tree, validate_menu
from reconciler.resources.qr_images import image_paths, write_qr_images
from reconciler.resources.references import Lookup, resolve
from reconciler.resources.write_only import WriteOnlyKind, api_value
from reconciler.state import SaveState, State
from reconciler.wechat.account import AccountApi
from reconciler.wechat.errors import UncertainOutcome

Locate = Callable[[tuple[str | int, ...]], Location | None]

LANDING_PAGES = WriteOnlyKind("landing_pages", "landing page", "stays live: WeChat offers no way to delete a page")
QRCODES = WriteOnlyKind("qrcodes", "QR code", "keeps working until it expires: WeChat offers no way to delete it")
WHITELIST_LIMIT = 10
CARD_QR_EXPIRY = (60, 1800)
SCENE_QR_EXPIRY_MAX = 2_592_000
PERMANENT_SCENE_IDS = (1, 100_000)
REJECTED = "CARD_STATUS_VERIFY_FAIL"
FILLED_IN = "once its references are filled in"


def validate(data: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """Meaning checks of the account sections that JSON Schema cannot express."""
    problems: list[Problem] = []
    if "menu" in data:
        problems += validate_menu(data["menu"], locate)
    whitelist = data.get("whitelist")
    if isinstance(whitelist, Mapping):
        size = sum(len(v) for v in whitelist.values() if isinstance(v, list))
        if size > WHITELIST_LIMIT:
            problems.append(
                Problem(locate(("whitelist",)), "whitelist", f"has {size} entries; WeChat allows {WHITELIST_LIMIT}")
            )
    qrcodes = data.get("qrcodes")
    if isinstance(qrcodes, Mapping):
        for key, spec in qrcodes.items():
            if isinstance(spec, Mapping):
                problems += [
                    Problem(locate(("qrcodes", key, *p)), ".".join(map(str, ("qrcodes", key, *p))), m)
                    for p, m in _qr_rules(spec)
                ]
    return problems


def _qr_rules(spec: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    action, expiry = spec.get("action_name"), spec.get("expire_seconds")
    found: list[tuple[tuple[str, ...], str]] = []
    if action in ("QR_CARD", "QR_MULTIPLE_CARD") and isinstance(expiry, int):
        low, high = CARD_QR_EXPIRY
        if not low <= expiry <= high:
            found.append((("expire_seconds",), f"card QR codes live {low}–{high} seconds (leave it out for 365 days)"))
    if action in ("QR_SCENE", "QR_STR_SCENE") and isinstance(expiry, int) and expiry > SCENE_QR_EXPIRY_MAX:
        found.append(
            (("expire_seconds",), f"temporary scene codes live at most {SCENE_QR_EXPIRY_MAX} seconds (30 days)")
        )
    if action in ("QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE") and expiry is not None:
        found.append((("expire_seconds",), f"{action} codes are permanent: remove expire_seconds"))
    scene_id = spec.get("scene_id")
    low, high = PERMANENT_SCENE_IDS
    if action == "QR_LIMIT_SCENE" and isinstance(scene_id, int) and not low <= scene_id <= high:
        found.append((("scene_id",), f"permanent scene ids run {low}–{high}"))
    return found


def state_lookup(state: State | None, changing: frozenset[str] = frozenset()) -> Lookup:
    """References answered from state; unknown (None) for what this run creates or replaces."""

    def lookup(address: str, attribute: str) -> str | None:
        if state is None or address in changing:
            return None
        record = state.resources.get(address)
        if record is None:
            return None
        value = record.get("id") if attribute in ("id", "page_id", "ticket") else record.get(attribute)
        return None if value is None else str(value)

    return lookup


def qr_expiry_notes(now: float) -> Callable[[str, Mapping[str, Any]], list[str]]:
    """Temporary codes are created once; their expiry is shown, not planned (drift checks would fire)."""

    def notes(address: str, record: Mapping[str, Any]) -> list[str]:
        expire_at = record.get("expire_at")
        if isinstance(expire_at, int) and expire_at <= now:
            moment = time.strftime("%Y-%m-%d %H:%M", time.gmtime(expire_at + 8 * 3600))
            return [f"{address} expired at {moment} UTC+8; -replace {address} renews it"]
        return []

    return notes


def plan_qr_images(
    state: State | None, specs: Mapping[str, Any], recreated: set[str], directory: Path
) -> list[ResourceChange]:
    """A QR code's images are drawn from the url state keeps, so one that is missing (never written, deleted,
    lost with a CI runner) is drawn again by apply, without a WeChat call; a code made anew brings its own."""
    changes = []
    for address, record in sorted(QRCODES.records(state).items()):
        key, url = Address.parse(address).key, record.get("url")
        missing = [str(path) for path in image_paths(directory, key) if not path.is_file()]
        if key not in specs or address in recreated or not isinstance(url, str) or not missing:
            continue
        change = ResourceChange(address, Action.RENDER, id=record.get("id"), before={"url": url}, after={"url": url})
        change.reasons.append(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
        changes.append(change)
    return changes


@dataclass
class MenuLive:
    menu: dict[str, Any] | None
    console: bool  # a menu made in the MP console, which menu/get cannot see


async def read_menu(api: AccountApi) -> MenuLive:
    menu, console = await asyncio.gather(api.menu(), api.console_menu())
    made_in_console = menu is None and bool(console.get("is_menu_open")) and bool(console.get("selfmenu_info"))
    return MenuLive(normal_menu(menu) if menu else None, made_in_console)


async def wait_for_approval(
    card_status: Callable[[str], Awaitable[str | None]], card_id: str, address: str, purpose: str, deadline: float
) -> None:
    """Some actions need an approved card: wait until the monotonic `deadline` (--wait-for-review) or say so."""
    while (status := await card_status(card_id)) != APPROVED:
        if status == REJECTED:
            raise WxrecError(f"{address}: card {card_id} was rejected in review ({status}): fix the card")
        if time.monotonic() >= deadline:
            raise WxrecError(
                f"{address}: {purpose} needs approved card {card_id} ({status}); apply again after review, "
                "or pass --wait-for-review DURATION"
            )
        await asyncio.sleep(min(5.0, max(deadline - time.monotonic(), 0.1)))


def normal_menu(menu: Mapping[str, Any]) -> dict[str, Any]:
    """menu/get's shape and the manifest's compared alike: no empty sub_button lists, no menuid."""

    def button(item: Mapping[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in item.items() if k != "sub_button"}
        subs = item.get("sub_button") or []
        if subs:
            result["sub_button"] = [button(sub) for sub in subs]
        return result

    return {"button": [button(b) for b in menu.get("button", [])]}


def plan_menu(
    present: bool, desired: Any, live: MenuLive | None, state: State | None, lookup: Lookup, locate: Locate | None
) -> tuple[list[ResourceChange], list[str], list[str]]:
    """Full replacement when the resolved manifest menu differs from menu/get; null deletes it. Also refusals:
    a limit a reference breaks once it is filled in (a card id as a 16-byte name), unless `locate` is None
    (the lookup's values are stand-ins)."""
    record = state.resources.get("menu") if state else None
    if not present:
        if record is None:
            return [], [], []
        return (
            [ResourceChange("menu", Action.FORGET, notes=["no menu section any more: the live menu is left as it is"])],
            [],
            [],
        )
    assert live is not None
    warnings = []
    if live.console:
        warnings.append("menu: a menu made in the MP console is live (menu/get cannot see it); applying replaces it")
    if desired is None:
        if live.menu is None and not live.console:
            return [], [], warnings
        change = ResourceChange("menu", Action.DELETE, before={"menu": live.menu}, after=None)
        change.notes = ["menu/delete also removes every conditional menu"]
        change.details = menu_tree(live.menu, None)
        return [change], [], warnings
    resolved, unknown = resolve(normal_menu(desired), lookup)
    refusals = [f"{problem} {FILLED_IN}" for problem in validate_menu(resolved, locate)] if locate else []
    if not unknown and resolved == live.menu and not live.console:
        return [], refusals, warnings
    change = ResourceChange("menu", Action.UPDATE, before={"menu": live.menu}, after={"menu": normal_menu(desired)})
    change.details = menu_tree(live.menu, resolved)
    if unknown:
        targets = sorted({referenced(u) for u in unknown})
        change.reasons.append(f"re-pointed because {', '.join(targets)} gets a new url or id (known after apply)")
    change.notes.append("menu/create replaces the whole menu")
    return [change], refusals, warnings


def plan_whitelist(present: bool, desired: Any, state: State | None) -> list[ResourceChange]:
    """No API reads the whitelist back: compare with what wxrec last set."""
    record = state.resources.get("whitelist") if state else None
    if not present:
        if record is None:
            return []
        return [ResourceChange("whitelist", Action.FORGET, notes=["no whitelist section any more: left as it is"])]
    wanted = whitelist_value(desired)
    applied = (record or {}).get("applied")
    if applied == wanted:
        return []
    change = ResourceChange("whitelist", Action.UPDATE, before={"whitelist": applied}, after={"whitelist": wanted})
    for name in ("openid", "username"):
        old, new = (applied or {}).get(name, []), wanted[name]
        if old != new:
            change.changes.append(AttributeChange(f"whitelist.{name}", old, new))
    change.notes.append("WeChat cannot read the whitelist back: compared with what wxrec last applied")
    return [change]


def whitelist_value(desired: Any) -> dict[str, list[str]]:
    desired = desired or {}
    return {"openid": sorted(desired.get("openid", [])), "username": sorted(desired.get("username", []))}


def qr_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """cgi-bin or card QR request body from the manifest's (already resolved) shape."""
    body: dict[str, Any] = {"action_name": spec["action_name"]}
    if "expire_seconds" in spec:
        body["expire_seconds"] = spec["expire_seconds"]
    action = spec["action_name"]
    if action == "QR_CARD":
        body["action_info"] = {"card": spec["cards"][0]}
    elif action == "QR_MULTIPLE_CARD":
        body["action_info"] = {"multiple_card": {"card_list": spec["cards"]}}
    else:
        scene = {k: spec[k] for k in ("scene_id", "scene_str") if k in spec}
        body["action_info"] = {"scene": scene}
    return body


@dataclass
class AccountApplier:
    """Carries out landing page, QR code, menu and whitelist changes."""

    api: AccountApi
    state: State
    save: SaveState
    qrcode_dir: Path
    card_status: Callable[[str], Awaitable[str | None]]
    wait_for_review: float = 0.0

    def lookup(self) -> Lookup:
        return state_lookup(self.state)

    async def apply(self, change: ResourceChange) -> str:
        kind = kind_of(change.address)
        if change.action == Action.FORGET:
            self.state.resources.pop(change.address, None)
            await self.save()
            return "forgotten (nothing changed in WeChat)"
        if kind == "landing_pages":
            return await self._landing_page(change)
        if change.action == Action.RENDER:
            return self._images(change.address, (self.state.resources.get(change.address) or {}).get("url"))
        if kind == "qrcodes":
            return await self._qrcode(change)
        if kind == "menu":
            return await self._menu(change)
        return await self._whitelist(change)

    def _resolved(self, change: ResourceChange, value: Any) -> Any:
        resolved, unknown = resolve(value, self.lookup())
        if unknown:
            raise WxrecError(f"{change.address}: {', '.join(unknown)} is not known: did the change it depends on fail?")
        return resolved

    async def _create_once(
        self, change: ResourceChange, create: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Write-only creates: an intent first; a lost answer leaves it, so the next plan says it is uncertain."""
        self.state.intents[change.address] = {"action": "create", "started": int(time.time())}
        await self.save()
        try:
            return await create()
        except UncertainOutcome as exc:
            raise WxrecError(
                f"{change.address}: {exc}. WeChat may have made it and it cannot be read back; the next plan "
                f"refuses to create another unless -replace {change.address} says so"
            ) from None
        except WxrecError:
            self.state.intents.pop(change.address, None)  # WeChat answered with an error: nothing was made
            await self.save()
            raise

    async def _record(self, change: ResourceChange, spec: Any, resolved: Any, **values: Any) -> None:
        self.state.resources[change.address] = {"applied": spec, "resolved": resolved, **values}
        self.state.intents.pop(change.address, None)
        await self.save()

    async def _landing_page(self, change: ResourceChange) -> str:
        assert change.after is not None
        spec = change.after["spec"]
        body = self._resolved(change, api_value(spec))
        answer = await self._create_once(change, lambda: self._page(body))
        await self._record(change, spec, body, id=answer["page_id"], url=answer["url"])
        return f"created page {answer['page_id']}: {answer['url']}"

    async def _page(self, body: dict[str, Any]) -> dict[str, Any]:
        page_id, url = await self.api.create_landing_page(body)
        return {"page_id": page_id, "url": url}

    async def _qrcode(self, change: ResourceChange) -> str:
        assert change.after is not None
        spec = change.after["spec"]
        resolved = self._resolved(change, api_value(spec))
        await self._await_review(change, resolved)
        body = qr_body(resolved)
        create = self.api.create_card_qrcode if "cards" in resolved else self.api.create_scene_qrcode
        answer = await self._create_once(change, lambda: create(body))
        expiry = answer.get("expire_seconds")
        expire_at = int(time.time()) + int(expiry) if expiry else None
        await self._record(change, spec, resolved, id=answer["ticket"], url=answer["url"], expire_at=expire_at)
        try:
            images = self._images(change.address, answer["url"])
        except FileError as exc:
            raise WxrecError(f"created {answer['url']} and recorded it in state, but {exc}") from None
        return f"created {answer['url']} ({images})"

    def _images(self, address: str, url: Any) -> str:
        """Writes the code's PNG and SVG from its url (the next plan finds any that are missing)."""
        if not isinstance(url, str) or not url:
            raise WxrecError(f"{address}: state holds no url to draw the QR code from")
        try:
            png, svg = write_qr_images(url, self.qrcode_dir, Address.parse(address).key)
        except OSError as exc:
            then = ", then run apply again: it draws the images from the url in state, without a WeChat call"
            raise FileError("write QR images into", self.qrcode_dir, exc, then) from None
        return f"images: {png}, {svg}"

    async def _await_review(self, change: ResourceChange, resolved: Mapping[str, Any]) -> None:
        """is_unique_code needs an approved card: wait (--wait-for-review) or say so."""
        deadline = time.monotonic() + self.wait_for_review
        for card in resolved.get("cards", []):
            if card.get("is_unique_code"):
                await wait_for_approval(self.card_status, card["card_id"], change.address, "is_unique_code", deadline)

    async def _menu(self, change: ResourceChange) -> str:
        if change.action == Action.DELETE:
            await self.api.delete_menu()
            self.state.resources.pop("menu", None)
            await self.save()
            return "menu deleted"
        assert change.after is not None
        menu = self._resolved(change, change.after["menu"])
        problems = validate_menu(menu, lambda _: None)  # what only this run's ids and urls could break
        if problems:
            raise WxrecError(f"{'; '.join(map(str, problems))} {FILLED_IN}; menu/create was not called")
        await self.api.create_menu(menu)
        self.state.resources["menu"] = {"applied": menu}
        await self.save()
        return "menu replaced"

    async def _whitelist(self, change: ResourceChange) -> str:
        assert change.after is not None
        wanted = change.after["whitelist"]
        await self.api.set_whitelist(wanted["openid"], wanted["username"])
        self.state.resources["whitelist"] = {"applied": wanted}
        await self.save()
        return f"whitelist set ({len(wanted['openid']) + len(wanted['username'])} entries)"
