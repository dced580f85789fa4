"""Saved plans: `wxrec plan -out FILE` writes one, `wxrec apply FILE` (or `apply MANIFEST --plan FILE`) applies
exactly it. It remembers the manifests, --api, --state, --env and --var it was made with (never a secret), so
that apply repeats none of them.

Nothing in the file is trusted. It carries a digest of its content keyed by a secret kept in state, checked
first; then apply checks that it is the plan of this account, state and live values (else it is stale); then
every safety rule again, against current state and the manifests, whatever the file says: prevent_destroy,
the destroy threshold, each kind's own (GuardsPlans), and that each change acts on the object its address owns
(HoldsIds). apply_plan itself refuses a plan with refusals, and deletes and replaces without --allow-destroy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconciler.address import kind_of
from reconciler.errors import NewerFormat, WxrecError
from reconciler.i18n import said
from reconciler.manifest import Manifest, load_schema
from reconciler.plan import ADOPTIONS, PLAN_FORMAT_VERSION, Action, Plan, ResourceChange
from reconciler.planning import Options
from reconciler.resources import cards, codes, find
from reconciler.resources.adoption import apply_adoption
from reconciler.resources.base import HoldsIds, SafetyContext, ownership_refusal
from reconciler.resources.cards.model import Palette
from reconciler.resources.cards.record import CardRecord
from reconciler.resources.menu import normal_menu
from reconciler.safety import safety_refusals
from reconciler.settings import RunSettings
from reconciler.state import State
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import public_url

ALGORITHM = "hmac-sha256"


def digest(document: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the document without its digest, as canonical JSON (keys sorted, no spaces)."""
    content = {name: value for name, value in document.items() if name != "digest"}
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def seal(document: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """The document with its digest (State.seal_key is the key)."""
    return {**document, "digest": {"algorithm": ALGORITHM, "value": digest(document, key)}}


def dumps(plan: Plan, made_with: Mapping[str, Any] | None = None) -> str:
    """What `plan -out` writes: the plan document, what it was made with (`remembered`), sealed."""
    document = plan.to_dict() if made_with is None else {**plan.to_dict(), "settings": dict(made_with)}
    return json.dumps(seal(document, plan.seal_key), ensure_ascii=False, indent=2, sort_keys=True)


def remembered(settings: RunSettings, out: Path) -> dict[str, Any]:
    """The run's settings as a saved plan keeps them: the manifests relative to the plan file (the two travel
    together, as a CI artifact of the checkout does), and URLs as public_url shows them (user:password@ as ***@:
    the secret itself always comes from the environment)."""
    return {
        "manifest": os.path.relpath(settings.manifest_path.resolve(), out.resolve().parent),
        "api": public_url(settings.api),
        "state": public_url(settings.state_location) if settings.state_location else None,
        "env": settings.env,
        "var": list(settings.var),
    }


def to_give_again(made_with: Mapping[str, Any]) -> list[str]:
    """The options `apply FILE` needs again: the URLs whose credentials the plan did not keep (shown as ***@)."""
    urls = {"--api": made_with["api"], "--state": made_with["state"]}
    return [f"{flag} {url}" for flag, url in urls.items() if url and "***@" in url]


# RunSettings' fields a saved plan remembers, with the flag that sets each.
FLAGS = {"api": "--api", "state_location": "--state", "env": "--env", "var": "--var"}


def recalled(saved: SavedPlan, given: Mapping[str, Any]) -> dict[str, Any]:
    """RunSettings' fields for applying `saved`: what the command line `given` leaves out, as the plan was made.
    A given value that says otherwise is refused: the plan was checked against those manifests and that state."""
    made = saved.document.get("settings")
    if made is None:  # saved by an older wxrec: it remembers nothing, everything is given as before
        return {"manifest_path": Path("."), **given}
    plan_made = {
        "api": made["api"],
        "state_location": made["state"],
        "env": made["env"],
        "var": tuple(made["var"]),
    }
    settings = {"manifest_path": given.get("manifest_path", saved.path.parent / made["manifest"])}
    for name, flag in FLAGS.items():
        settings[name] = _one_setting(flag, plan_made[name], given.get(name, plan_made[name]))
    return settings


def _one_setting(flag: str, made: Any, given: Any) -> Any:
    shown = public_url(given) if isinstance(given, str) and flag in ("--api", "--state") else given
    if shown != made:
        raise WxrecError(
            f"the plan was made with {flag} {_shown(made)}, not {flag} {_shown(shown)}: apply it as it was made "
            "(leave the option out), or make a new plan. Nothing was changed"
        )
    if isinstance(given, str) and "***@" in given:
        raise WxrecError(
            f"the plan was made with {flag} {given}: a saved plan never keeps a URL's credentials, give {flag} "
            "again with them"
        )
    return given


def _shown(value: Any) -> str:
    if isinstance(value, tuple | list):
        return " ".join(value) if value else "(not given)"
    return "(not given)" if value is None else str(value)


def is_saved_plan(path: Path) -> bool:
    """Whether `path` is a saved plan rather than a one-file manifest: told by its content (a JSON object with a
    format_version, which no manifest has), never by its name."""
    if not path.is_file():
        return False
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError):
        return False
    return isinstance(document, dict) and "format_version" in document


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    document: dict[str, Any]
    plan: Plan


