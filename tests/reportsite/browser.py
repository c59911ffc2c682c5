"""A real headless Chromium (the system's package) driven over the DevTools protocol.

No browser download, no WebDriver: Chromium is started with ``--remote-debugging-port=0`` and
spoken to over its WebSocket. :meth:`Browser.load` returns the console errors, the uncaught
exceptions, every URL the page requested and a PNG screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import pytest


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.fail("no Chromium on this machine: `make test` installs it (apt-get install chromium), "
                "or install the distribution's chromium package")


@dataclass
class PageLoad:
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""


class Browser:
    def __init__(self):
        from websockets.sync.client import connect

        self._dir = tempfile.mkdtemp(prefix="xxgk-chromium-")
        self.proc = subprocess.Popen(
            [chromium_path(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={self._dir}",
             "--window-size=1280,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ws_url, seen = None, []
        deadline = time.monotonic() + 60
        while ws_url is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            seen.append(line)
            if "DevTools listening on " in line:
                ws_url = line.split("DevTools listening on ", 1)[1].strip()
        if ws_url is None:
            self.close()
            pytest.fail("Chromium did not start:\n" + "".join(seen[-20:]))
        self.ws = connect(ws_url, max_size=None, open_timeout=30)
        self._ids = itertools.count(1)
        self._events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, params: dict | None = None, session: bool = False, timeout: float = 60) -> dict:
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            data = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if data.get("id") == msg_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            self._events.append(data)

    def _wait_event(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == name for e in self._events):
            self._events.append(json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def load(self, url: str) -> PageLoad:
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self._wait_event("Page.loadEventFired")
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        out = PageLoad(url, screenshot=base64.b64decode(shot))
        for e in self._events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.errors.append(json.dumps(p.get("exceptionDetails", {}), ensure_ascii=False)[:300])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.errors.append(p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
            elif m == "Network.loadingFailed":
                out.errors.append(f"failed to load: {p.get('errorText')}")
            elif m == "Network.requestWillBeSent":
                out.requests.append(p["request"]["url"])
        return out

    def close(self) -> None:
        with_ws = getattr(self, "ws", None)
        if with_ws is not None:
            with_ws.close()
        self.proc.kill()
        self.proc.wait(timeout=30)
        shutil.rmtree(self._dir, ignore_errors=True)
