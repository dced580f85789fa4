"""QR codes: card codes (QR_CARD, QR_MULTIPLE_CARD) and account scene codes. Create-only (see write_only); apply
also draws each code's PNG and SVG, and a plan draws again the images that went missing."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.address import Address
from reconciler.errors import FileError, Locate, Problem, WxrecError
from reconciler.i18n import N_, said, said_n
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import Applier, ApplyContext, KindPlan, PlanContext, schema_fragment
from reconciler.resources.cards.model import DEPOSIT_MODE
from reconciler.resources.qr_images import image_paths, write_qr_images
from reconciler.resources.review import wait_for_approval
from reconciler.resources.write_only import (
    Sentences,
    WriteOnlyApplier,
    WriteOnlyDocument,
    WriteOnlyKind,
    WriteOnlyRecord,
    api_value,
)
from reconciler.state import State

CARD_QR_EXPIRY = (60, 1800)
SCENE_QR_EXPIRY_MAX = 2_592_000
PERMANENT_SCENE_IDS = (1, 100_000)


@dataclass(frozen=True)
class QRCodeRecord(WriteOnlyRecord):
    expire_at: int | None = None  # a temporary code's end (epoch seconds); None: permanent

    def to_state(self) -> dict[str, Any]:
        return {**super().to_state(), "expire_at": self.expire_at}


class QRCodes(WriteOnlyKind):
    schema: Mapping[str, Any] = schema_fragment("qrcodes")

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        """Lifetimes and scene ids WeChat refuses."""
        if not isinstance(section, Mapping):
            return []
        return [
            Problem(locate((self.name, key, *path)), ".".join(map(str, (self.name, key, *path))), message)
            for key, spec in section.items()
            if isinstance(spec, Mapping)
            for path, message in _qr_rules(spec)
        ]

    def notes(self, address: str, record: Mapping[str, Any], now: float) -> list[str]:
        """Temporary codes are created once; their expiry is shown, not planned (drift checks would fire)."""
        expire_at = record.get("expire_at")
        if isinstance(expire_at, int) and expire_at <= now:
            moment = time.strftime("%Y-%m-%d %H:%M", time.gmtime(expire_at + 8 * 3600))
            return [
                said(
                    "{address} expired at {moment} UTC+8; -replace {address} renews it", address=address, moment=moment
                )
            ]
        return []

    async def plan(self, context: PlanContext) -> KindPlan:
        found = await super().plan(context)
        if context.qrcode_dir is not None:
            recreated = context.changing | {c.address for c in found.changes if c.action == Action.CREATE}
            found.changes += self.missing_images(context.state, context.section or {}, recreated, context.qrcode_dir)
        return found

    def missing_images(
        self, state: State | None, specs: Mapping[str, Any], recreated: frozenset[str], directory: Path
    ) -> list[ResourceChange]:
        """A QR code's images are drawn from the url state keeps, so one that is missing (never written, deleted,
        lost with a CI runner) is drawn again by apply, without a WeChat call; a code made anew brings its own."""
        changes = []
        for address, record in sorted(self.records(state).items()):
            key, url = Address.parse(address).key, record.get("url")
            missing = [str(path) for path in image_paths(directory, key) if not path.is_file()]
            if key not in specs or address in recreated or not isinstance(url, str) or not missing:
                continue
            change = ResourceChange(
                address,
                Action.RENDER,
                id=record.get("id"),
                before=WriteOnlyDocument(url=url),
                after=WriteOnlyDocument(url=url),
            )
            change.reasons.append(
                said_n("{files} is missing", "{files} are missing", len(missing), files=" and ".join(missing))
            )
            changes.append(change)
        return changes

    def applier(self, context: ApplyContext) -> Applier:
        return QRCodeApplier(context)


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


def deposit_card_codes(data: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """A deposit-mode card hands out its deposited codes itself: its QR codes cannot name one ("投放接口不可传code字段",
    docs/wechat-today.md). Checked across kinds: the card's mode is in `cards`."""
    qrcodes, cards = data.get("qrcodes"), data.get("cards")
    if not isinstance(qrcodes, Mapping) or not isinstance(cards, Mapping):
        return []
    problems = []
    for key, spec in qrcodes.items():
        entries = spec.get("cards") if isinstance(spec, Mapping) else None
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, Mapping) and "code" in entry and _in_deposit_mode(cards.get(entry.get("card"))):
                path = ("qrcodes", key, "cards", index, "code")
                problems.append(
                    Problem(
                        locate(path),
                        ".".join(map(str, path)),
                        f"{Address.card(entry['card'])} is in {DEPOSIT_MODE}: WeChat hands out one of its deposited "
                        "codes itself, and its QR codes cannot name a code (remove code)",
                    )
                )
    return problems