def read(path: Path) -> SavedPlan:
    """The file as `apply --plan` is given it: read before the lock, checked under it (see `checked`)."""
    import jsonschema  # only `apply PLANFILE` reads a saved plan: every other command starts without it

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        _check_version(path, document)
        jsonschema.validate(document, load_schema("plan"))
        return SavedPlan(path, document, Plan.from_dict(document))
    except (ValueError, RecursionError, jsonschema.ValidationError) as exc:
        reason = exc.message if isinstance(exc, jsonschema.ValidationError) else str(exc)
        raise WxrecError(f"{path}: not a wxrec plan ({reason})") from None
    except OSError as exc:
        raise WxrecError(f"{path}: cannot read the saved plan ({exc.strerror})") from None


def _check_version(path: Path, document: Any) -> None:
    """A plan of another format is refused as such, before its schema (this wxrec's) calls it no plan at all.
    An older plan is not read either: its changes lack what this wxrec shows (format 2: list items)."""
    version = document.get("format_version") if isinstance(document, dict) else None
    if type(version) is not int:
        return
    if version > PLAN_FORMAT_VERSION:
        raise NewerFormat(f"{path}: the plan", version, PLAN_FORMAT_VERSION)
    if version < PLAN_FORMAT_VERSION:
        raise WxrecError(
            f"{path}: the plan was made by an older wxrec (format {version}; this wxrec reads {PLAN_FORMAT_VERSION}). "
            "Nothing was changed: make a new plan"
        )


async def checked(
    saved: SavedPlan, state: State, location: str, api: CardApi, endpoint: str, manifest: Manifest, options: Options
) -> Plan:
    """The saved plan, if it may be applied to this account and this state (at `location`) now; with the
    refusals of current state added."""
    plan = saved.plan
    if (plan.appid, plan.endpoint) != (state.appid, endpoint):
        made_for = f"{plan.appid} at {public_url(plan.endpoint)}"
        raise WxrecError(f"the plan is for {made_for}, not {state.appid} at {endpoint}")
    _check_belongs(plan, state, location)
    _check_digest(saved, state)
    if not plan.refreshed:
        raise WxrecError("the plan was made with --refresh=false, without reading WeChat: make a refreshed plan")
    if any(kind_of(address) == "cards" for address in state.intents):
        raise WxrecError(
            "an interrupted run left creates to settle, which a saved plan cannot account for: run `wxrec apply` "
            "(without --plan) to settle them, then make a new plan"
        )
    reasons = await stale_reasons(plan, state, api, options.parallelism, options.manifest_root)
    if reasons:
        raise WxrecError("the saved plan is stale; nothing was changed:\n  " + "\n  ".join(reasons))
    plan.refusals += await refusals(plan, state, api, manifest, options)
    plan.palette = await api.colours()
    return plan


async def stale_reasons(saved: Plan, state: State, api: CardApi, parallelism: int, manifest_root: Path) -> list[str]:
    """Why a saved plan no longer describes the account: state moved on, a live value it relied on changed, or a
    codes file it counted changed (its new codes were never reviewed).

    Stock is exempt: claims move it all the time, and stock actions converge to their target anyway."""
    if saved.state_serial != state.serial:
        # An apply ran since, perhaps of this very plan: what it changed in WeChat is no one else's doing, so
        # nothing is read and no value is said to have changed in WeChat.
        return [
            f"state serial is {state.serial}, the plan was made at serial {saved.state_serial}: an apply ran since "
            "(this plan's own, if it was applied already)"
        ]
    reasons = [
        f"{c.address}: {c.after['file']} changed since the plan was made"
        for c in saved.changes
        if c.after
        and c.after.get("file_sha256")
        and codes.CodeFile(manifest_root / c.after["file"]).digest() != c.after["file_sha256"]
    ]
    menu = next((c for c in saved.changes if c.address == "menu" and c.before is not None), None)
    if menu is not None:
        now_menu = await AccountApi(api.client).menu()
        if (normal_menu(now_menu) if now_menu else None) != (menu.before or {}).get("menu"):
            reasons.append("menu: changed in WeChat since the plan was made")
    relied_on = {
        c.id: c for c in saved.changes if c.id and "fields" in (c.before or {}) and kind_of(c.address) == cards.KIND
    }
    if not relied_on:
        return reasons
    palette = Palette(await api.colours())
    live = await cards.read_cards(api, sorted(relied_on), parallelism, palette)
    for card_id, change in sorted(relied_on.items()):
        now = live.get(card_id)
        planned = (change.before or {}).get("fields", {})
        if now is None:
            reasons.append(f"{change.address}: {card_id} is gone from WeChat")
            continue
        moved = sorted(p for p in set(planned) | set(now.fields) if planned.get(p) != now.fields.get(p))
        if moved:
            reasons.append(f"{change.address}: {', '.join(moved)} changed in WeChat since the plan was made")
    return reasons


