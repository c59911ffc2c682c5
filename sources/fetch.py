"""A polite, resumable HTTP fetcher for report pages (requests, one pooled Session).

Per URL: follow redirects by hand (each hop must be http/https, at most
``max_redirects``, no loops); retry connection errors, timeouts, truncated bodies, 429
and 5xx with exponential backoff plus a little jitter, honouring ``Retry-After`` (seconds
or an HTTP date, capped); never retry other 4xx; stream the body and stop at
``max_bytes``; send ``If-None-Match`` / ``If-Modified-Since`` from the raw store's last
version so an unchanged report costs one 304.

Per host (``host[:port]``): at most ``max_per_host`` requests in flight and at least
``min_delay_s`` between the starts of two requests; a ``Retry-After`` pushes the host's
next slot back. Hosts are served in parallel from one thread pool.

Every outcome, failures included, becomes a manifest row in the raw store, and the run
goes on. Failure reasons are short codes (docs/SOURCES.md): ``http_<status>``,
``timeout``, ``connection_error``, ``connection_reset``, ``too_large``, ``truncated``,
``redirect_loop``, ``too_many_redirects``, ``bad_scheme``, ``not_a_report``,
``soft_error_page``, ``decode_error``, ``host_unreachable``, ``bad_encoding``,
``run_deadline``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import os
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions as u3
from requests.cookies import extract_cookies_to_jar

from sources.plainget import NET_ERRORS, NotSent, PlainGets, PlainResponse, as_requests_response, plain_target
from sources.rawstore import RawStore, sha256_hex
from sources.registry import Source
from sources.revalidate import Revalidator, revalidate_many
from transforms import decode as dec
from transforms.pdfimages import PICTURE_MAGIC

USER_AGENT = "xxgk/0.1 (+https://github.com/xxgk; government disclosure reports research)"
FETCHED, NOT_MODIFIED, FAILED = "fetched", "not_modified", "failed"

# Failure codes (docs/SOURCES.md lists them for users).
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection_error"
CONNECTION_RESET = "connection_reset"
TOO_LARGE = "too_large"
TRUNCATED = "truncated"
REDIRECT_LOOP = "redirect_loop"
TOO_MANY_REDIRECTS = "too_many_redirects"
BAD_SCHEME = "bad_scheme"
NOT_A_REPORT = "not_a_report"
DECODE_ERROR = "decode_error"
# A 200 page that is plainly not a report: captcha, WAF, login or "页面不存在". It never replaces
# a stored version (nothing is stored); the version published before stays.
SOFT_ERROR_PAGE = "soft_error_page"
BAD_ENCODING = "bad_encoding"  # a compressed body (gzip, deflate) that does not decompress
HOST_UNREACHABLE = "host_unreachable"  # the host timed out too often in a row: its other rows are not tried
RUN_DEADLINE = "run_deadline"  # the fetch's time budget was spent before this row's turn
STOPPED = "stopped"  # the run was interrupted (Ctrl-C, SIGTERM)
RETRYABLE = frozenset({TIMEOUT, CONNECTION_ERROR, CONNECTION_RESET, TRUNCATED})

_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")
_SOFT_404 = re.compile(
    r"(?<!\d)404(?!\d)|页面不存在|页面未找到|找不到(该|此|您要的)?页面|已被?删除|文章不存在|信息不存在|无法访问"
)
# Captcha, WAF and login pages that sites answer crawlers with, status 200.
_GATE_PAGE = re.compile(
    r"验证码|安全验证|人机验证|滑动验证|滑块验证|访问验证|请完成验证|请输入验证|访问过于频繁|访问频率过快|"
    r"请求被拦截|访问被拦截|已被拦截|安全防护|防火墙|网站防火墙|安全狗|云盾|"
    r"用户登录|请先登录|请登录|登录后|统一身份认证|(?i:captcha|access denied|forbidden|web application firewall)"
)
# A report's own title: a short page carrying it (tables as images, the report in an attachment)
# is a report page even when the site's header offers "用户登录".
_REPORT_TITLE = re.compile(r"工作年度报告|工作年报")
_IMAGE_MAGIC = PICTURE_MAGIC
_NON_REPORT_TYPES = ("image/", "video/", "audio/", "font/")


@dataclass(frozen=True)
class FetchOutcome:
    source: Source
    status: str  # fetched | not_modified | failed
    sha256: str | None = None  # the stored body (for not_modified: the version already held)
    content_type: str | None = None
    encoding: str | None = None
    kind: str | None = None  # pdf | html | text | docx | doc (transforms.decode)
    http_status: int | None = None
    error: str | None = None  # a failure code, e.g. http_404, timeout
    attempts: int = 0  # HTTP requests made, redirect hops and retries included
    fetched_at: str | None = None  # ISO 8601 UTC
    url: str | None = None  # final URL after redirects
    bytes: int | None = None
    new_version: bool = False  # a body this URL had not given before
    repaired: bool = False  # the raw store held this body damaged; the download replaced it
    detail: str | None = field(default=None, compare=False)  # human-readable context for the error

    @property
    def ok(self) -> bool:
        return self.status != FAILED


@dataclass(frozen=True)
class Page:
    """A page fetched without storing it (``Fetcher.fetch_url``)."""

    url: str  # final URL after redirects
    body: bytes | None
    content_type: str | None = None
    http_status: int | None = None
    error: str | None = None  # failure code, None when the body was received


class _Fail(Exception):
    def __init__(
        self, code: str, detail: str = "", http_status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail, self.http_status, self.retry_after = code, detail, http_status, retry_after
        self.total_requests = 1
        self.requests = 0  # requests made by the attempt that failed (Fetcher._fail sets it)


class _HostGate:
    """At most ``limit`` requests in flight to one host, starts ``min_delay`` apart; counts the
    host's consecutive timeouts (a host that accepts connections and never answers)."""

    def __init__(self, limit: int, min_delay: float, stop: threading.Event | None = None):
        self._sem = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._next = 0.0
        self._min_delay = min_delay
        self._stop = stop or threading.Event()
        self.timeouts = 0  # consecutive timed-out requests
        self.unreachable: str | None = None  # why the host was given up, once it is

    def __enter__(self):
        while not self._sem.acquire(timeout=0.2):
            if self._stop.is_set():
                raise _Fail(STOPPED, "the run was interrupted")
        with self._lock:
            given_up = self.unreachable
            now = time.monotonic()
            start = now if given_up else max(now, self._next)
            if not given_up:
                self._next = start + self._min_delay
        if given_up is None and start > now:
            self._stop.wait(start - now)
        if self._stop.is_set() or self.unreachable:
            self._sem.release()
            if self._stop.is_set():
                raise _Fail(STOPPED, "the run was interrupted")
            raise _Fail(HOST_UNREACHABLE, self.unreachable or "")
        return self

    def answered(self) -> None:
        with self._lock:
            self.timeouts = 0

    def timed_out(self, give_up_after: int, host: str) -> None:
        with self._lock:
            self.timeouts += 1
            if give_up_after and self.timeouts >= give_up_after and not self.unreachable:
                self.unreachable = f"{host} timed out {self.timeouts} times in a row; its other rows were not tried"

    def __exit__(self, *exc):
        self._sem.release()

    def defer(self, seconds: float) -> None:
        """The server asked us to wait (Retry-After): no request to it before then."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its causes and wrapped arguments (requests nests urllib3 errors in args)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None)):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def classify_exception(exc: BaseException) -> str:
    """A failure code for an exception raised by requests/urllib3 while talking to a server."""
    chain = list(_chain(exc))
    if any(isinstance(e, (requests.exceptions.ContentDecodingError, u3.DecodeError)) for e in chain):
        return BAD_ENCODING
    if any(isinstance(e, requests.Timeout) for e in chain):
        return TIMEOUT
    # urllib3's NewConnectionError subclasses ConnectTimeoutError: a refusal is not a timeout.
    if any(
        isinstance(e, (ConnectionRefusedError, u3.NewConnectionError, u3.NameResolutionError)) for e in chain
    ):
        return CONNECTION_ERROR
    if any(isinstance(e, (u3.TimeoutError, TimeoutError)) for e in chain):
        return TIMEOUT
    if any(
        isinstance(e, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)) for e in chain
    ):
        return CONNECTION_RESET
    if any(
        isinstance(
            e, (http.client.IncompleteRead, u3.IncompleteRead, requests.exceptions.ChunkedEncodingError)
        )
        for e in chain
    ):
        return TRUNCATED
    return CONNECTION_ERROR


_META_REFRESH = re.compile(
    rb"""<meta[^>]{0,80}http-equiv\s*=\s*["']?refresh["']?[^>]{0,80}"""
    rb"""content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*['"]?([^"'>\s]+)""",
    re.IGNORECASE,
)


