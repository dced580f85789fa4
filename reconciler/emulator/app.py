"""The ASGI application: WeChat's API at its own paths, test controls under /_emulator/."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from .api import dispatch
from .config import EmulatorConfig
from .controls import control_routes
from .service import Emulator

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator; loads config.data_file when it exists (StoreError when it is unreadable)."""
    emulator = Emulator(config or EmulatorConfig())
    app = Starlette(
        routes=[
            Mount("/_emulator", routes=control_routes()),
            # Every other path is WeChat's: wrong methods and unknown paths get WeChat-style errcodes.
            Route("/{path:path}", dispatch, methods=_ALL_METHODS),
        ]
    )
    app.state.emulator = emulator
    return app