def _in_deposit_mode(card: Any) -> bool:
    base_info = card.get("base_info") if isinstance(card, Mapping) else None
    return isinstance(base_info, Mapping) and base_info.get("get_custom_code_mode") == DEPOSIT_MODE


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


class QRCodeApplier(WriteOnlyApplier):
    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.RENDER:
            return self._images(change.address, (self.context.state.resources.get(change.address) or {}).get("url"))
        return await super().apply(change)

    async def create(self, change: ResourceChange) -> str:
        assert change.after is not None
        spec = change.after["spec"]
        resolved = self.resolved(change, api_value(spec))
        await self._await_review(change, resolved)
        body = qr_body(resolved)
        api = self.context.api
        create = api.create_card_qrcode if "cards" in resolved else api.create_scene_qrcode
        answer = await self.create_once(change, lambda: create(body))
        expiry = answer.get("expire_seconds")
        expire_at = int(time.time()) + int(expiry) if expiry else None
        await self.record(change, QRCodeRecord(answer["ticket"], answer["url"], spec, resolved, expire_at))
        try:
            images = self._images(change.address, answer["url"])
        except FileError as exc:
            raise WxrecError(f"created {answer['url']} and recorded it in state, but {exc}") from None
        return f"created {answer['url']} ({images})"

    def _images(self, address: str, url: Any) -> str:
        """Writes the code's PNG and SVG from its url (the next plan finds any that are missing)."""
        directory = self.context.qrcode_dir
        if not isinstance(url, str) or not url:
            raise WxrecError(f"{address}: state holds no url to draw the QR code from")
        try:
            png, svg = write_qr_images(url, directory, Address.parse(address).key)
        except OSError as exc:
            then = ", then run apply again: it draws the images from the url in state, without a WeChat call"
            raise FileError("write QR images into", directory, exc, then) from None
        return f"images: {png}, {svg}"

    async def _await_review(self, change: ResourceChange, resolved: Mapping[str, Any]) -> None:
        """is_unique_code needs an approved card: wait (--wait-for-review) or say so."""
        deadline = time.monotonic() + self.context.wait_for_review
        for card in resolved.get("cards", []):
            if card.get("is_unique_code"):
                await wait_for_approval(
                    self.context.card_status, card["card_id"], change.address, "is_unique_code", deadline
                )


QRCODES = QRCodes(
    "qrcodes",
    Sentences(
        new=N_("a new QR code"),
        changed=N_("the QR code changed: WeChat cannot edit it, so a new one is created"),
        old_stays=N_("the old QR code {id} keeps working until it expires: WeChat offers no way to delete it"),
        forgotten=N_(
            "removed from the manifests; it keeps working until it expires: WeChat offers no way to delete it"
        ),
        lost=N_(
            "{address}: an earlier create lost its answer, so WeChat may have made this QR code; it cannot be read "
            "back. Pass -replace {address} to create it (again)"
        ),
    ),
    layer=2,
    attributes=("url", "ticket"),
    new_badge=N_("new QR code"),
    panel="qr",
    nouns=("QR code", "QR codes"),
)
