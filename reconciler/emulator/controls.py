"""Test controls under /_emulator/: what happens on WeChat's side without an API call.

Users claiming cards, a reviewer's verdict, time passing, an edit in the MP console;
and the emulator's own business: its faults and its call log.
The operations work on a Store directly, so the CLI can run them on an account file
without a server; the routes below wrap them for HTTP (no token, HTTP 400 on bad input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .config import DEFAULT_REFUSE_REASON
from .fault_spec import parse_faults
from .model import DISPATCH, JSON, NOT_VERIFY, VERIFY_FAIL, VERIFY_OK, Card, loads_object
from .service import Emulator
from .store import Store

# Fields of base_info that only the server sets; the console cannot edit them either.
_SERVER_FIELDS = frozenset({"id", "status", "create_time", "update_time"})


class ControlError(ValueError):
    """Bad input to a control: the message says what to fix."""


def resolve_appid(store: Store, configured: Sequence[str], appid: Any) -> str:
    """The given account, or the only/first registered one."""
    known = [*configured, *(a for a in store.accounts if a not in configured)]
    if appid is None:
        if not known:
            raise ControlError("no account is registered")
        return known[0]
    if not isinstance(appid, str) or appid not in known:
        raise ControlError(f"unknown appid {appid!r}; registered: {', '.join(known)}")
    return appid


def _card(store: Store, appid: str, card_id: Any) -> Card:
    if not isinstance(card_id, str) or not card_id:
        raise ControlError("card_id must be a non-empty string")
    card = store.find_card(appid, card_id)
    if card is None:
        raise ControlError(f"no card {card_id} in account {appid}")
    return card


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ControlError(f"{name} must be an integer >= 1")
    return value


def summary(card: Card) -> JSON:
    return {
        "card_id": card.card_id,
        "card_type": card.card_type,
        "title": card.base.get("title"),
        "status": card.status,
        "sku": {"quantity": card.quantity, "total_quantity": card.total_quantity},
        "create_time": card.create_time,
        "update_time": card.update_time,
        "review_due": card.review_due,
        "refuse_reason": card.refuse_reason,
        # The audit trail: creation on the emulator's clock, each successful modifystock delta, claims.
        "created_at": card.created_at,
        "stock_ops": list(card.stock_ops),
        "stock_net": sum(card.stock_ops),
        "claimed": card.claimed,
        # The write-only settings (card_settings.py): WeChat has no getter, so only here.
        "settings": card.settings,
    }


def claim(store: Store, appid: str, card_id: Any, count: Any) -> JSON:
    """Users claim cards: quantity drops, total_quantity (all ever issued) does not."""
    card = _card(store, appid, card_id)
    count = _positive_int(count, "count")
    if card.status not in (VERIFY_OK, DISPATCH):
        raise ControlError(f"users can only claim an approved card; {card.card_id} is {card.status}")
    if count > card.quantity:
        raise ControlError(f"only {card.quantity} left of {card.card_id}; cannot claim {count}")
    card.quantity -= count
    card.claimed += count
    store.dirty = True
    return summary(card)


def review(store: Store, appid: str, card_id: Any, result: Any, reason: Any = None) -> JSON:
    """A reviewer's verdict; a rejection carries the reason WeChat would send in card_not_pass_check."""
    card = _card(store, appid, card_id)
    if result not in ("approve", "reject"):
        raise ControlError('result must be "approve" or "reject"')
    if reason is not None and (result != "reject" or not isinstance(reason, str) or not reason.strip()):
        raise ControlError("reason must be a non-empty string, and only a rejection has one")
    if card.status != NOT_VERIFY:
        raise ControlError(f"{card.card_id} is not waiting for review (status {card.status})")
    if result == "approve" and store.accounts[appid].test:
        raise ControlError(f"{appid} is a test account: its cards never pass review")
    card.status = VERIFY_OK if result == "approve" else VERIFY_FAIL
    card.refuse_reason = None if result == "approve" else (reason or DEFAULT_REFUSE_REASON).strip()
    card.review_due = None
    store.dirty = True
    return summary(card)


def advance_clock(store: Store, seconds: Any) -> JSON:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
        raise ControlError("advance must be a number of seconds >= 0")
    store.clock.advance(float(seconds))
    store.settle()
    store.dirty = True
    return {"now": store.now(), "offset": store.clock.offset}


def list_cards(store: Store, appid: str) -> JSON:
    account = store.accounts.get(appid)
    cards = account.cards.values() if account else ()
    return {"appid": appid, "now": store.now(), "cards": [summary(c) for c in cards]}


def show_faults(store: Store) -> JSON:
    spec = parse_faults(store.fault_spec)
    return {"spec": str(spec), "active": spec.active}


def set_faults(store: Store, spec: Any) -> JSON:
    """Replaces the active faults ("" or "none" clears them); the counters carry on."""
    if not isinstance(spec, str):
        raise ControlError('spec must be a string (a fault spec, "" or "none")')
    try:
        store.fault_spec = str(parse_faults(spec))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    store.dirty = True
    return show_faults(store)


def list_calls(store: Store, appid: Any = None, since: Any = None) -> JSON:
    """Logged API calls after seq ``since`` (0: all kept), of one appid when given."""
    try:
        after = int(since) if since not in (None, "") else 0
    except (TypeError, ValueError):
        raise ControlError("since must be a call seq (an integer)") from None
    who = appid if isinstance(appid, str) and appid else None
    return {"calls": store.calls.since(after, who), "next_seq": store.calls.next_seq}


