"""Fault injection: latency, errcodes, HTTP 5xx, connection resets, rate limits, quotas, and
"commit the change, then drop the response".

Faults are described by one spec string (fault_spec.py). The active spec is kept in the
store (and its data file), so the embedded emulator keeps it from one invocation to the next.

Every WeChat API call passes through ``Faults`` in ``api.dispatch``:

- ``begin`` gives the call its seq and draws its fate from ``random.Random(f"wxrec-faults:{seed}:{seq}")``
  (so a campaign is reproducible call by call); ``delay`` then sleeps the latency;
- ``before_call``, once the token is checked, applies the daily quota (45009), the per-minute
  rate limit (45011) and the drawn errcode (raised as ``ApiError``; 40001/42001 really
  invalidate the token first), HTTP 5xx or reset (the handler is then skipped);
- ``after_call`` logs the call (and decides a drop: only a call that answered errcode 0 and
  changed the store, i.e. committed a change, is dropped);
- ``response`` turns the answer into what the client receives.

Unknown paths and the /_emulator/ controls are never faulted; the token endpoints only when
``paths=`` names them (a campaign on the API paths leaves the client a way to recover).

A reset or drop answers with ``ConnectionReset``: it starts the HTTP response with a header
value no server will write, then raises ``SimulatedConnectionReset``. uvicorn has then
written nothing and closes the connection (the client sees a transport error);
``httpx.ASGITransport`` passes the exception to the client as is, and
``transport.FaultTolerantASGITransport`` turns it into ``httpx.ReadError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from . import errors as e
from .calls import token_digest
from .clock import beijing_day
from .fault_spec import FaultSpec, parse_faults
from .model import JSON

if TYPE_CHECKING:
    from .store import Store

TOKEN_FAULTS = frozenset({e.INVALID_CREDENTIAL, e.ACCESS_TOKEN_EXPIRED})


class SimulatedConnectionReset(Exception):
    """The emulator dropped the connection: nothing was answered.

    ``committed`` says whether the change was made first (a drop) or not (a reset); a real
    client cannot know which, so only tests should look.
    """

    def __init__(self, path: str, committed: bool) -> None:
        self.path = path
        self.committed = committed
        self.kind = "drop" if committed else "reset"
        what = "after committing the change" if committed else "before doing anything"
        super().__init__(f"connection reset by peer (emulated {self.kind} of {path}, {what})")


# ---------------------------------------------------------------- one call


@dataclass
class ApiCall:
    """One WeChat API call on its way through the emulator."""

    seq: int
    path: str
    time: float
    faulted: bool = False
    appid: str | None = None
    # The access token the call sent, if any.
    token: str | None = None
    body: JSON = field(default_factory=dict)
    committed: bool = False
    fault: str | None = None
    http_status: int | None = None
    latency: float = 0.0
    pick: float = 1.0
    drop_draw: float = 1.0

    @property
    def account(self) -> str | None:
        """The token's owner, else the appid the request names (the token endpoints)."""
        return self.appid or _text(self.body.get("appid"))


