"""Deposited custom codes (`codes` section): codes from a file, deposited into a deposit-mode card.

Codes are money: they never appear in plans, logs, messages or state. State keeps an 8-byte hash per
deposited code in its ledger, so reordering the file changes nothing and an interrupted deposit resumes
where it stopped. Deposits go in batches of 100 (WeChat's limit), each verified with checkcode; the
card's stock then follows min(target, deposited). WeChat offers no way to take a code back: codes gone
from the file stay deposited, and a `codes` section gone from the manifests is only forgotten.

The package's face to planning (what it calls as `codes.NAME`). Inside: `record.py` (state's `CodesRecord`),
`files.py` (reading and checking codes files), `planning.py`, `apply.py` (`CodesApplier`), `resource.py` (the kind).
"""

from reconciler.resources.codes.files import CodeFile, code_files
from reconciler.resources.codes.planning import plan_all
from reconciler.resources.codes.record import KIND, DepositedHashes

__all__ = ["KIND", "CodeFile", "DepositedHashes", "code_files", "plan_all"]