def meta_refresh_target(body: bytes) -> str | None:
    """The target of a small forwarding page (``<meta http-equiv="refresh" content="0;url=...">``)."""
    if len(body) > 4096:
        return None  # a real page that happens to refresh itself is a page, not a forward
    m = _META_REFRESH.search(body)
    return m.group(1).decode("latin-1").strip() if m else None


def classify_body(body: bytes, content_type: str | None) -> tuple[dec.Decoded | None, str | None, str]:
    """(decoded, failure code or None, detail): is this body a report we can read?"""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not body:
        return None, NOT_A_REPORT, "empty body"
    if body[:4].startswith(_IMAGE_MAGIC) and _opens_as_picture(body):
        return classify_picture(body)  # a report published as a picture: parsed by OCR
    if ctype.startswith(_NON_REPORT_TYPES) or body[:4].startswith(_IMAGE_MAGIC):
        return None, NOT_A_REPORT, f"an image or other media ({ctype or 'sniffed'})"
    try:
        decoded = dec.decode(body, content_type)
    except Exception as e:  # noqa: BLE001 - any decoder crash is this document's failure, not the run's
        return None, DECODE_ERROR, f"{type(e).__name__}: {e}"
    if decoded.kind in (dec.PDF, dec.DOCX, dec.DOC):
        return decoded, None, ""  # kept as bytes; the parser reads them
    text = decoded.text
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // 100):
        return decoded, DECODE_ERROR, f"{bad} undecodable characters as {decoded.encoding}"
    if decoded.kind != dec.HTML:
        visible = text
        cjk = _cjk_count(visible)
    elif _VISIBLE_CJK_ENOUGH.match(without_scripts := _SCRIPTS.sub(" ", text)):
        visible, cjk = "", _CJK_ENOUGH  # enough read past the tags: the page's text is not needed
    else:
        visible = _TAGS.sub(" ", without_scripts)
        cjk = _cjk_count(visible)
    # Many sites answer a missing page, a crawler or a visitor without a session with status
    # 200 and a short "页面不存在", captcha or login page.
    if cjk < _CJK_ENOUGH:  # a long page is not one of them: not searched for their words
        gate = None if _REPORT_TITLE.search(visible) else _GATE_PAGE.search(visible)
        if m := _SOFT_404.search(visible) or gate:
            return decoded, SOFT_ERROR_PAGE, f"an error page (missing, captcha or login) served with status 200 ({m.group(0)})"
    if not cjk:
        return decoded, NOT_A_REPORT, f"{decoded.kind} without any Chinese text"
    return decoded, None, ""


