"""The ASGI application: WeChat's API and WeChat Pay's (/v3/) at their own paths, test controls under /_emulator/."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from .api import dispatch
from .config import EmulatorConfig
from .controls import control_routes
from .fault_spec import parse_faults
from .faults import quiet_uvicorn_resets
from .pay.controls import pay_control_routes
from .qrcodes import showqrcode
from .resource_controls import resource_control_routes
from .service import Emulator

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator; loads config.data_file when it exists (StoreError when it is unreadable)."""
    emulator = Emulator(config or EmulatorConfig())
    quiet_uvicorn_resets()  # an emulated connection reset is not worth a traceback in the server's log
    app = Starlette(
        routes=[
            Mount("/_emulator", routes=[*pay_control_routes(), *resource_control_routes(), *control_routes()]),
            # mp.weixin.qq.com's QR code images: no token, an image or HTTP 404.
            Route("/cgi-bin/showqrcode", showqrcode, methods=["GET"]),
            # Every other path is WeChat's: wrong methods and unknown paths get WeChat-style errcodes.
            Route("/{path:path}", dispatch, methods=_ALL_METHODS),
        ]
    )
    app.state.emulator = emulator
    return app


def faults_in_force(app: Starlette) -> str:
    """The fault spec the emulator of `app` injects (from its config or its data file), "" when none."""
    spec = parse_faults(app.state.emulator.store.fault_spec)
    return str(spec) if spec.active else ""