class ConnectionReset(Response):
    """What a reset or a drop answers: no answer at all (see the module's docstring)."""

    def __init__(self, path: str, committed: bool) -> None:
        super().__init__()
        self.error = SimulatedConnectionReset(path, committed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Marks the response as started for Starlette and uvicorn (so neither sends a 500),
        # with a header value that servers refuse to write: uvicorn writes nothing at all.
        with contextlib.suppress(Exception):  # the server refusing the header is the point
            await send({"type": "http.response.start", "status": 200, "headers": [(b"x-wxrec-reset", b"\r\n")]})
        raise self.error


def _quiet_resets(record: logging.LogRecord) -> bool:
    """uvicorn logs an app's exception with its traceback; an emulated reset is not worth one."""
    return not (record.exc_info and isinstance(record.exc_info[1], SimulatedConnectionReset))


def quiet_uvicorn_resets() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _quiet_resets not in logger.filters:
        logger.addFilter(_quiet_resets)


def _http_page(status: int) -> bytes:
    title = f"{status} {HTTPStatus(status).phrase}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


# ---------------------------------------------------------------- the hooks


class Faults:
    """The active spec (the store's, parsed once per change) and the hooks around every API call."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._text = ""
        self._spec = FaultSpec()

    @property
    def spec(self) -> FaultSpec:
        if self.store.fault_spec != self._text:
            self._spec = parse_faults(self.store.fault_spec)
            self._text = self.store.fault_spec
        return self._spec

    def begin(self, path: str, faultable: bool) -> ApiCall:
        """Gives the call its seq and draws what happens to it (its latency is slept by ``delay``)."""
        store = self.store
        call = ApiCall(seq=store.calls.reserve(), path=path, time=store.now())
        spec = self.spec
        if faultable and spec.applies_to(path):
            rng = random.Random(f"wxrec-faults:{spec.seed}:{call.seq}")
            call.faulted = True
            call.pick = rng.random()
            call.drop_draw = rng.random()
            if spec.latency is not None:
                call.latency = spec.latency.sample(rng)
        return call

    @staticmethod
    async def delay(call: ApiCall) -> None:
        if call.latency:
            await asyncio.sleep(call.latency)

    def before_call(self, call: ApiCall) -> bool:
        """Once the token is checked: False to skip the handler; ApiError for an injected errcode."""
        if not call.faulted:
            return True
        self._count_against_limits(call)
        return self._draw_fault(call)

    def _count_against_limits(self, call: ApiCall) -> None:
        """The daily quota (45009) first, then the per-minute rate (45011); counts the call when both allow it."""
        spec, appid, now = self.spec, call.account or "", self.store.now()
        day = self._count(f"{appid}|day", beijing_day(now), spec.quota)
        minute = self._count(f"{appid}|minute", str(int(now // 60)), spec.rate)
        if day is None:
            call.fault = "quota"
            raise e.ApiError(e.DAILY_QUOTA)
        if minute is None:
            call.fault = "rate"
            raise e.ApiError(e.MINUTE_QUOTA)
        for key, counted in (("day", day), ("minute", minute)):
            if counted[1]:
                self.store.fault_usage[f"{appid}|{key}"] = counted

    def _draw_fault(self, call: ApiCall) -> bool:
        """The call's draw falls in one errcode's, HTTP status's or the reset's share, in that order, or none."""
        spec, edge = self.spec, 0.0
        for code, p in spec.errors:
            edge += p
            if call.pick < edge:
                call.fault = "error"
                if code in TOKEN_FAULTS:
                    self.store.invalidate_token(call.token or "", expired=code == e.ACCESS_TOKEN_EXPIRED)
                raise e.ApiError(code)
        for status, p in spec.http:
            edge += p
            if call.pick < edge:
                call.fault, call.http_status = "http", status
                return False
        if call.pick < edge + spec.reset:
            call.fault = "reset"
            return False
        return True

    def _count(self, key: str, window: str, limit: int | None) -> tuple[str, int] | None:
        """The usage after this call, (window, 0) when no limit is set; None when over the limit."""
        if limit is None:
            return (window, 0)
        used_window, used = self.store.fault_usage.get(key, (window, 0))
        used = used if used_window == window else 0
        return (window, used + 1) if used < limit else None

    def after_call(self, call: ApiCall, answer: JSON | None) -> None:
        """Decides a drop and logs the call (before the store is persisted)."""
        errcode = None if answer is None else answer.get("errcode", e.OK)
        if call.fault is None and call.committed and errcode == e.OK and call.drop_draw < self.spec.drop:
            call.fault = "drop"
        if call.fault in ("http", "reset"):
            errcode = None
        self.store.calls.append(_log_entry(call, answer or {}, errcode))
        if call.faulted or call.fault:
            # During a campaign every faulted call is saved (log, counters); plain reads are not.
            self.store.dirty = True

    def response(self, call: ApiCall, answer: JSON | None) -> Response:
        if call.fault == "http" and call.http_status is not None:
            return Response(_http_page(call.http_status), status_code=call.http_status, media_type="text/html")
        if call.fault in ("reset", "drop") or answer is None:
            return ConnectionReset(call.path, committed=call.fault == "drop")
        return JSONResponse(answer)


def _log_entry(call: ApiCall, answer: JSON, errcode: object) -> JSON:
    """The call log's line for one call; optional fields only when they say something."""
    entry: JSON = {
        "seq": call.seq,
        "time": call.time,
        "appid": call.account,
        "path": call.path,
        "errcode": errcode,
        "fault": call.fault,
    }
    card_id = _text(call.body.get("card_id")) or _text(answer.get("card_id"))
    if card_id:
        entry["card_id"] = card_id
    token = call.token or _text(answer.get("access_token"))
    if token:
        entry["token"] = token_digest(token)
    if call.body.get("force_refresh") is True:
        entry["force_refresh"] = True
    delta = _stock_delta(call.body)
    if delta is not None:
        entry["stock_delta"] = delta
    if call.http_status is not None:
        entry["http_status"] = call.http_status
    if call.latency:
        entry["latency_ms"] = round(call.latency * 1000, 3)
    return entry


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _stock_delta(body: JSON) -> int | None:
    """The requested net change: a call may carry both values (cards.py)."""
    parts = []
    for name, sign in (("increase_stock_value", 1), ("reduce_stock_value", -1)):
        value = body.get(name)
        if isinstance(value, bool) or value is None:
            continue
        try:
            parts.append(sign * int(value))
        except (TypeError, ValueError):
            return None
    return sum(parts) if parts else None
