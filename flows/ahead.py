"""Prefect API work of a flow run started ahead, in a thread, and made good when the run needs it done."""

from __future__ import annotations

import contextvars
import threading
from typing import Any


class Ahead:
    """``work(*args)`` started in a thread of its own (``start``, once) in the caller's context (the flow run's
    settings, client and ids); ``finish(*args)`` waits for it, and does the work itself when it failed there
    or never started, so that its error is raised where the run needs it. Subclasses name the thread and say
    what the work is."""

    name = "xxgk-ahead"

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._failed = False

    def work(self, *args: Any) -> None:
        raise NotImplementedError

    def start(self, *args: Any) -> None:
        if self._thread is None:
            context = contextvars.copy_context()
            self._thread = threading.Thread(target=context.run, args=(self._ahead, *args), daemon=True,
                                            name=self.name)
            self._thread.start()

    def _ahead(self, *args: Any) -> None:
        try:
            self.work(*args)
        except Exception:  # noqa: BLE001 - done again by finish(), where its error is raised
            self._failed = True

    def finish(self, *args: Any) -> None:
        if self._thread is not None:
            self._thread.join()
            if not self._failed:
                return
        self.work(*args)