_CJK = re.compile("[\u4e00-\u9fff]")
_CJK_ENOUGH = 300  # classify_body only asks whether a page has none, or fewer than this many
_CJK_AT_LEAST = re.compile(f"(?:[^\u4e00-\u9fff]*[\u4e00-\u9fff]){{{_CJK_ENOUGH}}}")
# The same count outside tags, read left to right past each tag as _TAGS.sub takes it out (a "<"
# up to the next ">"); it stops at a "<" no ">" closes, and the page's text is then made.
_VISIBLE_CJK_ENOUGH = re.compile(
    f"(?:[^<\u4e00-\u9fff]*(?:<[^>]*>[^<\u4e00-\u9fff]*)*[\u4e00-\u9fff]){{{_CJK_ENOUGH}}}")


def _cjk_count(text: str) -> int:
    """The CJK characters of ``text``, counted up to ``_CJK_ENOUGH`` (counting every one of a long
    page character by character in Python was a third of the CPU a download cost)."""
    return _CJK_ENOUGH if _CJK_AT_LEAST.match(text) else len(_CJK.findall(text))


def _opens_as_picture(body: bytes) -> bool:
    """The picture's header reads (PIL reads no pixels here): a PNG/JPEG the parser can OCR."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(body)) as img:
            return img.width > 0 and img.height > 0
    except Exception:  # noqa: BLE001 - any header PIL cannot read is not a picture
        return False


PICTURE = "picture"  # FetchOutcome.kind of a picture fetched for OCR (fetch_one(picture=True))


def classify_picture(body: bytes) -> tuple[dec.Decoded | None, str | None, str]:
    """(decoded, failure code or None, detail): is this body a picture OCR can read?"""
    if body[:4].startswith(_IMAGE_MAGIC) and (not body.startswith(b"RIFF") or body[8:12] == b"WEBP"):
        return dec.Decoded(PICTURE, "", None, None), None, ""
    return None, NOT_A_REPORT, "not a PNG, JPEG, GIF, BMP or WebP picture"


class Fetcher:
    """Fetch report URLs politely into a :class:`~sources.rawstore.RawStore`.

    ``timeout`` is (connect, read) seconds or one number for both. ``retries`` is the number
    of extra attempts after the first for transient failures. ``backoff_s`` is the first
    backoff; it doubles per retry, plus up to 10 % jitter. ``max_retry_after_s`` caps how long
    a server's Retry-After may make us wait.
    """

    def __init__(
        self,
        max_per_host: int = 2,
        min_delay_s: float = 0.5,
        timeout: float | tuple[float, float] = (5, 30),
        retries: int = 4,
        backoff_s: float = 0.5,
        max_bytes: int = 20_000_000,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        max_retry_after_s: float = 60.0,
        workers: int = 8,
        max_body_seconds: float | None = None,
        unconditional: bool = False,
        host_fail_after: int = 3,
        deadline_s: float | None = None,
        heartbeat_s: float = 15.0,
    ):
        if max_per_host < 1:
            raise ValueError(f"max_per_host must be at least 1, got {max_per_host}")
        if min_delay_s < 0 or backoff_s < 0 or retries < 0 or max_redirects < 0 or max_bytes < 1:
            raise ValueError("min_delay_s, backoff_s, retries and max_redirects must be >= 0, max_bytes >= 1")
        self.max_per_host = max_per_host
        self.min_delay_s = min_delay_s
        self.timeout = timeout if isinstance(timeout, tuple) else (float(timeout), float(timeout))
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.max_retry_after_s = max_retry_after_s
        # The read timeout bounds each pause; this bounds the whole body (a slow drip):
        # by default three read timeouts, 90 s with the pipeline's 30 s.
        self.max_body_seconds = max_body_seconds if max_body_seconds is not None else 3 * self.timeout[1]
        self.workers = max(1, workers)
        # Never send If-None-Match / If-Modified-Since (``--full``, ``--refetch``): a server whose
        # validators lie would otherwise never be read again.
        self.unconditional = unconditional
        # A host that times out this many times in a row is given up for this fetcher's life
        # (0: never): its remaining rows fail at once with host_unreachable.
        self.host_fail_after = host_fail_after
        # No request starts after this many seconds of a fetch_many (None: no limit): run_deadline.
        self.deadline_s = deadline_s
        self.heartbeat_s = heartbeat_s
        self._deadline: float | None = None
        self._stop = threading.Event()  # set by stop(): sleeps end, no request starts
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()
        self.session = requests.Session()
        # Proxies from the environment are looked up once per host, not per request (with
        # trust_env on, requests re-reads them and ~/.netrc for every call: 7 % of a re-run).
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._proxies: dict[tuple[str, str], dict] = {}
        self._fast_origins: dict[str, tuple[bool, str]] = {}
        # Pool sized for the parallelism we allow; urllib3's own retries are off (ours are explicit).
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=max(10, self.workers),
            pool_maxsize=max(self.max_per_host, self.workers),
            max_retries=0,
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5",
                "Accept-Language": "zh-CN,zh;q=0.9",
            }
        )
        self._revalidator = Revalidator(self.session.headers, self.timeout, self.session.verify)
        # A plain GET goes out on a keep-alive socket of the thread (sources/plainget.py); off:
        # every request the full way (tests compare the two).
        self.plain_gets = True
        self._plain = PlainGets(self.session.headers, self.timeout, self._revalidator.ssl_context)

    def close(self) -> None:
        self._stop.set()
        self.session.close()
        self._plain.close()

    def stop(self) -> None:
        """No further request starts; waits end now (Ctrl-C, SIGTERM)."""
        self._stop.set()

    def _request(self, url: str, headers: dict) -> requests.Response | PlainResponse:
        """One GET, no redirects followed, body not read yet: a plain one on a keep-alive
        connection of this thread (sources/plainget.py), any other the full way (``_send``)."""
        if not headers and self.plain_gets and (plain := plain_target(url)) is not None and self._fast_ok(url) \
                and self._plain.usable(*plain[:3]):
            try:
                got = self._plain.get(*plain)
            except NotSent:
                return self._send(url, headers)
            if isinstance(got, PlainResponse):
                return got
            # Another answer: what the full way would have made of it, not asked again.
            prep = self._prepare(url, headers)
            return self._took_cookies(prep, as_requests_response(got, prep, self.session.get_adapter(url)))
        return self._send(url, headers)

    def _send(self, url: str, headers: dict) -> requests.Response:
        """One GET through the session's adapter, no redirects followed, body not read yet.

        ``Session.get`` would merge settings, hooks and environment on every call: a third
        of the CPU of a conditional request. The session's headers, cookies (both ways),
        credentials in the URL, proxies and certificate settings still apply.
        """
        prep = self._prepare(url, headers)
        resp = self.session.get_adapter(url).send(
            prep, stream=True, timeout=self.timeout, verify=self.session.verify, proxies=self._proxies_for(url)
        )
        return self._took_cookies(prep, resp)

    def _prepare(self, url: str, headers: dict) -> requests.PreparedRequest:
        prep = requests.PreparedRequest()
        if self.session.cookies:
            prep.prepare(method="GET", url=url, headers={**self.session.headers, **headers}, cookies=self.session.cookies)
        else:  # what prepare() does but ask an empty jar for a Cookie header (~70 µs of a download's ~1 ms)
            prep.prepare_method("GET")
            prep.prepare_url(url, None)
            prep.prepare_headers({**self.session.headers, **headers})
            prep.prepare_body(None, None)
            prep.prepare_auth(None, url)
            prep.prepare_hooks(None)
        return prep

    def _took_cookies(self, prep: requests.PreparedRequest, resp: requests.Response) -> requests.Response:
        if "Set-Cookie" in resp.headers or "Set-Cookie2" in resp.headers:  # what the jar would take
            extract_cookies_to_jar(self.session.cookies, prep, resp.raw)
        return resp

    def _fast_ok(self, url: str) -> bool:
        """sources/revalidate.py may ask: no proxy, no cookie to send (it sends none)."""
        return not self.session.cookies and self._quick_origin(url)

    def _quick_origin(self, url: str) -> bool:
        """No proxy for the URL's origin, and its host not found slow."""
        origin = url.split("/", 3)[:3]  # scheme, "", netloc: what the answer depends on
        key = "/".join(origin) if len(origin) == 3 else url
        known = self._fast_origins.get(key)
        if known is None:
            known = self._fast_origins[key] = (not self._proxies_for(url) and self._revalidator.usable(url),
                                               urlsplit(url).netloc.lower())
        return known[0] and not self._revalidator.slow(known[1])  # a host that timed out is not asked so again

    def _proxies_for(self, url: str) -> dict:
        parts = urlsplit(url)
        key = (parts.scheme.lower(), (parts.hostname or "").lower())
        proxies = self._proxies.get(key)
        if proxies is None:
            proxies = self._proxies[key] = requests.utils.get_environ_proxies(url)
        return proxies

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ public
    def fetch_many(
        self,
        sources: Iterable[Source],
        store: RawStore,
        progress: Callable[[int, int], None] | None = None,
        waiting: Callable[[str], None] | None = None,
        on_result: Callable[[int, FetchOutcome], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[FetchOutcome]:
        """Fetch every source once; outcomes in the order of ``sources``.

        ``on_result(index, outcome)`` is called (in a fetch thread) as each source is done.
        ``meanwhile()`` is called (in the calling thread, which it must not fail) while the stored versions'
        conditional requests are out, if any are asked (``revalidate_many``).

        ``waiting`` gets a line every ``heartbeat_s`` while requests are outstanding. The
        workers are daemon threads: an interrupt (KeyboardInterrupt in the calling thread)
        stops the fetch at once instead of waiting for requests in flight.

        The bodies are on disk when it returns (one flush for all of them: ``RawStore.batch``).
        """
        with store.batch():
            return self._fetch_many(sources, store, progress, waiting, on_result, meanwhile)

    def _fetch_many(self, sources: Iterable[Source], store: RawStore, progress, waiting, on_result, meanwhile=None
                    ) -> list[FetchOutcome]:
        sources = list(sources)
        total = len(sources)
        results: list[FetchOutcome | None] = [None] * total
        if not total:
            return []
        if self.deadline_s is not None:
            self._deadline = time.monotonic() + self.deadline_s
        # The commonest case of a re-run first: every stored version revalidated at once.
        rest = self._revalidate_stored(sources, store, results, meanwhile)
        done = total - len(rest)
        if on_result is not None or progress:
            for n, i in enumerate(i for i in range(total) if i not in rest):
                if on_result is not None:
                    on_result(i, results[i])
                if progress:
                    progress(n + 1, total)
        # Interleave hosts so that workers spread over hosts instead of queueing on one gate.
        by_host: dict[str, list[int]] = {}
        for i, s in enumerate(sources):
            if i in rest:
                by_host.setdefault(s.host, []).append(i)
        todo = queue.SimpleQueue()
        for rnd in _round_robin(list(by_host.values())):
            for i in rnd:
                todo.put(i)
        cond = threading.Condition()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                fetch_each()
            finally:
                self._plain.close_thread()

        def fetch_each() -> None:
            nonlocal done
            while not self._stop.is_set():
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = self._fetch_rest(sources[i], store, rest[i])
                    if on_result is not None:
                        on_result(i, results[i])
                except BaseException as e:  # noqa: BLE001 - handed to the calling thread
                    with cond:
                        errors.append(e)
                        cond.notify_all()
                    return
                with cond:
                    done += 1
                    n = done
                    cond.notify_all()
                if progress:
                    progress(n, total)

        threads = [threading.Thread(target=work, name="xxgk-fetch", daemon=True)
                   for _ in range(min(self.workers, len(rest)))]
        for t in threads:
            t.start()
        try:
            last_beat = time.monotonic()
            with cond:
                while done < total and not errors:
                    cond.wait(timeout=min(1.0, self.heartbeat_s))
                    if waiting and time.monotonic() - last_beat >= self.heartbeat_s and done < total:
                        last_beat = time.monotonic()
                        waiting(self._waiting_line(done, total))
        except BaseException:
            self.stop()
            raise
        finally:
            self._deadline = None
        if errors:
            self.stop()
            raise errors[0]
        return [r for r in results if r is not None]

    def _waiting_line(self, done: int, total: int) -> str:
        with self._gates_lock:
            dead = [h for h, g in self._gates.items() if g.unreachable]
            slow = [f"{h} ({g.timeouts} timeout(s) in a row)" for h, g in self._gates.items()
                    if g.timeouts and not g.unreachable]
        line = f"fetched {done}/{total}, waiting"
        if slow:
            line += "; slow: " + ", ".join(slow[:5])
        if dead:
            line += "; given up: " + ", ".join(dead[:5])
        return line

    def fetch_one(self, source: Source, store: RawStore, unconditional: bool = False,
                  picture: bool = False) -> FetchOutcome:
        """Fetch one source, store its body, record a manifest row; never raises for HTTP trouble.

        ``unconditional`` (or the fetcher's own setting) sends no validators: the body is read again.
        ``picture``: the body must be a picture (an ``<img>`` of a report page, for OCR).
        """
        prev = self._previous(source, store, unconditional)
        return self._conclude(source, store, prev, _now_iso(), lambda: self._get_with_retries(source.url, prev),
                              picture)

    def _previous(self, source: Source, store: RawStore, unconditional: bool = False) -> dict | None:
        """The stored version whose validators a request sends, or None (unconditional)."""
        prev = store.latest(source.url)
        if prev and not store.has(prev.get("sha256") or ""):
            prev = None  # validators are useless without the body they validate
        if unconditional or self.unconditional:
            prev = None
        return prev

    def _revalidate_stored(self, sources: list[Source], store: RawStore, results: list, meanwhile=None
                           ) -> dict[int, tuple]:
        """Every source with a stored version and validators, asked at once (revalidate_many); the
        plain 304s become outcomes in ``results``. Returns the other sources by index, each with its
        stored version and the requests already made for it (the full way asks them again)."""
        rest: dict[int, tuple] = {}
        jobs = []
        cookies = bool(self.session.cookies)  # sources/revalidate.py sends none
        for i, s in enumerate(sources):
            prev = self._previous(s, store)
            rest[i] = (prev, 0, True)
            if prev and (prev.get("etag") or prev.get("last_modified")) and not cookies and self._quick_origin(s.url):
                jobs.append((i, s.url, _conditional_headers(prev)))
        if len(jobs) < 2 or self._stop.is_set():
            return rest
        for i, _url, _headers in jobs:
            rest[i] = (rest[i][0], 0, False)  # asked here, or its host failed here: no second quick try
        fetched_at = _now_iso()
        fresh, asked, last_start = revalidate_many(
            jobs, self._revalidator.headers, self.timeout, self.session.verify, self.max_per_host,
            self.min_delay_s, self._stop, self._deadline, max_connections=2 * self.workers, meanwhile=meanwhile)
        for host, started in last_start.items():  # the full way keeps the spacing from the last start
            self._gate_of(host).defer(started + self.min_delay_s - time.monotonic())
        for i, got in fresh.items():
            prev, n = rest.pop(i)[0], asked[i]
            info = {"status": 304, "url": sources[i].url, "requests": n, "headers": got}
            results[i] = self._conclude(sources[i], store, prev, fetched_at, lambda info=info, n=n: (info, n))
        for i, n in asked.items():
            if i in rest:
                rest[i] = (rest[i][0], n, False)
        return rest

    def _fetch_rest(self, source: Source, store: RawStore, left: tuple) -> FetchOutcome:
        """A source ``_revalidate_stored`` did not settle: the full way."""
        prev, asked, quick = left
        return self._conclude(source, store, prev, _now_iso(),
                              lambda: self._get_with_retries(source.url, prev, asked, quick))

    def _conclude(self, source: Source, store: RawStore, prev: dict | None, fetched_at: str, get: Callable,
                  picture: bool = False) -> FetchOutcome:
        """The outcome of ``get()`` (response info, requests made), stored and recorded."""
        validators: dict = {}
        try:
            info, attempts = get()
            outcome = self._finish(source, store, prev, info, attempts, fetched_at, picture)
            validators = _validators(info["headers"], prev if outcome.status == NOT_MODIFIED else None)
        except _Fail as f:
            outcome = FetchOutcome(
                source,
                FAILED,
                http_status=f.http_status,
                error=f.code,
                attempts=f.total_requests,
                fetched_at=fetched_at,
                url=getattr(f, "final_url", source.url),
                detail=f.detail or None,
            )
        if not (outcome.status == NOT_MODIFIED and prev and validators.get("etag") == prev.get("etag")
                and validators.get("last_modified") == prev.get("last_modified")):
            # A 304 that confirms the stored version with the same validators teaches nothing new:
            # recording it would grow the manifest by one row per report and run (and every
            # RawStore() reads the whole manifest).
            self._record(store, outcome, validators)
        return outcome

    def fetch_url(self, url: str) -> Page:
        """GET one page (a listing, an attachment) with the same politeness, retries, size cap
        and redirect checks, without storing it; never raises for HTTP trouble."""
        try:
            info, _ = self._get_with_retries(url, None)
        except _Fail as f:
            return Page(getattr(f, "final_url", url), None, None, f.http_status, f.code)
        return Page(info["url"], info.get("body"), info["headers"].get("Content-Type"), info["status"])

    def _get_with_retries(self, url: str, prev: dict | None, asked: int = 0, quick: bool = True) -> tuple[dict, int]:
        """``_get`` under the retry policy: (response info, requests made), or the last _Fail.
        ``asked``: requests already made for it (revalidate_many); ``quick``: try sources/revalidate.py first."""
        attempts = asked
        for attempt in range(self.retries + 1):
            try:
                info = self._get(url, prev, quick)
                return info, attempts + info["requests"]
            except _Fail as f:
                attempts += getattr(f, "requests", 1)
                retryable = f.code in RETRYABLE or f.http_status == 429 or (f.http_status or 0) >= 500
                if f.code in (HOST_UNREACHABLE, RUN_DEADLINE, STOPPED):
                    retryable = False
                if retryable and attempt < self.retries:
                    self._sleep_before_retry(url, attempt, f.retry_after)
                    continue
                f.total_requests = attempts
                raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    # ------------------------------------------------------------------ internals
    def _gate(self, url: str) -> _HostGate:
        return self._gate_of(urlsplit(url).netloc.lower())

    def _gate_of(self, host: str) -> _HostGate:
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate(self.max_per_host, self.min_delay_s, self._stop)
            return gate

    def _may_start(self, gate: _HostGate, requests_made: int, url: str) -> None:
        """Raise instead of starting a request: interrupted, out of time, or the host given up."""
        if self._stop.is_set():
            raise self._fail(STOPPED, "the run was interrupted", requests_made, url)
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise self._fail(RUN_DEADLINE, f"the fetch's {self.deadline_s:g} s were spent", requests_made, url)
        if gate.unreachable:
            raise self._fail(HOST_UNREACHABLE, gate.unreachable, requests_made, url)

    def _sleep_before_retry(self, url: str, attempt: int, retry_after: float | None) -> None:
        delay = self.backoff_s * (2**attempt) + random.uniform(0, self.backoff_s * 0.1)
        if retry_after is not None:
            wait = min(retry_after, self.max_retry_after_s)
            self._gate(url).defer(wait)
            delay = max(delay, wait)
        self._stop.wait(delay)

    def _get(self, url: str, prev: dict | None, quick: bool = True) -> dict:
        """One attempt: follow redirects by hand and read the body. Raises _Fail."""
        visited = [url]
        current = url
        requests_made = 0
        if quick and prev and (prev.get("etag") or prev.get("last_modified")) and self._fast_ok(url):
            gate = self._gate(url)
            self._may_start(gate, 0, url)
            with gate:
                self._may_start(gate, 0, url)
                fresh, got = self._revalidator.not_modified(url, _conditional_headers(prev))
            if fresh:
                gate.answered()
                return {"status": 304, "url": url, "requests": 1, "headers": got}
            requests_made = got  # asked and answered otherwise: the full way below asks again
        while True:
            scheme = urlsplit(current).scheme.lower()
            if scheme not in ("http", "https"):
                raise self._fail(
                    BAD_SCHEME, f"refusing {scheme or 'scheme-less'} URL {current}", requests_made, current
                )
            headers = _conditional_headers(prev) if prev else {}
            gate = self._gate(current)
            self._may_start(gate, requests_made, current)
            with gate:
                self._may_start(gate, requests_made, current)
                requests_made += 1
                try:
                    resp = self._request(current, headers)
                except NET_ERRORS as e:
                    code = classify_exception(e)
                    if code == TIMEOUT:
                        gate.timed_out(self.host_fail_after, urlsplit(current).netloc.lower())
                    raise self._fail(code, str(e)[:300], requests_made, current) from None
                gate.answered()
                try:
                    status = resp.status_code
                    if status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                        location = resp.headers["Location"].strip()
                    elif status == 304:
                        if not headers:
                            raise self._fail(
                                "http_304", "304 to an unconditional request", requests_made, current, status
                            )
                        # Read the (empty) body: close() on an unread streamed response drops the
                        # keep-alive connection, and re-connecting cost a fifth of a re-run's fetch.
                        _ = resp.content
                        return {
                            "status": 304,
                            "url": current,
                            "requests": requests_made,
                            "headers": resp.headers,
                        }
                    elif not 200 <= status < 300:
                        ra = None
                        if status == 429 or status >= 500:
                            ra = parse_retry_after(resp.headers.get("Retry-After"))
                        raise self._fail(
                            f"http_{status}", resp.reason or "", requests_made, current, status, ra
                        )
                    else:
                        body = self._read_body(resp, requests_made, current)
                        location = meta_refresh_target(body)  # a stub page that only forwards
                        if location is None:
                            return {
                                "status": status,
                                "url": current,
                                "requests": requests_made,
                                "headers": resp.headers,
                                "body": body,
                            }
                    nxt = urljoin(current, location)
                    if urlsplit(nxt).scheme.lower() not in ("http", "https"):
                        raise self._fail(
                            BAD_SCHEME, f"redirect from {current} to {nxt}", requests_made, current, status
                        )
                    if nxt in visited:
                        raise self._fail(
                            REDIRECT_LOOP, " -> ".join([*visited, nxt]), requests_made, current, status
                        )
                    if len(visited) > self.max_redirects:
                        raise self._fail(
                            TOO_MANY_REDIRECTS,
                            f"more than {self.max_redirects} from {url}",
                            requests_made,
                            current,
                            status,
                        )
                    visited.append(nxt)
                    current = nxt
                finally:
                    resp.close()

    def _read_body(self, resp: requests.Response | PlainResponse, requests_made: int, url: str) -> bytes:
        declared = resp.headers.get("Content-Length")
        length: int | None = None
        if declared and declared.strip().isdigit():
            length = int(declared)
            if length > self.max_bytes:
                raise self._fail(
                    TOO_LARGE,
                    f"Content-Length {length} > {self.max_bytes}",
                    requests_made,
                    url,
                    resp.status_code,
                )
        chunks: list[bytes] = []
        got = 0
        deadline = time.monotonic() + self.max_body_seconds
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                got += len(chunk)
                if time.monotonic() > deadline:
                    raise self._fail(
                        TIMEOUT,
                        f"body still arriving after {self.max_body_seconds:g} s ({got} bytes)",
                        requests_made,
                        url,
                        resp.status_code,
                    )
                if got > self.max_bytes:
                    raise self._fail(
                        TOO_LARGE,
                        f"body exceeds {self.max_bytes} bytes",
                        requests_made,
                        url,
                        resp.status_code,
                    )
                chunks.append(chunk)
        except NET_ERRORS as e:
            code = classify_exception(e)
            raise self._fail(
                code, f"after {got} bytes: {str(e)[:300]}", requests_made, url, resp.status_code
            ) from None
        except ValueError as e:  # http.client under urllib3, on a chunk size it cannot read (e.g. negative)
            raise self._fail(
                TRUNCATED, f"after {got} bytes, a malformed chunk: {str(e)[:300]}", requests_made, url,
                resp.status_code,
            ) from None
        body = b"".join(chunks)
        encoded = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
        # With a content coding, Content-Length counts the compressed bytes; urllib3 checks those.
        if length is not None and encoded == "identity" and len(body) != length:
            raise self._fail(
                TRUNCATED, f"received {len(body)} of {length} bytes", requests_made, url, resp.status_code
            )
        return body

    @staticmethod
    def _fail(
        code: str,
        detail: str,
        requests_made: int,
        url: str,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> _Fail:
        f = _Fail(code, detail, http_status, retry_after)
        f.requests = requests_made  # type: ignore[attr-defined]
        f.final_url = url  # type: ignore[attr-defined]
        return f

    def _finish(
        self, source: Source, store: RawStore, prev: dict | None, info: dict, attempts: int, fetched_at: str,
        picture: bool = False,
    ) -> FetchOutcome:
        headers = info["headers"]
        if info["status"] == 304:
            assert prev is not None
            return FetchOutcome(
                source,
                NOT_MODIFIED,
                sha256=prev.get("sha256"),
                content_type=prev.get("content_type"),
                encoding=prev.get("encoding"),
                kind=prev.get("kind"),
                http_status=304,
                attempts=attempts,
                fetched_at=fetched_at,
                url=info["url"],
                bytes=prev.get("bytes"),
            )
        body: bytes = info["body"]
        ctype = headers.get("Content-Type")
        decoded, code, detail = classify_picture(body) if picture else classify_body(body, ctype)
        if code:
            return FetchOutcome(
                source,
                FAILED,
                content_type=ctype,
                encoding=decoded.encoding if decoded else None,
                kind=decoded.kind if decoded else None,
                http_status=info["status"],
                error=code,
                attempts=attempts,
                fetched_at=fetched_at,
                url=info["url"],
                bytes=len(body),
                detail=f"{detail} (body sha256 {sha256_hex(body)[:12]}, not stored)",
            )
        assert decoded is not None
        damaged_before = len(store.repaired)
        digest, _ = store.put(body)
        repaired = digest in store.repaired[damaged_before:]
        new_version = digest not in store.versions(source.url)
        return FetchOutcome(
            source,
            FETCHED,
            sha256=digest,
            content_type=ctype,
            encoding=decoded.encoding,
            kind=decoded.kind,
            http_status=info["status"],
            attempts=attempts,
            fetched_at=fetched_at,
            url=info["url"],
            bytes=len(body),
            new_version=new_version,
            repaired=repaired,
        )

    @staticmethod
    def _record(store: RawStore, o: FetchOutcome, validators: dict) -> None:
        store.record(
            {
                "agency": o.source.agency,
                "year": o.source.year,
                "url": o.source.url,
                "final_url": o.url,
                "status": o.status,
                "http_status": o.http_status,
                "content_type": o.content_type,
                "encoding": o.encoding,
                "kind": o.kind,
                "sha256": o.sha256,
                "bytes": o.bytes,
                "fetched_at": o.fetched_at,
                "attempts": o.attempts,
                "error": o.error,
                "detail": (o.detail or None) and o.detail[:500],
                "etag": validators.get("etag"),
                "last_modified": validators.get("last_modified"),
                "new_version": o.new_version,
            }
        )


def _conditional_headers(prev: dict) -> dict:
    headers = {}
    if prev.get("etag"):
        headers["If-None-Match"] = prev["etag"]
    if prev.get("last_modified"):
        headers["If-Modified-Since"] = prev["last_modified"]
    return headers


def _validators(headers, prev: dict | None) -> dict:
    """ETag / Last-Modified to send next time; a 304 may omit them, then the old ones stand."""
    prev = prev or {}
    return {
        "etag": headers.get("ETag") or prev.get("etag"),
        "last_modified": headers.get("Last-Modified") or prev.get("last_modified"),
    }


def _round_robin(groups: list[list[int]]) -> Iterable[list[int]]:
    i = 0
    while True:
        rnd = [g[i] for g in groups if i < len(g)]
        if not rnd:
            return
        yield rnd
        i += 1


class StoreFetcher:
    """A fetcher that makes no request: each URL gives the last body the raw store holds for it
    (``xxgk rebuild``, ``XXGK_OFFLINE``). Nothing is recorded in the manifest."""

    def __init__(self, **_settings) -> None:
        self.unconditional = False

    def __enter__(self) -> StoreFetcher:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def close(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def fetch_one(self, source: Source, store: RawStore, unconditional: bool = False) -> FetchOutcome:
        row = store.latest(source.url)
        sha = (row or {}).get("sha256")
        if not sha or not store.verify(sha):
            return FetchOutcome(source, FAILED, error="not_in_raw_store", url=source.url,
                                detail="offline: the raw store holds no (intact) body for this URL")
        return FetchOutcome(source, NOT_MODIFIED, sha256=sha, content_type=row.get("content_type"),
                            encoding=row.get("encoding"), kind=row.get("kind"), fetched_at=row.get("fetched_at"),
                            url=row.get("final_url") or source.url, bytes=row.get("bytes"),
                            detail="offline: the raw store's last body")

    def fetch_many(self, sources: Iterable[Source], store: RawStore, progress=None, waiting=None, on_result=None,
                   meanwhile=None) -> list[FetchOutcome]:
        return [self.fetch_one(s, store) for s in sources]

    def fetch_url(self, url: str) -> Page:
        return Page(url, None, error="offline")
