"""Resources WeChat can create but never read back, edit or delete: landing pages and QR codes.

What was created is known only from state. A changed resource is created anew (the old one stays live);
one whose referenced card was replaced is created anew pointing at the new card; one gone from the
manifests is forgotten (it stays live: there is no delete). A create whose answer was lost cannot be looked
up, so the next plan says so and refuses to create a second one unless -replace asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.address import Address, kind_of, referenced
from reconciler.plan import Action, ResourceChange
from reconciler.resources.references import Lookup, resolve
from reconciler.state import State


def api_value(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What is sent to WeChat: the manifest's value without wxrec's own `lifecycle`."""
    return {key: value for key, value in spec.items() if key != "lifecycle"}


@dataclass(frozen=True)
class WriteOnlyKind:
    name: str  # "landing_pages"
    noun: str  # "landing page"
    stays_live: str  # what the plan says about an old one left behind

    def records(self, state: State | None) -> dict[str, dict[str, Any]]:
        if state is None:
            return {}
        return {a: r for a, r in state.resources.items() if kind_of(a) == self.name}

    def plan(
        self,
        specs: Mapping[str, Any],
        state: State | None,
        lookup: Lookup,
        replace: frozenset[str],
        notes_for: Callable[[str, Mapping[str, Any]], list[str]] = lambda address, record: [],
    ) -> tuple[list[ResourceChange], list[str], list[str]]:
        """Changes for every address of this kind, refusals (uncertain creates), and warnings: facts about
        what stays as it is (an expired temporary QR code), which are not changes."""
        records = self.records(state)
        intents = state.intents if state else {}
        changes: list[ResourceChange] = []
        refusals: list[str] = []
        warnings: list[str] = []
        for address in sorted({str(Address(self.name, key)) for key in specs} | set(records)):
            key = Address.parse(address).key
            record = records.get(address)
            if key not in specs:
                changes.append(self._forget(address, record))
                continue
            reasons = self._reasons(address, specs[key], record, lookup, replace)
            if address in intents and address not in replace:
                refusals.append(
                    f"{address}: an earlier create lost its answer, so WeChat may have made this {self.noun}; it "
                    f"cannot be read back. Pass -replace {address} to create it (again)"
                )
            if reasons:
                change = ResourceChange(address, Action.CREATE, reasons=reasons, after={"spec": specs[key]})
                if record is not None:
                    change.id = record.get("id")
                    change.before = {"spec": record.get("applied"), "url": record.get("url")}
                    change.notes.append(f"the old {self.noun} {record.get('id')} {self.stays_live}")
                changes.append(change)
            elif record is not None:
                warnings += notes_for(address, record)
        return changes, refusals, warnings

    def _reasons(
        self,
        address: str,
        spec: Any,
        record: Mapping[str, Any] | None,
        lookup: Lookup,
        replace: frozenset[str],
    ) -> list[str]:
        if record is None:
            return [f"a new {self.noun}"]
        if address in replace:
            return ["a new one requested with -replace"]
        if record.get("applied") != spec:
            return [f"the {self.noun} changed: WeChat cannot edit it, so a new one is created"]
        resolved, unknown = resolve(api_value(spec), lookup)
        if unknown:
            return [f"re-created because {', '.join(sorted({referenced(u) for u in unknown}))} gets a new id"]
        if resolved != record.get("resolved"):
            return ["re-created: a card it shows was replaced since it was made"]
        return []

    def _forget(self, address: str, record: Mapping[str, Any] | None) -> ResourceChange:
        return ResourceChange(
            address,
            Action.FORGET,
            id=(record or {}).get("id"),
            notes=[f"removed from the manifests; it {self.stays_live}"],
            before={"spec": (record or {}).get("applied"), "url": (record or {}).get("url")},
        )
