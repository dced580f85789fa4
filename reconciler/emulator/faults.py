"""Fault injection: latency, errcodes, HTTP 5xx, connection resets, rate limits, quotas, and
"commit the change, then drop the response".

Faults are described by one spec string everywhere (``EmulatorConfig(faults=...)``,
``WXREC_EMULATOR_FAULTS``, ``wxrec emulator serve --faults``, ``wxrec emulator faults``,
``POST /_emulator/faults``); the README gives the grammar. The active spec is kept in the
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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING, Literal

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from . import errors as e
from .calls import token_digest
from .clock import beijing_day
from .model import JSON

if TYPE_CHECKING:
    from .store import Store

TOKEN_PATHS = frozenset({"/cgi-bin/token", "/cgi-bin/stable_token"})
TOKEN_FAULTS = frozenset({e.INVALID_CREDENTIAL, e.ACCESS_TOKEN_EXPIRED})
HTTP_FAULTS = frozenset(s.value for s in HTTPStatus if 500 <= s.value < 600)
_KEYS = ("latency", "error", "http", "reset", "drop", "rate", "quota", "seed", "paths")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s)")
_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(%?)")


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


# ---------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Latency:
    """``fixed``: always ``low``; ``uniform``: between ``low`` and ``high``; ``exp``: mean ``low``."""

    kind: Literal["fixed", "uniform", "exp"]
    low: float
    high: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "exp":
            return rng.expovariate(1 / self.low) if self.low > 0 else 0.0
        return self.low

    def __str__(self) -> str:
        if self.kind == "uniform":
            return f"{_duration(self.low)}..{_duration(self.high)}"
        if self.kind == "exp":
            return f"exp:{_duration(self.low)}"
        return _duration(self.low)


@dataclass(frozen=True)
class FaultSpec:
    """One parsed fault spec; ``str()`` gives it back in canonical form ("" for none)."""

    latency: Latency | None = None
    errors: tuple[tuple[int, float], ...] = ()
    http: tuple[tuple[int, float], ...] = ()
    reset: float = 0.0
    drop: float = 0.0
    rate: int | None = None
    quota: int | None = None
    seed: int = 0
    paths: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """ValueError naming the bad item when ``spec`` does not follow the grammar."""
        return parse_faults(spec)

    @property
    def active(self) -> bool:
        limits = self.rate is not None or self.quota is not None
        return bool(self.latency or self.errors or self.http or self.reset or self.drop or limits)

    def applies_to(self, path: str) -> bool:
        return self.active and (path in self.paths if self.paths else path not in TOKEN_PATHS)

    def __str__(self) -> str:
        items: list[str] = []
        if self.latency is not None:
            items.append(f"latency={self.latency}")
        items += [f"error={code}:{_number(p)}" for code, p in self.errors]
        items += [f"http={code}:{_number(p)}" for code, p in self.http]
        if self.reset:
            items.append(f"reset={_number(self.reset)}")
        if self.drop:
            items.append(f"drop={_number(self.drop)}")
        if self.rate is not None:
            items.append(f"rate={self.rate}/min")
        if self.quota is not None:
            items.append(f"quota={self.quota}/day")
        if items and self.seed:
            items.append(f"seed={self.seed}")
        if items and self.paths:
            items.append("paths=" + "|".join(self.paths))
        return ",".join(items)


def parse_faults(spec: str) -> FaultSpec:
    """Parses a fault spec (see the README); "" and "none" mean no faults."""
    text = spec.strip()
    if text.lower() in ("", "none"):
        return FaultSpec()
    found: dict[str, object] = {}
    errors: dict[int, float] = {}
    http: dict[int, float] = {}
    for raw in text.split(","):
        item = raw.strip()
        try:
            key, value = _split_item(item)
            if key == "error":
                code, p = _coded_probability(value, "errcode")
                _check_errcode(code)
                if code in errors:
                    raise ValueError(f"errcode {code} given twice")
                errors[code] = p
            elif key == "http":
                code, p = _coded_probability(value, "HTTP status")
                if code not in HTTP_FAULTS:
                    raise ValueError(f"HTTP status must be a 5xx status, not {code}")
                if code in http:
                    raise ValueError(f"HTTP status {code} given twice")
                http[code] = p
            else:
                if key in found:
                    raise ValueError(f"{key} given twice")
                found[key] = _PARSERS[key](value)
        except ValueError as exc:
            raise ValueError(f"fault spec item {item!r}: {exc}") from None
    parsed = FaultSpec(errors=tuple(errors.items()), http=tuple(http.items()), **found)  # type: ignore[arg-type]
    total = sum(p for _, p in parsed.errors) + sum(p for _, p in parsed.http) + parsed.reset
    if total > 1 + 1e-9:
        raise ValueError(f"fault spec {spec!r}: the error, http and reset probabilities add up to {total:g}, over 1")
    return parsed


def _split_item(item: str) -> tuple[str, str]:
    if not item:
        raise ValueError("empty item (a stray comma?)")
    key, sep, value = item.partition("=")
    key, value = key.strip().lower(), value.strip()
    if not sep:
        raise ValueError(f"expected NAME=VALUE with NAME one of {', '.join(_KEYS)}")
    if key not in _KEYS:
        raise ValueError(f"unknown fault {key!r}; expected one of {', '.join(_KEYS)}")
    if not value:
        raise ValueError(f"{key} needs a value")
    return key, value


def _parse_duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 20ms or 1.5s")
    value = float(match[1])
    return value / 1000 if match[2] == "ms" else value


def _parse_latency(text: str) -> Latency:
    if text.startswith("exp:"):
        return Latency("exp", _parse_duration(text.removeprefix("exp:")))
    low, sep, high = text.partition("..")
    if not sep:
        return Latency("fixed", _parse_duration(text))
    lo, hi = _parse_duration(low), _parse_duration(high)
    if lo > hi:
        raise ValueError(f"the latency range {text!r} runs backwards")
    return Latency("uniform", lo, hi)


def _parse_probability(text: str) -> float:
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a probability like 0.05 or 5%")
    value = float(match[1]) / (100 if match[2] else 1)
    if value > 1:
        raise ValueError(f"the probability {text!r} is over 1")
    return value


def _coded_probability(text: str, what: str) -> tuple[int, float]:
    code, sep, p = text.partition(":")
    if not sep:
        raise ValueError(f"expected {what.upper().replace(' ', '_')}:PROBABILITY")
    try:
        number = int(code.strip())
    except ValueError:
        raise ValueError(f"{code.strip()!r} is not an integer {what}") from None
    return number, _parse_probability(p)


def _check_errcode(code: int) -> None:
    if code == e.OK or code not in e.ERRMSG:
        known = ", ".join(str(c) for c in sorted(e.ERRMSG) if c != e.OK)
        raise ValueError(f"errcode {code} is not one the emulator can send; known: {known}")


def _parse_count(text: str, unit: str) -> int:
    number, sep, per = text.partition("/")
    if not sep or per.strip() != unit:
        raise ValueError(f"expected COUNT/{unit}")
    if not number.strip().isdigit():
        raise ValueError(f"{number.strip()!r} is not a whole number of calls")
    return int(number)


def _parse_seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an integer seed") from None


def _parse_paths(text: str) -> tuple[str, ...]:
    paths = tuple(p.strip() for p in text.split("|"))
    for path in paths:
        if not path.startswith("/"):
            raise ValueError(f"{path!r} is not an API path like /card/create")
        if path.startswith("/_emulator/"):
            raise ValueError(f"{path} is never faulted (the emulator's controls)")
    return tuple(dict.fromkeys(paths))


_PARSERS: dict[str, Callable[[str], object]] = {
    "latency": _parse_latency,
    "reset": _parse_probability,
    "drop": _parse_probability,
    "rate": lambda text: _parse_count(text, "min"),
    "quota": lambda text: _parse_count(text, "day"),
    "seed": _parse_seed,
    "paths": _parse_paths,
}


def _number(value: float) -> str:
    """Fixed notation, shortest round trip: 0.05, 0.00001, 20."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _duration(seconds: float) -> str:
    ms = round(seconds * 1000, 6)
    return f"{_number(ms / 1000)}s" if ms >= 1000 and ms % 1000 == 0 else f"{_number(ms)}ms"


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
        spec = self.spec
        appid = call.account or ""
        now = self.store.now()
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
        edge = 0.0
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
        entry: JSON = {
            "seq": call.seq,
            "time": call.time,
            "appid": call.account,
            "path": call.path,
            "errcode": errcode,
            "fault": call.fault,
        }
        card_id = _text(call.body.get("card_id")) or _text((answer or {}).get("card_id"))
        if card_id:
            entry["card_id"] = card_id
        token = call.token or _text((answer or {}).get("access_token"))
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
        self.store.calls.append(entry)
        if call.faulted or call.fault:
            # During a campaign every faulted call is saved (log, counters); plain reads are not.
            self.store.dirty = True

    def response(self, call: ApiCall, answer: JSON | None) -> Response:
        if call.fault == "http" and call.http_status is not None:
            return Response(_http_page(call.http_status), status_code=call.http_status, media_type="text/html")
        if call.fault in ("reset", "drop") or answer is None:
            return ConnectionReset(call.path, committed=call.fault == "drop")
        return JSONResponse(answer)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _stock_delta(body: JSON) -> int | None:
    for name, sign in (("increase_stock_value", 1), ("reduce_stock_value", -1)):
        value = body.get(name)
        if isinstance(value, bool) or value is None:
            continue
        try:
            return sign * int(value)
        except (TypeError, ValueError):
            return None
    return None
