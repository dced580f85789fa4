"""A run's input as the library takes it: which manifests, which account, where state lives, and the knobs of
plan and apply. The CLI builds `RunSettings` from its flags; a library caller builds it directly."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from reconciler import emulation
from reconciler.connection import (
    EMULATOR,
    Credentials,
    account_name,
    credentials_among_several,
    credentials_of_one,
    endpoint_label,
)
from reconciler.endpoints import WECHAT_API, WECHAT_PAY_API
from reconciler.errors import ManifestError, WxrecError
from reconciler.manifest import Manifest, load_manifest, load_variables, manifest_directory, state_dir
from reconciler.manifest.variables import environments
from reconciler.planning import Options
from reconciler.state import POSTGRES_SCHEMES, StateBackend, open_backend, shown_location
from reconciler.targeting import Targeting
from reconciler.wechat.client import split_userinfo
from reconciler.wechat.limiter import CallLimiter

Warn = Callable[[str], None]


def ignore(message: str) -> None:
    """A Warn for callers who read the warnings elsewhere (a Manifest keeps them in document.warnings)."""


@dataclass
class RunSettings:
    manifest_path: Path
    api: str = WECHAT_API
    pay_api: str = WECHAT_PAY_API  # WeChat Pay (pay_coupons); `api` emulator serves both
    state_location: str | None = None
    replace: tuple[str, ...] = ()
    # --target / --exclude (plan and apply): the addresses the plan is scoped to, or scoped away from.
    target: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    parallelism: int = 16
    allow_duplicate: bool = False
    destroy_threshold: float = 0.25
    refresh: bool = True
    max_rate: float | None = None
    qrcode_dir: Path | None = None
    wait_for_review: float = 0.0
    env: str | None = None
    var: tuple[str, ...] = ()
    credentials: Credentials = field(default_factory=lambda: Credentials())
    # apply: seconds to wait for the state lock; go ahead without asking; permit deletes and replaces.
    lock_timeout: float = 60.0
    auto_approve: bool = False
    allow_destroy: bool = False
    # plan and apply --legacy-coupons: the --api URL is an emulator started with --legacy-coupons (it is asked).
    legacy_coupons: bool = False

    def manifest(self, warn: Warn = ignore) -> Manifest:
        return load(self.manifest_path, self.env, self.var, warn)

    def backend(self) -> StateBackend:
        return state_backend(self.manifest_path, self.state_location, self.env)

    def limiter(self) -> CallLimiter:
        return CallLimiter(self.parallelism, self.max_rate)

    def invocation(self) -> str:
        """These manifests and the options that pick this account, state and environment, as a printed command
        needs them to run as printed (`shop --api emulator --env prod`). A URL is shown without its password."""
        words = self._state_words()
        if self.api != WECHAT_API:
            words += ["--api", endpoint_label(self.api)]
        if self.pay_api != WECHAT_PAY_API and self.api != EMULATOR:
            words += ["--pay-api", endpoint_label(self.pay_api)]
        for pair in self.var:
            words += ["--var", pair]
        return shlex.join(words)

    def state_invocation(self) -> str:
        """`invocation` for a state command (`wxrec state rm`, `state unlock`), which takes only the words that
        find the state: the manifests, --state and --env (no --api, no --var)."""
        return shlex.join(self._state_words())

    def _state_words(self) -> list[str]:
        words = [str(self.manifest_path)]
        if self.state_location is not None:
            words += ["--state", shown_location(self.state_location)]
        if self.env:
            words += ["--env", self.env]
        return words

    def options(self) -> Options:
        return Options(
            replace=frozenset(self.replace),
            parallelism=self.parallelism,
            allow_duplicate=self.allow_duplicate,
            destroy_threshold=self.destroy_threshold,
            refresh=self.refresh,
            qrcode_dir=self.qrcode_dir or default_qrcode_dir(self.manifest_path, self.env),
            wait_for_review=self.wait_for_review,
            manifest_root=manifest_directory(self.manifest_path),
            targeting=self.targeting(),
            invocation=self.invocation(),
            state_invocation=self.state_invocation(),
            legacy_coupons=self.legacy_coupons_target(),
        )

    def legacy_coupons_target(self) -> bool:
        """Whether this run's account is an emulator in legacy mode, the only one that still creates coupons, as
        the emulator says: the embedded one (WXREC_EMULATOR_LEGACY_COUPONS), a served one when asked by
        --legacy-coupons. An emulator that says otherwise than the option is an error; WeChat itself never is in
        legacy mode, whatever the option says (docs/decisions.md)."""
        if self.api != EMULATOR and (not self.legacy_coupons or _is_wechat(self.api)):
            return False
        said = self._target_legacy_coupons
        if self.legacy_coupons and not said:
            raise WxrecError(f"--legacy-coupons (or WXREC_LEGACY_COUPONS): {self._not_legacy(said)}")
        return bool(said)

    @cached_property
    def _target_legacy_coupons(self) -> bool | None:
        """Asked once a run: apply builds its options more than once."""
        return emulation.required().legacy_coupons(self.api)

    def _not_legacy(self, said: bool | None) -> str:
        if self.api == EMULATOR:
            return "the embedded emulator is not in legacy mode: set WXREC_EMULATOR_LEGACY_COUPONS=1, or leave it out"
        where = endpoint_label(self.api)
        if said is None:
            return f"{where} is not an emulator that reports a legacy mode (`wxrec emulator serve --legacy-coupons`)"
        return f"the emulator at {where} is not in legacy mode: serve it with --legacy-coupons, or leave it out"

    def targeting(self) -> Targeting:
        return Targeting(frozenset(self.target), frozenset(self.exclude))


def _is_wechat(api: str) -> bool:
    """WeChat's own API, also through user:password@; a URL that is not one is for connect() to refuse."""
    try:
        return split_userinfo(api.rstrip("/"))[0] == WECHAT_API
    except ValueError:
        return False


