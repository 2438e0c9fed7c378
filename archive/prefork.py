"""The app under gunicorn: several preforked worker processes, one per core.

One Python process searches on one core at a time (the GIL), so threads only
overlap waiting; to use several cores the app runs in several processes, each
with its own app, database connections and index searcher.  Every worker
notices a rebuilt or updated index by itself (the search service rereads the
index's ``CURRENT`` file on each search), so ``reindex`` and ``import`` need
no restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

# A worker that answers nothing for this long is killed and replaced.  A
# worker's first search opens the index and may wait for the synonym map
# (seconds on a large archive), so leave room above that.
WORKER_TIMEOUT_SECONDS = 120
# On SIGTERM each worker may finish the request in hand for this long.
GRACEFUL_TIMEOUT_SECONDS = 30
# Client, time, request line, status, bytes, milliseconds and the worker's <pid>.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms %(p)s'


class PreforkServer(BaseApplication):
    """gunicorn driven from Python, so that the command stays ``python -m archive serve``."""

    def __init__(
        self,
        host: str,
        port: int,
        workers: int,
        access_log: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.config = config or {}
        self.options: dict[str, Any] = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": workers,
            "worker_class": "sync",
            "timeout": WORKER_TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
            # Each worker builds its own app after the fork: nothing opened is shared.
            "preload_app": False,
            # gunicorn 25.1+ listens on a control socket at one path per user:
            # two archives served at once (a test beside the demo) would clash.
            "control_socket_disable": True,
            "proc_name": "archive",
            "errorlog": "-",
            "loglevel": "info",
            "accesslog": access_log,
            "access_log_format": ACCESS_LOG_FORMAT,
        }
        # Workers touch a heartbeat file every second; on a slow disk a busy
        # worker could miss it and be taken for hung.
        if Path("/dev/shm").is_dir():
            self.options["worker_tmp_dir"] = "/dev/shm"
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The app, built in each worker after the fork."""
        from archive import create_app

        return create_app(self.config)
