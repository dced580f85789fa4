"""Commands wxrec prints for the user to run. Each names the run's own manifests and options (RunSettings's
`invocation` or `state_invocation`), so that it runs as printed."""

from __future__ import annotations

import shlex


def state_command(verb: str, state_invocation: str, *arguments: str) -> str:
    """`wxrec state VERB …` for the state of the run that prints it (`state_invocation`, already quoted)."""
    return f"wxrec state {verb} {state_invocation} {shlex.join(arguments)}"
