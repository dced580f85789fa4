"""The fault spec: one string describes a fault campaign everywhere.

``EmulatorConfig(faults=...)``, ``WXREC_EMULATOR_FAULTS``, ``wxrec emulator serve --faults``,
``wxrec emulator faults`` and ``POST /_emulator/faults`` all take it; the grammar is in this
package's README ("Fault injection"). This module only parses and prints it: faults.py puts
a spec to work on every call.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from typing import Literal

from . import errors as e

TOKEN_PATHS = frozenset({"/cgi-bin/token", "/cgi-bin/stable_token"})
HTTP_FAULTS = frozenset(s.value for s in HTTPStatus if 500 <= s.value < 600)
_KEYS = ("latency", "error", "http", "reset", "drop", "rate", "quota", "seed", "paths")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s)")
_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(%?)")


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
                _add_coded(errors, value, "errcode", _check_errcode)
            elif key == "http":
                _add_coded(http, value, "HTTP status", _check_http_status)
            elif key in found:
                raise ValueError(f"{key} given twice")
            else:
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


def _add_coded(shares: dict[int, float], value: str, what: str, check: Callable[[int], None]) -> None:
    """One CODE:PROBABILITY item into ``shares``; a code given twice is refused."""
    code, p = _coded_probability(value, what)
    check(code)
    if code in shares:
        raise ValueError(f"{what} {code} given twice")
    shares[code] = p


def _check_http_status(code: int) -> None:
    if code not in HTTP_FAULTS:
        raise ValueError(f"HTTP status must be a 5xx status, not {code}")


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
