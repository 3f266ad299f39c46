"""``caselib demo --web``: seed the demo's morning, then serve the reference web app
(``examples/webapp``) over the same SQLite store on 127.0.0.1.

The app is an example, not part of the library: it is found beside the source tree (a
checkout or an editable install) and needs the ``web`` extra. Either missing is said plainly
and the command exits with 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from caselib.access import AccessPolicy
from caselib.desk import ServiceDesk, TenantSettings
from caselib.ports import Store

__all__ = ["DEMO_END", "WEB_MODULES", "DemoClock", "app_path", "load_app_module", "serve_demo"]

DEMO_END = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
"""Where the served demo's time starts: just after the scripted morning's last step, so its
SLA badges, inbox and 30-day report read the seeded cases as they were then."""


class DemoClock:
    """The demo's "now": :data:`DEMO_END` plus the real time since the server started, so
    cases created in the browser get fresh, moving times after the seeded ones."""

    def __init__(self, start: datetime = DEMO_END) -> None:
        self._start, self._began = start, time.monotonic()

    def now(self) -> datetime:
        """The demo's current time (aware UTC)."""
        return self._start + timedelta(seconds=time.monotonic() - self._began)

WEB_MODULES = ("starlette", "jinja2", "uvicorn", "multipart")
"""What the ``web`` extra installs (import names)."""


def app_path() -> Path:
    """Where the reference app lives in a source tree: ``examples/webapp/app.py``."""
    return Path(__file__).resolve().parents[2] / "examples" / "webapp" / "app.py"


def _missing() -> list[str]:
    return [name for name in WEB_MODULES if importlib.util.find_spec(name) is None]


def load_app_module() -> Any:
    """Import ``examples/webapp/app.py`` by path (it is not a package of caselib)."""
    spec = importlib.util.spec_from_file_location("caselib_webapp", app_path())
    if spec is None or spec.loader is None:  # pragma: no cover - a path always has a loader
        raise ImportError(f"cannot load {app_path()}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _port_problem(port: int) -> str | None:
    """Why the server could not listen on ``port`` of 127.0.0.1, or ``None``: checked before
    seeding, so a busy port is one line naming ``--port`` instead of a server error after the
    "serving on" line."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OverflowError:
            return "a port is 1 to 65535"
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def serve_demo(store: Store, where: str, db: Path | None, port: int,
               seed: Callable[..., int]) -> int:
    """Seed with ``seed`` (the demo's morning, its output kept quiet), then serve until
    interrupted; 2 when the ``web`` extra or the example app is missing, or ``port`` is
    not free."""
    missing = _missing()
    if missing:
        print(f"caselib demo --web needs the web extra (missing: {', '.join(missing)}); "
              "install it with: pip install 'caselib-engine[web]'", file=sys.stderr)
        return 2
    if not app_path().is_file():
        print(f"caselib demo --web serves the example app at {app_path()}, which this install "
              "does not have: run it from a source checkout (pip install -e '.[web]')",
              file=sys.stderr)
        return 2
    busy = _port_problem(port)
    if busy:
        print(f"caselib demo --web cannot serve on 127.0.0.1:{port} ({busy}); pick a free "
              "port with --port N", file=sys.stderr)
        return 2
    seed(store, where, out=io.StringIO(), db=db)
    desk = ServiceDesk(store, tenant="acme", clock=DemoClock(),
                       settings=TenantSettings(access=AccessPolicy.default()))
    app = load_app_module().create_app(desk)
    print(f"caselib demo: {where}, tenant 'acme'; serving on http://127.0.0.1:{port}/login "
          "(Ctrl-C stops)")
    importlib.import_module("uvicorn").run(app, host="127.0.0.1", port=port, log_level="warning")
    return 0
