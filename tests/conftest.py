"""Shared fixtures: manifests written to temporary directories, and a fast retry policy."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings

from reconciler import emulation
from reconciler.cli import embedded
from reconciler.emulator import LEGACY_COUPONS_ENV
from tests.support import (
    EXAMPLE,
    LEGACY_COUPONS_FLAG_ENV,
    RUN_LEFTOVERS,
    Harness,
    harness_for,
    running_test_cluster,
    with_state_name,
)

# Timing belongs in benchmarks/: on a shared 2-core runner a generated example can take
# longer than hypothesis's 200 ms deadline without anything being wrong.
settings.register_profile("wxrec", deadline=None)
settings.load_profile("wxrec")


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A private copy of the coffee-shop example, so tests can edit it and keep state beside it."""
    target = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, target, ignore=RUN_LEFTOVERS)
    return target


@pytest.fixture(autouse=True, scope="session")
def own_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """wxrec's cache (the compiled manifest check) in the session's temporary directory, never the user's."""
    before = os.environ.get("WXREC_CACHE_DIR")
    os.environ["WXREC_CACHE_DIR"] = str(tmp_path_factory.mktemp("wxrec-cache"))
    yield
    if before is None:
        del os.environ["WXREC_CACHE_DIR"]
    else:
        os.environ["WXREC_CACHE_DIR"] = before


@pytest.fixture(autouse=True)
def reports_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The golden files are English whatever the locale of the machine running the suite."""
    monkeypatch.setenv("WXREC_LANG", "en")


@pytest.fixture(autouse=True)
def every_plan_document_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every plan document any test produces must validate against schemas/plan.schema.json."""
    import jsonschema

    from reconciler.manifest import load_schema
    from reconciler.plan import Plan

    validator = jsonschema.Draft202012Validator(load_schema("plan"))
    original = Plan.to_dict

    def checked(self: Plan) -> dict[str, object]:
        document = original(self)
        validator.validate(document)
        return document

    monkeypatch.setattr(Plan, "to_dict", checked)


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI=true adds a warning about throwaway runners; tests compare outputs, so they run as on a laptop (and a
    laptop's proxy would carry the calls to the served emulators: the proxy tests set their own)."""
    for variable in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WXREC_EMULATOR_FAULTS", raising=False)
    monkeypatch.delenv("WXREC_API", raising=False)
    monkeypatch.delenv("WXREC_STATE", raising=False)


@pytest.fixture
def legacy_coupons(monkeypatch: pytest.MonkeyPatch) -> None:
    """Emulators create coupons as before 2021-04-01, and the planner lets them: the embedded emulator (and
    make_api, harness_for) through WXREC_EMULATOR_LEGACY_COUPONS, served ones and plans against them through
    WXREC_LEGACY_COUPONS (`wxrec emulator serve --legacy-coupons`, `plan --legacy-coupons`)."""
    monkeypatch.setenv(LEGACY_COUPONS_ENV, "1")
    monkeypatch.setenv(LEGACY_COUPONS_FLAG_ENV, "1")


@pytest.fixture
def emulator_provider() -> Iterator[None]:
    """As the wxrec command does for each run: library calls that reach an emulator (api="emulator", or a served
    one by its demo account) find it through reconciler.cli.embedded."""
    with emulation.installed(embedded.provider):
        yield


@pytest.fixture
def todays_coupons(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeChat as it is today: emulators refuse to create coupons, and so does the planner."""
    monkeypatch.delenv(LEGACY_COUPONS_ENV, raising=False)
    monkeypatch.delenv(LEGACY_COUPONS_FLAG_ENV, raising=False)


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    """The example's manifests beside a fresh emulator account that approves cards at once."""
    async for harness in harness_for(tmp_path):
        yield harness


@pytest.fixture
async def reviewed_shop(tmp_path: Path) -> AsyncIterator[Harness]:
    """The same, with cards waiting for review until a test approves them."""
    async for harness in harness_for(tmp_path, review="manual"):
        yield harness


# Read at import: the `outside_ci` fixture hides CI from the tests themselves.
UNDER_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test cluster of scripts/ensure-postgres (which `make test` runs). Without one, PostgreSQL tests are
    skipped on a laptop but fail under CI=true: CI must never pass without testing the backend."""
    url = os.environ.get("WXREC_TEST_POSTGRES_URL") or running_test_cluster()
    problem = "no PostgreSQL for the tests (run scripts/ensure-postgres, as `make test` does)"
    if url:
        try:
            psycopg.connect(url, connect_timeout=5).close()
            return url
        except psycopg.Error as exc:
            problem = f"the PostgreSQL at {url} does not answer ({exc})"
    if UNDER_CI:
        pytest.fail(problem)
    pytest.skip(problem)


@pytest.fixture
def postgres_state(postgres_url: str) -> str:
    """A state of its own for each test, in the one test database."""
    return with_state_name(postgres_url, f"test-{uuid.uuid4()}")