def clear_calls(store: Store) -> JSON:
    """Empties the log (seqs carry on)."""
    cleared = store.calls.clear()
    store.dirty = True
    return {"cleared": cleared, "next_seq": store.calls.next_seq}


def edit(store: Store, appid: str, card_id: Any, base_info: Any) -> JSON:
    """An edit in the MP console: fields set as given, no rules, no review; null removes a field."""
    card = _card(store, appid, card_id)
    if card.deleted:
        raise ControlError(f"{card.card_id} is deleted")
    if not isinstance(base_info, dict):
        raise ControlError("base_info must be an object")
    for name, value in base_info.items():
        if name in _SERVER_FIELDS:
            raise ControlError(f"{name} is set by the server, not the console")
        if name == "sku":
            _edit_sku(card, value)
        elif value is None:
            card.base.pop(name, None)
        else:
            card.base[name] = value
    card.update_time = int(store.now())
    store.dirty = True
    return summary(card)


def _edit_sku(card: Card, sku: Any) -> None:
    if not isinstance(sku, dict):
        raise ControlError("base_info.sku must be an object")
    for name in ("quantity", "total_quantity"):
        value = sku.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ControlError(f"base_info.sku.{name} must be an integer >= 0")
    card.quantity = sku.get("quantity", card.quantity)
    card.total_quantity = sku.get("total_quantity", card.total_quantity)


# ---------------------------------------------------------------- HTTP


async def _json_body(request: Request) -> JSON:
    try:
        return loads_object(await request.body() or b"{}")
    except ValueError:
        raise ControlError("the request body must be a JSON object") from None


async def _run(request: Request, operation: Callable[[Emulator, JSON], JSON], body: JSON | None = None) -> Response:
    emu: Emulator = request.app.state.emulator
    try:
        payload = body if body is not None else await _json_body(request)
        with emu.transaction():
            emu.store.settle()
            answer = operation(emu, payload)
    except ControlError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return JSONResponse(answer)


def _appid(emu: Emulator, payload: JSON) -> str:
    return resolve_appid(emu.store, list(emu.config.accounts), payload.get("appid"))


async def claim_route(request: Request) -> Response:
    return await _run(request, lambda emu, b: claim(emu.store, _appid(emu, b), b.get("card_id"), b.get("count")))


async def review_route(request: Request) -> Response:
    return await _run(
        request, lambda emu, b: review(emu.store, _appid(emu, b), b.get("card_id"), b.get("result"), b.get("reason"))
    )


async def clock_route(request: Request) -> Response:
    return await _run(request, lambda emu, b: advance_clock(emu.store, b.get("advance")))


async def edit_route(request: Request) -> Response:
    return await _run(request, lambda emu, b: edit(emu.store, _appid(emu, b), b.get("card_id"), b.get("base_info")))


async def cards_route(request: Request) -> Response:
    query = dict(request.query_params)
    return await _run(request, lambda emu, q: list_cards(emu.store, _appid(emu, q)), body=query)


async def faults_route(request: Request) -> Response:
    if request.method == "GET":
        return await _run(request, lambda emu, _: show_faults(emu.store), body={})

    def change(emu: Emulator, body: JSON) -> JSON:
        # A POST without "spec" only shows them (what `wxrec emulator faults` without SPEC sends).
        return set_faults(emu.store, body["spec"]) if "spec" in body else show_faults(emu.store)

    return await _run(request, change)


async def calls_route(request: Request) -> Response:
    query = dict(request.query_params)
    return await _run(request, lambda emu, q: list_calls(emu.store, q.get("appid"), q.get("since")), body=query)


async def clear_calls_route(request: Request) -> Response:
    return await _run(request, lambda emu, _: clear_calls(emu.store), body={})


async def health_route(request: Request) -> Response:
    def health(emu: Emulator, _: JSON) -> JSON:
        # legacy_coupons: whether card/create still takes coupons (`serve --legacy-coupons`), so that a client can
        # ask rather than be told; the emulator's own setting, not a WeChat behaviour (WeChat stopped on 2021-04-01,
        # docs/wechat-today.md "Coupons can no longer be created").
        return {
            "status": "ok",
            "now": emu.store.now(),
            "accounts": list(emu.config.accounts),
            "legacy_coupons": emu.config.legacy_coupons,
        }

    return await _run(request, health, body={})


async def unknown_route(request: Request) -> Response:
    return JSONResponse({"error": f"no emulator control at {request.url.path}"}, status_code=404)


def control_routes() -> list[Route]:
    return [
        Route("/claim", claim_route, methods=["POST"]),
        Route("/review", review_route, methods=["POST"]),
        Route("/clock", clock_route, methods=["POST"]),
        Route("/edit", edit_route, methods=["POST"]),
        Route("/cards", cards_route, methods=["GET"]),
        Route("/health", health_route, methods=["GET"]),
        Route("/faults", faults_route, methods=["GET", "POST"]),
        Route("/calls", calls_route, methods=["GET"]),
        Route("/calls/clear", clear_calls_route, methods=["POST"]),
        Route("/{rest:path}", unknown_route, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    ]
