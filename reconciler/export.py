"""`wxrec export`: a live account written out as manifests and state, so that the next plan says "No changes".

Reading the account is I/O at the edge (`read_account`); turning what was read into manifest files and
state is a pure function (`export_account`); writing them is I/O again (`write_export`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pypinyin import lazy_pinyin

from reconciler.address import Address, kind_of
from reconciler.errors import WxrecError
from reconciler.exported_card import manifest_card
from reconciler.manifest import schema_problems
from reconciler.manifest.loader import Document
from reconciler.resources import cards, kinds
from reconciler.resources.base import ReadsLive, ReadsPay, Resource
from reconciler.resources.cards.model import LiveCard, Palette, desired_card
from reconciler.resources.cards.resource import CARDS
from reconciler.resources.conditional_menus import (
    CONDITIONAL_MENUS,
    PRIVACY_FIELDS,
    ConditionalLive,
    ConditionalRecord,
    read_conditional,
)
from reconciler.resources.menu import MENU, MenuLive, describe_rule, read_menu
from reconciler.resources.pay_coupons.exported import exported_record, manifest_stock
from reconciler.resources.pay_coupons.model import KIND as PAY_COUPONS
from reconciler.resources.pay_coupons.planning import read_stocks
from reconciler.resources.references import references_in
from reconciler.resources.tags import TAGS, TagRecord, TagsLive, read_tags
from reconciler.state import State, StateBackend
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi

# Long enough to tell titles apart, short enough to type: a key is cut at a word boundary after this.
KEY_LENGTH = 40
# The files export writes: account.yaml, menu.yaml, tags.yaml, conditional-menus.yaml, pay-coupons.yaml, and
# cards.yaml (cards-1.yaml, cards-2.yaml … for big accounts).
EXPORT_FILE = re.compile(r"^(account|menu|tags|conditional-menus|pay-coupons|cards(-[0-9]+)?)\.yaml$")
# Half the loader's limit per file (MAX_FILE_BYTES): ten thousand cards make about 6 MiB of YAML.
CARDS_FILE_BYTES = 4 * 2**20
UNREADABLE = (
    "landing pages, QR codes and the test whitelist cannot be read back from WeChat (there is no API for it), "
    "so they are not exported: declare them by hand. A new declaration makes a new page or code"
)
# Under each exported member card: what card/get cannot show (resources/card_settings.py).
SETTINGS_UNREADABLE = (
    "activate_user_form, pay_cell and self_consume_cell cannot be read back from WeChat, so they are not exported: "
    "declare them here by hand (the next apply sets them)"
)
# libyaml's emitter where PyYAML was built with it: the pure-Python one takes seconds for a thousand cards.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class LiveAccount:
    """What `wxrec export` read: every card that still exists (any status), the menu, the user tags and the
    conditional menus."""

    palette: Palette
    cards: list[LiveCard]
    menu: MenuLive
    tags: TagsLive = field(default_factory=TagsLive)
    conditional: ConditionalLive = field(default_factory=ConditionalLive)
    mchid: str | None = None  # the WeChat Pay merchant whose stocks were read (--mchid)
    stocks: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # stock id → query answer; None: none


@dataclass(frozen=True)
class ExportedCard:
    key: str
    card: LiveCard
    spec: dict[str, Any]
    dropped: tuple[str, ...]  # live fields the manifest cannot carry; wxrec leaves them alone


@dataclass
class Export:
    files: dict[str, str]
    resources: dict[str, dict[str, Any]]
    palette: dict[str, str]
    cards: list[ExportedCard] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def read_account(
    api: CardApi,
    parallelism: int,
    progress: Callable[[int], Callable[[], None]] | None = None,
    mchid: str | None = None,
    stock_ids: Iterable[str] = (),
) -> LiveAccount:
    """Every card and the menu; with merchant `mchid` (whose client `api.pay` is), the stocks `stock_ids` names
    (there is no list)."""
    palette = Palette(await api.colours())
    ids = await api.list_ids()
    on_read = progress(len(ids)) if progress else None
    found = await cards.read_cards(api, ids, parallelism, palette, on_read)
    account = AccountApi(api.client)
    menu, tags, conditional = await read_menu(account), await read_tags(account), await read_conditional(account)
    stocks = (await read_stocks(api.pay, None, stock_ids)).stocks if api.pay is not None else {}
    live_cards = [card for card in found.values() if card is not None]
    return LiveAccount(palette, live_cards, menu, tags, conditional, mchid, stocks)


def export_account(appid: str, live: LiveAccount) -> Export:
    """Manifest files and state records for a live account; the next plan of them is empty."""
    keys = card_keys((card.id, str(card.fields.get("base_info.title", "")), _created(card)) for card in live.cards)
    exported: list[ExportedCard] = []
    notes: list[str] = []
    for card in sorted(live.cards, key=lambda c: keys[c.id]):
        spec, dropped, refusal = manifest_card(keys[card.id], card, live.palette)
        if spec is None:
            notes.append(f"{card.id} ({card.card_type}) is not exported: {refusal}; it stays unmanaged")
        else:
            exported.append(ExportedCard(keys[card.id], card, spec, dropped))
    resources = {
        str(Address.card(c.key)): cards.record_document(desired_card(c.key, c.spec, live.palette), c.card.id)
        for c in exported
    }
    account = {"appid": appid, **({"mchid": live.mchid} if live.mchid else {})}
    files = {"account.yaml": _dump({"account": account}), **cards_files(exported)}
    if live.mchid and live.stocks:
        stocks, records, missing = _stocks(live.mchid, live.stocks)
        if stocks:
            files["pay-coupons.yaml"] = _dump({PAY_COUPONS: stocks})
        resources.update(records)
        notes += [f"WeChat Pay has no stock {stock_id} for merchant {live.mchid}: not exported" for stock_id in missing]
    menu_note = _menu_note(live.menu)
    if menu_note:
        notes.append(menu_note)
    elif live.menu.menu is not None:
        files["menu.yaml"] = _dump({"menu": live.menu.menu})
        resources["menu"] = {"applied": live.menu.menu}
    tags = exported_tags(live.tags)
    if tags:
        files["tags.yaml"] = _dump({"tags": {key: {"name": record.name} for key, record in tags.items()}})
        resources.update({str(Address(TAGS.name, key)): record.to_state() for key, record in tags.items()})
    menus, records, skipped = exported_conditional(live.conditional, tags)
    if menus:
        files["conditional-menus.yaml"] = _dump({CONDITIONAL_MENUS.name: menus})
        resources.update(records)
    notes += skipped
    notes.append(UNREADABLE)
    return Export(files, resources, dict(live.palette.names), exported, notes)


def exported_tags(live: TagsLive) -> dict[str, TagRecord]:
    """Key → record for every tag but WeChat's reserved ones (tags/get's read leaves them out): the name's slug,
    and the id after it where two names make one slug. Oldest id first, so a later tag never renames one."""
    found: dict[str, TagRecord] = {}
    for tag_id, tag in sorted(live.tags.items(), key=lambda item: int(item[0])):
        key = slug(tag.name)
        found[key if key not in found else f"{key}-{tag_id}"] = TagRecord(tag_id, tag.name)
    return found


def exported_conditional(
    live: ConditionalLive, tags: Mapping[str, TagRecord]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """Manifest entries (key → spec) and state records of the live conditional menus, and a note for each one a
    manifest cannot declare. A rule on an exported tag names it (`tag: KEY`), so the menu follows the tag; keys come
    from the rule (the tag's key, the platform), the menuid after one taken, oldest menuid first."""
    tag_keys = {record.id: key for key, record in tags.items()}
    specs: dict[str, Any] = {}
    records: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for menuid, menu in sorted(live.menus.items(), key=lambda item: int(item[0])):
        rule = dict(menu["matchrule"])
        tag_key = tag_keys.get(rule.get("tag_id", ""))
        if tag_key is not None:
            rule = {"tag": tag_key, **{k: v for k, v in rule.items() if k != "tag_id"}}
        spec = {"matchrule": rule, "button": menu["button"]}
        key = _conditional_key(rule)
        key = key if key not in specs else f"{key}-{menuid}"
        refusal = _conditional_refusal(key, spec)
        if refusal:
            notes.append(f"conditional menu {menuid} ({describe_rule(menu['matchrule'])}) {refusal}: not exported")
            continue
        specs[key] = spec
        records[str(Address(CONDITIONAL_MENUS.name, key))] = ConditionalRecord(menuid, menu).to_state()
    return specs, records, notes


def _conditional_key(rule: Mapping[str, str]) -> str:
    """`vip`, `vip-ios`, `tag-105`, `android`: who the menu is for."""
    platform = {"1": "ios", "2": "android", "3": "other"}.get(rule.get("client_platform_type", ""))
    tag = rule.get("tag") or (f"tag-{rule['tag_id']}" if "tag_id" in rule else None)
    return "-".join(part for part in (tag, platform) if part) or "menu"


def _conditional_refusal(key: str, spec: Mapping[str, Any]) -> str | None:
    """Why a live conditional menu cannot be a manifest's, or None: a rule WeChat no longer matches on, a value a
    manifest would read as a reference, or a limit WeChat's documents set that it breaks."""
    dead = [name for name in PRIVACY_FIELDS if name in spec["matchrule"]]
    if dead:
        return f"matches on {', '.join(dead)}, which WeChat dropped (it matches nobody)"
    if any(references_in(spec["button"])):
        return "has a value a manifest would read as a reference (${…})"
    document = Document(data={CONDITIONAL_MENUS.name: {key: spec}})
    problems = schema_problems(document) + CONDITIONAL_MENUS.validate({key: spec}, document.locate)
    return f"breaks WeChat's documented limits ({'; '.join(map(str, problems))})" if problems else None


def _stocks(
    mchid: str, live: Mapping[str, dict[str, Any] | None]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """WeChat Pay stocks as manifest entries keyed by their names (as cards by their titles), their records, and
    the ids WeChat Pay does not know."""
    found = {stock_id: stock for stock_id, stock in live.items() if stock is not None}
    keys = card_keys((stock_id, str(stock.get("stock_name", "")), 0) for stock_id, stock in found.items())
    stocks = {keys[i]: manifest_stock(found[i]) for i in sorted(found, key=lambda i: keys[i])}
    records = {str(Address(PAY_COUPONS, keys[i])): exported_record(i, stocks[keys[i]], mchid) for i in sorted(found)}
    return stocks, records, sorted(set(live) - set(found))


def _menu_note(menu: MenuLive) -> str | None:
    if menu.console:
        return "the menu was made in the MP console and menu/get cannot read it: not exported"
    if menu.menu is None:
        return None
    problems = MENU.validate(menu.menu, lambda path: None)
    if any(references_in(menu.menu)):
        return "the live menu has a value a manifest would read as a reference (${…}): not exported"
    if problems:
        return "the live menu breaks WeChat's documented limits (" + "; ".join(map(str, problems)) + "): not exported"
    return None


def _created(card: LiveCard) -> int:
    created = card.extra.get("create_time", 0)
    return int(created) if isinstance(created, int | str) and str(created).isdigit() else 0


# ---------------------------------------------------------------- keys


def slug(title: str, limit: int = KEY_LENGTH) -> str:
    """A key from a title: pinyin for Chinese (拿铁券 → na-tie-quan), ASCII kept and lower-cased, anything
    else a dash, cut at a word boundary."""
    words = "-".join(lazy_pinyin(title))
    ascii_only = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    if len(text) > limit:
        cut = text[: limit + 1]
        text = cut.rsplit("-", 1)[0] if "-" in cut else text[:limit]
    return text.strip("-") or "card"


def card_keys(cards: Iterable[tuple[str, str, int]]) -> dict[str, str]:
    """Card id → key, from (card id, title, create_time). The oldest card of a title gets the bare slug, the
    others a suffix from a hash of their id: the same account gives the same keys in any order, and a card
    added later never renames the ones exported before."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for card_id, title, created in cards:
        groups.setdefault(slug(title), []).append((created, card_id))
    taken = set(groups)
    keys: dict[str, str] = {}
    for base in sorted(groups):
        (_, first), *others = sorted(groups[base])
        keys[first] = base
        for _, card_id in others:
            keys[card_id] = _suffixed(base, card_id, taken)
            taken.add(keys[card_id])
    return keys


def _suffixed(base: str, card_id: str, taken: set[str]) -> str:
    digest = hashlib.sha256(card_id.encode("utf-8")).hexdigest()
    for length in range(6, len(digest) + 1):
        candidate = f"{base}-{digest[:length]}"
        if candidate not in taken:
            return candidate
    raise AssertionError(f"no free key for {card_id}")  # 64 hex digits of SHA-256 are unique


# ---------------------------------------------------------------- YAML


def _dump(data: Any) -> str:
    # width: no folding of long descriptions; allow_unicode: 拿铁, not \u62ff\u94c1.
    text: str = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=2**16)
    return text


def cards_files(exported: Iterable[ExportedCard], limit: int = CARDS_FILE_BYTES) -> dict[str, str]:
    """The cards in key order, each under a comment saying where it came from: `cards.yaml`, or, past `limit`
    bytes, `cards-1.yaml`, `cards-2.yaml` … (the loader refuses files over 8 MiB)."""
    chunks: list[list[str]] = [[]]
    size = 0
    for item in sorted(exported, key=lambda c: c.key):
        text = card_yaml(item)
        if chunks[-1] and size + len(text.encode("utf-8")) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += len(text.encode("utf-8"))
    if len(chunks) == 1:
        return {"cards.yaml": "cards:\n" + "".join(chunks[0]) if chunks[0] else "cards: {}\n"}
    return {f"cards-{number}.yaml": "cards:\n" + "".join(chunk) for number, chunk in enumerate(chunks, 1)}


def card_yaml(item: ExportedCard) -> str:
    comment = f"  # {item.card.id} · {item.card.status}"
    if item.dropped:
        comment += f" · not managed (the manifest cannot carry them): {', '.join(item.dropped)}"
    if item.card.card_type == "MEMBER_CARD":
        comment += f"\n  # {SETTINGS_UNREADABLE}"
    lines = [comment] + [f"  {line}" if line else line for line in _dump({item.key: item.spec}).splitlines()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- writing


def existing_manifests(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def write_export(directory: Path, export: Export, backend: StateBackend, state: State) -> str | None:
    """Write the manifest files, then state (the caller holds the lock). A crash between the two leaves
    manifests without state, which plan refuses to duplicate (see "Lost state"), never state without manifests.
    Returns where the previous state was kept, if there was one."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(export.files.items()):
        _write_atomically(directory / name, text)
    for stale in existing_manifests(directory):
        if EXPORT_FILE.match(stale.name) and stale.name not in export.files:
            stale.unlink()  # only with --force: an old export's menu or extra cards file must not linger
    had_state = bool(state.resources) or state.serial > 0
    replaced = {kind.name for kind in kinds() if _read_back(kind)}
    state.resources = {a: record for a, record in state.resources.items() if kind_of(a) not in replaced}
    state.resources.update(export.resources)
    state.intents = {a: intent for a, intent in state.intents.items() if kind_of(a) not in replaced}
    state.palette = export.palette
    if had_state:
        return backend.write_with_backup(state)
    backend.write(state)
    return None


def _read_back(kind: Resource) -> bool:
    """Whether export --force replaces the kind's records: the cards, what is declared inside them (a kind with no
    section of its own) and every kind read from WeChat. A record kept beside its re-keyed export (tags.vip beside
    tags.gao-ji-hui-yuan, the same id) would be deleted by the next plan. The others' records (QR codes, landing
    pages, the whitelist, codes ledgers) cannot be read back, so they stay."""
    return kind.name == CARDS.name or "section" not in kind.schema or isinstance(kind, (ReadsLive, ReadsPay))


def _write_atomically(target: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def refuse_to_clobber(directory: Path, state: State | None, force: bool) -> None:
    """Never overwrite a user's manifests or state silently; never write beside manifests export did not write,
    which would merge with its files (a section defined twice, a card declared twice)."""
    found = existing_manifests(directory)
    foreign = [p.name for p in found if not EXPORT_FILE.match(p.name)]
    if foreign:
        raise WxrecError(
            f"{directory} has manifests export does not write ({', '.join(foreign)}), which would merge with the "
            "exported ones: export into an empty directory"
        )
    if force:
        return
    if found:
        names = ", ".join(p.name for p in found)
        raise WxrecError(f"{directory} already has manifests ({names}); pass --force to overwrite them")
    if state is not None and state.resources:
        raise WxrecError(f"state already manages {len(state.resources)} address(es); pass --force to replace it")
