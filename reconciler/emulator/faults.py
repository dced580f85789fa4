"""Fault injection: the one place where issue 4 plugs in (latency, error rates per errcode,
rate limits, "commit the change, then drop the response").

Every WeChat API call (not the /_emulator/ controls) passes through these two hooks, around
the real handler, in ``api.dispatch``:

- ``before_call`` may return an answer to send instead of running the handler (an injected
  errcode such as -1 or 45011), or sleep first to add latency;
- ``after_call`` sees the handler's answer once the change is committed and persisted; it
  returns the answer to send (the place to drop or garble it).

Nothing is injected yet: both hooks pass everything through.
"""

from __future__ import annotations

from .model import JSON


class Faults:
    async def before_call(self, path: str, appid: str | None) -> JSON | None:
        return None

    async def after_call(self, path: str, appid: str | None, answer: JSON) -> JSON:
        return answer