def _check_belongs(plan: Plan, state: State, location: str) -> None:
    """A plan made from another state (another --env or --state, or before any state existed) is said to be so,
    before its digest (keyed by that other state) or its serial could only say that something differs."""
    if plan.state_lineage == state.lineage or (plan.state_lineage is None and state.serial == 0):
        return
    here = f"the state at {public_url(location)} (lineage {state.lineage}, serial {state.serial})"
    if plan.state_lineage is None:
        belongs = f"this plan was made before there was any state, and {here} has been written since"
    else:
        belongs = f"this plan belongs to state lineage {plan.state_lineage} (serial {plan.state_serial}), not to {here}"
    raise WxrecError(
        f"{belongs}. Nothing was changed: apply it with the state it was made from (the --state and --env it was "
        "made with), or make a new plan"
    )


def _check_digest(saved: SavedPlan, state: State) -> None:
    sealed = saved.document.get("digest")
    if sealed is None:
        raise WxrecError(
            f"{saved.path} has no digest: `wxrec plan -out` did not write it (or an older wxrec did). "
            "Nothing was changed; make a new plan"
        )
    if not hmac.compare_digest(sealed["value"], digest(saved.document, state.seal_key)):
        raise WxrecError(
            f"{saved.path} does not match its digest: it was altered after `wxrec plan -out` wrote it, or state was "
            f"replaced since (it is now serial {state.serial} of lineage {state.lineage}). Nothing was changed; "
            "make a new plan"
        )


async def refusals(plan: Plan, state: State, api: CardApi, manifest: Manifest, options: Options) -> list[str]:
    """The safety rules, against current state and the manifests rather than anything the plan says."""
    view = state.snapshot()
    found = []
    for change in plan.ordered():  # imports and moves first: the other changes act on the records they leave
        if change.action not in ADOPTIONS:
            continue
        refusal = _adoption_refusal(change, view, options.state_invocation)
        if refusal:
            found.append(refusal)
        else:
            apply_adoption(change, view)
    found += [refusal for change in plan.changes if (refusal := _ownership_refusal(change, view))]
    records = cards.records(view)
    found += await _orphaning_refusals(plan, records, api, options)
    protected = {f"cards.{key}" for key, spec in manifest.cards.items() if _protected(spec)}
    records = {a: replace(r, prevent_destroy=True) if a in protected else r for a, r in records.items()}
    context = SafetyContext(view, manifest.document.data, api.pay)
    return found + await safety_refusals(plan, records, options, context)


def _protected(spec: Mapping[str, Any]) -> bool:
    return bool((spec.get("lifecycle") or {}).get("prevent_destroy"))


def _adoption_refusal(change: ResourceChange, view: State, state_invocation: str) -> str | None:
    if change.action == Action.IMPORT:
        refusal = ownership_refusal(change.address, str(change.id), view.resources, state_invocation)
        return said("import {address}: {refusal}", address=change.address, refusal=refusal) if refusal else None
    source = str((change.before or {}).get("address"))
    if source not in view.resources:
        return said("moved {old} to {new}: state has no {old}", old=source, new=change.address)
    if change.address in view.resources:
        return said("moved {old} to {new}: {new} is already in state", old=source, new=change.address)
    return None


def _ownership_refusal(change: ResourceChange, view: State) -> str | None:
    """A change of a kind that HoldsIds acts on the object state (`view`: as the plan's import and moved blocks
    leave it) says its address holds, never on another one."""
    kind = find(kind_of(change.address))
    if not isinstance(kind, HoldsIds) or change.action not in kind.acts_on_id:
        return None
    record = view.resources.get(change.address)
    if record is None:
        return said(
            "{address}: the plan acts on {id}, but state does not manage the address",
            address=change.address,
            id=str(change.id),
        )
    if change.id != record.get("id"):
        return said(
            "{address}: the plan acts on {id}, but state says the address manages {managed}",
            address=change.address,
            id=str(change.id),
            managed=str(record.get("id")),
        )
    return None


async def _orphaning_refusals(
    plan: Plan, records: Mapping[str, CardRecord], api: CardApi, options: Options
) -> list[str]:
    """A create for a managed address is right only when its card was deleted outside wxrec (-replace): over a
    live card, the address would let go of a card that stays live."""
    managed = {
        c.address: records[c.address].id for c in plan.changes if c.action == Action.CREATE and c.address in records
    }
    live = await cards.read_cards(api, sorted(set(managed.values())), options.parallelism)
    return [
        said(
            "{address}: the plan creates a new card, but state's {id} is still live: the address would let go of it",
            address=address,
            id=card_id,
        )
        for address, card_id in sorted(managed.items())
        if live.get(card_id) is not None
    ]