def accounts(manifests: tuple[Path, ...], options: dict[str, Any]) -> list[RunSettings]:
    """One RunSettings per manifest directory. Alone, a directory also falls back to the plain WXREC_APPSECRET;
    among several, only its own variables count, so no account ever runs with another's secret."""
    if len(manifests) == 1:
        return [RunSettings(manifest_path=manifests[0], credentials=credentials_of_one(manifests[0]), **options)]
    if options.get("state_location") is not None:
        raise WxrecError("--state names one state file: with several manifest directories each keeps its own")
    _refuse_shared(manifests, account_name, "share the credential name WXREC_{}_APPSECRET")
    _refuse_shared(manifests, lambda m: str(state_dir(m).resolve()), "would share the state in {}")
    return [RunSettings(manifest_path=m, credentials=credentials_among_several(m), **options) for m in manifests]


def _refuse_shared(manifests: tuple[Path, ...], key: Callable[[Path], str], problem: str) -> None:
    seen: dict[str, Path] = {}
    for manifest in manifests:
        first = seen.setdefault(key(manifest), manifest)
        if first != manifest:
            raise WxrecError(f"{first} and {manifest} {problem.format(key(manifest))}: rename one directory")


def load(manifest: Path, env: str | None, var: tuple[str, ...], warn: Warn = ignore) -> Manifest:
    """The manifests with their vars filled in; each var set but never used is passed to `warn`."""
    try:
        loaded = load_manifest(manifest, load_variables(manifest, env, overrides(var)))
    except ManifestError as exc:
        undefined = any(problem.message.startswith("undefined var") for problem in exc.problems)
        hint = environment_hint(manifest, env) if undefined else None
        if hint is None:
            raise
        raise ManifestError(exc.problems, hint) from None
    for warning in loaded.document.warnings:
        warn(warning)
    return loaded


def environment_hint(manifest: Path, env: str | None) -> str | None:
    """Without --env in a directory of environments, vars and state are the bare ones, which is rarely meant."""
    names = environments(manifest) if env is None else []
    if not names:
        return None
    return f"No --env was given; the environments here are {', '.join(names)}: add --env {names[0]} (or another)."


def overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """--var NAME=VALUE pairs as a mapping."""
    found = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals:
            raise WxrecError(f"--var {pair!r}: give NAME=VALUE")
        found[name] = value
    return found


def state_backend(manifest: Path, state_location: str | None, env: str | None = None) -> StateBackend:
    return open_backend(environment_state(state_location, env), manifest, state_dir(manifest, env) / "state.json")


def environment_state(location: str | None, env: str | None) -> str | None:
    """With --env, a --state given once for every environment (WXREC_STATE in CI) must still keep them apart:
    a PostgreSQL URL without a state_name gets the environment's; a state_name or a path must name it."""
    if location is None or env is None:
        return location
    if location.startswith(POSTGRES_SCHEMES):
        names = [value for key, value in parse_qsl(urlsplit(location).query) if key == "state_name"]
        if not names:
            return f"{location}{'&' if '?' in location else '?'}state_name={env}"
        named = _names_environment(names[0], env)
    else:
        path = Path(location)
        named = any(_names_environment(part, env) for part in (*path.parent.parts, path.stem))
    if named:
        return location
    shown = "a PostgreSQL state of another name" if location.startswith(POSTGRES_SCHEMES) else location
    raise WxrecError(
        f"--env {env} with --state {shown}: every environment would share that state. Name {env}'s own, "
        f"e.g. state/{env}/state.json or ?state_name={env}"
    )


def _names_environment(name: str, env: str) -> bool:
    """`prod` is named by `prod`, `shop-prod` or `prod_state`, not by `production`."""
    return re.search(rf"(^|[-_.]){re.escape(env)}($|[-_.])", name) is not None


def default_qrcode_dir(manifest: Path, env: str | None) -> Path:
    """`qrcodes/` beside the manifests, `qrcodes/ENV/` for an environment: each account has its own codes."""
    directory = state_dir(manifest).parent / "qrcodes"
    return directory / env if env else directory
