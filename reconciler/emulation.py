"""The one seam between the library and an emulator: what a run against one needs of it (the demo account and
merchant, the embedded emulator's transport, whether the target is in legacy-coupons mode), behind a provider
that the wiring installs. The `wxrec` command installs reconciler.cli.embedded's for each command; a library caller
that runs against an emulator (api="emulator", or a served one by its demo account) installs it too:

    emulation.install(reconciler.cli.embedded.provider)

Nothing here loads the emulator, nor httpx: the provider is made only when a run asks for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reconciler.errors import WxrecError

if TYPE_CHECKING:
    import httpx

    from reconciler.pay.credentials import PayCredentials


class Emulators(Protocol):
    """What the library asks of an emulator, embedded or served."""

    @property
    def demo_appid(self) -> str:
        """The documented demo account, which a run against an emulator uses when no credentials are given."""

    @property
    def demo_secret(self) -> str: ...

    @property
    def demo_mchid(self) -> str:
        """The demo merchant, whose keys stand in for a served emulator's WeChat Pay."""

    def transport(
        self,
        data_file: Path,
        manifests: Path,
        appid: str,
        secret: str,
        warn: Callable[[str], None] | None,
        mchid: str,
    ) -> httpx.AsyncBaseTransport:
        """An emulator in this process, its account kept in `data_file`, serving `appid` and merchant `mchid`."""

    def demo_pay_credentials(self, mchid: str) -> PayCredentials:
        """The demo merchant keys (public demo values) for `mchid`."""

    def legacy_coupons(self, api: str) -> bool | None:
        """Whether the emulator at `api` ("emulator": the embedded one) creates coupons as WeChat did before
        2021-04-01; None when `api` answers as no emulator does. WxrecError when it cannot be asked."""


Factory = Callable[[], Emulators]

_factory: Factory | None = None


def install(factory: Factory) -> None:
    """For the rest of the process (a library caller's script); `installed` for a scope."""
    global _factory
    _factory = factory


@contextmanager
def installed(factory: Factory) -> Iterator[None]:
    """The provider for one scope (a command, a test); the one before is back afterwards."""
    global _factory
    before, _factory = _factory, factory
    try:
        yield
    finally:
        _factory = before


def current() -> Emulators | None:
    """The installed provider, if any: a run against an address other than WeChat's may use its demo account."""
    return _factory() if _factory is not None else None


def required() -> Emulators:
    """The installed provider, which a run against the embedded emulator cannot do without."""
    provider = current()
    if provider is None:
        raise WxrecError(
            'api="emulator" needs the emulator provider, which the wxrec command installs: a library caller '
            "calls reconciler.emulation.install(reconciler.cli.embedded.provider) first"
        )
    return provider
