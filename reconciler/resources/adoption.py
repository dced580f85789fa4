"""`import:` and `moved:` blocks: adopting a live card, or renaming an address, through reviewed manifests.

Both change state only. Planning is pure: the blocks turn state into the view that an apply of them would
leave, and the rest of the plan diffs the manifests against that view, so one plan shows the import or
the rename and the real field changes after it. Once applied, a block is a no-op, as in Terraform.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypedDict

from reconciler.address import Address, kind_of
from reconciler.errors import JsonPath, Locate, Problem, WxrecError
from reconciler.hints import state_command
from reconciler.i18n import said
from reconciler.plan import Action, ResourceChange
from reconciler.resources import find, kinds
from reconciler.resources.base import (
    Adopts,
    ImportContext,
    Imports,
    ImportsById,
    ReadsLive,
    ownership_refusal,
    unsettled,
)
from reconciler.resources.cards.adopt import card_refusal, import_refusal
from reconciler.resources.cards.diff import adopted_record, desired_document, desired_from_document, live_document
from reconciler.resources.cards.model import DesiredCard, LiveCard, Palette, live_card
from reconciler.resources.cards.record import CardRecord
from reconciler.resources.reference_rules import declared
from reconciler.state import SaveState, State
from reconciler.wechat.cards import CardApi

# The live cards a plan read, by id; None when it read none (--refresh=false, `wxrec diff`).
LiveCards = Mapping[str, LiveCard | None] | None


class MovedDocument(TypedDict):
    """A move's `before` (plan.schema.json's `other`): the address state knew it by."""

    address: str


@dataclass(frozen=True)
class Import:
    to: str
    id: str


@dataclass(frozen=True)
class Move:
    source: str
    to: str


def blocks(data: Mapping[str, Any]) -> tuple[list[Import], list[Move]]:
    """The (already valid) blocks of the manifests; the imports adopted here: cards' and those of the kinds that
    are `Adopts` (a kind planning its imports itself, as pay_coupons, reads them from PlanContext.imports)."""
    imports = [Import(str(i["to"]), str(i["id"])) for i in data.get("import") or [] if adopted_here(i["to"])]
    moves = [Move(str(item["from"]), str(item["to"])) for item in data.get("moved") or []]
    return imports, moves


def adopted_here(address: str) -> bool:
    """Whether this module plans and applies the imports of `address`'s kind: cards', and every `Adopts` kind's
    (a kind adopting by its own ids, as pay_coupons, plans and applies its imports itself)."""
    kind = kind_of(address)
    return kind == "cards" or isinstance(find(kind), Adopts)


# ---------------------------------------------------------------- validation


def validate(data: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """What the schema cannot say: addresses declared (or gone), and no two blocks about one address."""
    if not _lists(data):
        return []
    addresses = declared(data)
    problems: list[Problem] = []

    def problem(path: JsonPath, message: str) -> None:
        problems.append(Problem(locate(path), ".".join(map(str, path)), message))

    targets: dict[str, str] = {}
    ids: dict[str, str] = {}
    for index, item in enumerate(data.get("import") or []):
        here = f"import[{index}]"
        if item["to"] not in addresses:
            problem(("import", index, "to"), f"{item['to']} is not declared in the manifests")
        if item["to"] in targets:
            problem(("import", index, "to"), f"{item['to']} is also the target of {targets[item['to']]}")
        if item["id"] in ids:
            problem(("import", index, "id"), f"{item['id']} is also imported by {ids[item['id']]}")
        targets.setdefault(item["to"], here)
        ids.setdefault(item["id"], here)
    sources: dict[str, str] = {}
    for index, item in enumerate(data.get("moved") or []):
        here = f"moved[{index}]"
        source, to = item["from"], item["to"]
        if kind_of(source) != kind_of(to):
            problem(("moved", index, "to"), f"a {kind_of(source)} address cannot become a {kind_of(to)} one")
        if source == to:
            problem(("moved", index, "to"), "is the same address as from")
        if source in addresses:
            problem(
                ("moved", index, "from"), f"{source} is still declared: a renamed address is gone from the manifests"
            )
        if to not in addresses:
            problem(("moved", index, "to"), f"{to} is not declared in the manifests")
        if to in targets:
            problem(("moved", index, "to"), f"{to} is also the target of {targets[to]}")
        if source in sources:
            problem(("moved", index, "from"), f"{source} is also moved by {sources[source]}")
        targets.setdefault(to, here)
        sources.setdefault(source, here)
    for index, item in enumerate(data.get("moved") or []):
        if item["to"] in sources:
            problem(
                ("moved", index, "to"),
                f"{item['to']} is moved on by {sources[item['to']]}: chains are not followed, move "
                f"{item['from']} to the final address directly",
            )
    return problems


def _lists(data: Mapping[str, Any]) -> bool:
    """Both blocks are lists of objects with their fields as strings (the schema reports anything else)."""
    for name, fields in (("import", {"to", "id"}), ("moved", {"from", "to"})):
        section = data.get(name) or []
        if not isinstance(section, list):
            return False
        for item in section:
            if not isinstance(item, Mapping) or not all(isinstance(item.get(f), str) for f in fields):
                return False
    return True


# ---------------------------------------------------------------- planning


@dataclass
class Adoption:
    """State as the blocks would leave it, the changes that get it there, and why some cannot apply."""

    view: State | None
    changes: list[ResourceChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def plan_adoptions(
    imports: list[Import],
    moves: list[Move],
    state: State | None,
    live: LiveCards,
    desired: Mapping[str, DesiredCard],
    kinds_live: Mapping[str, Any] | None = None,
    state_invocation: str = ".",
) -> Adoption:
    """`kinds_live`: what each kind's `read` hook returned, for the imports of kinds besides cards;
    `state_invocation`: how the refusals' commands name the run's state (Options.state_invocation)."""
    if not imports and not moves:
        return Adoption(state)
    base = state or State(appid="", endpoint="")
    view = replace(base, resources=dict(base.resources))
    adoption = Adoption(view)
    for move in moves:
        _plan_move(move, view, adoption, state_invocation)
    for block in imports:
        kind = find(kind_of(block.to))
        if isinstance(kind, Adopts):
            kind_live = (kinds_live or {}).get(kind.name)
            adopt = partial(_kind_adoption, kind, block.to, block.id, kind_live, view)
        else:
            adopt = partial(_card_adoption, block, view, live, desired[block.to])
        _plan_import(block, view, adoption, state_invocation, adopt)
    return adoption


def _plan_move(move: Move, view: State, adoption: Adoption, state_invocation: str) -> None:
    present = (move.source in view.resources, move.to in view.resources)
    busy = [address for address in (move.source, move.to) if address in view.intents]
    if busy:
        adoption.refusals.append(said("moved: {refusal}", refusal=unsettled(busy[0])))
    elif present == (True, True):
        adoption.refusals.append(
            said(
                "moved: both {old} and {new} are in state; let one go with `{old_command}` or `{new_command}`",
                old=move.source,
                new=move.to,
                old_command=state_command("rm", state_invocation, move.source),
                new_command=state_command("rm", state_invocation, move.to),
            )
        )
    elif present == (True, False):
        record = view.resources.pop(move.source)
        view.resources[move.to] = record
        change = ResourceChange(move.to, Action.MOVE, id=record.get("id"), before=MovedDocument(address=move.source))
        change.reasons = [said("a moved block renames {old} to {new}", old=move.source, new=move.to)]
        adoption.changes.append(change)
    # Only the new address in state: already moved. Neither: nothing to move (a fresh state creates it).


# The import an adoption plans and the record it leaves in state, or why it cannot be.
Adopted = tuple[ResourceChange, dict[str, Any]] | str


def _plan_import(
    block: Import, view: State, adoption: Adoption, state_invocation: str, adopt: Callable[[], Adopted]
) -> None:
    """An import block of any kind: a no-op once applied, refused for an id another address holds (or while the
    address holds another), else what `adopt` (the kind's own checks) says."""
    record = view.resources.get(block.to)
    if record is not None and record.get("id") == block.id:
        return  # imported before: the block is a no-op
    found = ownership_refusal(block.to, block.id, view.resources, state_invocation) or adopt()
    if isinstance(found, str):
        adoption.refusals.append(said("import {address}: {refusal}", address=block.to, refusal=found))
        return
    change, view.resources[block.to] = found
    adoption.changes.append(change)


def _kind_adoption(kind: Adopts, address: str, live_id: str, live: Any, state: State) -> Adopted:
    found = kind.adopt(address, live_id, live)
    return found if isinstance(found, str) else (found, kind.adopted(found, state))


def _card_adoption(block: Import, view: State, live: LiveCards, card: DesiredCard) -> Adopted:
    if block.to in view.intents:
        return unsettled(block.to)
    live_card = None if live is None else live.get(block.id)
    refusal = None if live is None else card_refusal(block.to, block.id, card.card_type, live_card)
    if refusal:
        return refusal
    change = ResourceChange(block.to, Action.IMPORT, id=block.id, after=desired_document(card))
    change.before = live_document(live_card) if live_card is not None else None
    change.reasons = [said("an import block adopts this live card: state records it, WeChat is not changed")]
    if live is None:
        change.notes = [said("the live account was not read: apply checks that the card exists and has this type")]
    return change, CardRecord.adopted(block.id, card.card_type, card.prevent_destroy).to_state()


# ---------------------------------------------------------------- wxrec import


def importable() -> list[str]:
    """The kinds `wxrec import` adopts by id, in the registry's order."""
    return [kind.name for kind in kinds() if isinstance(kind, (ImportsById, Adopts))]


def import_target(address: str, data: Mapping[str, Any]) -> Address:
    """`address` as `wxrec import` takes it: of a kind it adopts by id, and declared in the manifests `data`."""
    parsed = Address.keyed(address)
    if parsed is None or parsed.kind not in importable():
        raise WxrecError(
            f"{address} cannot be imported: wxrec import adopts {', '.join(importable())} (addresses look like "
            "KIND.KEY); for the rest, remove the live object or let wxrec create its own"
        )
    declared_keys = data.get(parsed.kind) or {}
    if parsed.key not in declared_keys:
        close = difflib.get_close_matches(parsed.key, list(declared_keys), n=1)
        hint = f" (did you mean {parsed.kind}.{close[0]}?)" if close else ""
        raise WxrecError(f"{address} is not declared in the manifests{hint}; nothing was changed")
    return parsed


async def import_by_id(address: str, live_id: str, context: ImportContext) -> dict[str, Any]:
    """State's record once the live `live_id` is adopted as `address` (an `import_target`): the kind reads it by
    id (ImportsById), or an `Adopts` kind reads what it reads to plan and adopts as an import block would."""
    kind = find(kind_of(address))
    if isinstance(kind, ImportsById):
        return await kind.import_by_id(address, live_id, context)
    assert isinstance(kind, Adopts), "import_target lets only the importable kinds through"
    live = await kind.read(context.api, context.state) if isinstance(kind, ReadsLive) else None
    resources = context.state.resources
    found = ownership_refusal(address, live_id, resources, context.state_invocation) or _kind_adoption(
        kind, address, live_id, live, context.state
    )
    if isinstance(found, str):
        raise WxrecError(f"{address}: {found}; nothing was changed")
    return found[1]


@dataclass
class AdoptionApplier:
    """Imports and moves write state only; an import checks its card again first, since a plan made without
    reading live (--refresh=false) could not."""

    api: CardApi
    state: State
    save: SaveState
    state_invocation: str  # how a refusal's command names the run's state (Options.state_invocation)

    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.IMPORT and not isinstance(find(kind_of(change.address)), Adopts):
            assert change.id is not None
            raw = await self.api.get(change.id)
            live = live_card(raw, await self._palette()) if raw is not None else None
            declared_type = str((change.after or {})["card_type"])
            refusal = import_refusal(
                change.address, change.id, declared_type, live, self.state.resources, self.state_invocation
            )
            if refusal:
                raise WxrecError(f"{change.address}: {refusal}")
            done = apply_adoption(change, self.state, live)
        else:
            done = apply_adoption(change, self.state)
        await self.save()
        return done

    async def _palette(self) -> Palette:
        """The colours the plan read (apply keeps them in state), as planning reads a card: a colour the manifest
        names by hex then counts as matching. Read only when state has none: each call spends daily quota."""
        return Palette(self.state.palette or await self.api.colours())


def apply_adoption(change: ResourceChange, state: State, live: LiveCard | None = None) -> str:
    """Carry out an import or a move: state only. An import of any kind leaves the record its kind's `adopted`
    says (a saved plan's check applies the plan's imports so to its view of state); `live`: the card a card import
    adopts, read at apply, to record what already matches the manifests."""
    if change.action == Action.MOVE:
        source = str((change.before or {})["address"])
        state.resources[change.address] = state.resources.pop(source)
        return f"moved from {source} in state"
    kind = find(kind_of(change.address))
    assert isinstance(kind, Imports), "a plan imports only into the importable kinds"
    if live is None:
        state.resources[change.address] = kind.adopted(change, state)
    else:
        desired = desired_from_document(change.address, change.after or {})
        state.resources[change.address] = adopted_record(desired, live).to_state()
    state.intents.pop(change.address, None)  # an interrupted create it settles
    return f"imported {change.id} into state"
