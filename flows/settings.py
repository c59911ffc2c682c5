"""Settings in one place.

Precedence (lowest first): built-in defaults < TOML file < ``XXGK_*`` environment
variables < explicit overrides (command-line flags, flow parameters).

The TOML file is ``--config FILE`` / ``XXGK_CONFIG``, else ``$XXGK_HOME/xxgk.toml`` when it
exists. Its keys are the field names below, at top level or under a ``[xxgk]`` table::

    home = "/srv/xxgk"
    sources = "/srv/xxgk/registry.csv"
    max_per_host = 2
    min_delay = 1.0
    max_fail_share = 0.5

docs/ORCHESTRATION.md lists every setting with its environment variable.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from warehouse.layout import DEFAULT_HOME, Layout


class SettingsError(ValueError):
    """A setting has an unusable value; the message names the setting and its origin."""


TASK_RUNNERS = ("default", "dask")
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    home: Path = DEFAULT_HOME  # XXGK_HOME: raw store, parsed cache, warehouse, marts
    sources: str | None = None  # XXGK_SOURCES: registry CSV; None = the bundled sample registry
    # XXGK_LISTINGS: listings CSV (agency,listing_url,...); when set, each run first discovers the
    # year's reports on those listing pages and merges them into the registry (docs/DISCOVERY.md).
    listings: str | None = None
    # Politeness toward the publishing sites (passed to sources.fetch.Fetcher).
    max_per_host: int = 2  # XXGK_MAX_PER_HOST: concurrent requests per host
    min_delay: float = 1.0  # XXGK_MIN_DELAY: seconds between two requests to one host
    timeout: float = 30.0  # XXGK_TIMEOUT: seconds per request
    retries: int = 3  # XXGK_RETRIES: further attempts per URL after a transient error (5xx, 429, timeout)
    # XXGK_HOST_FAIL_AFTER: a host that times out this many times in a row is given up for the run
    # (its remaining rows fail at once with host_unreachable); 0 = never.
    host_fail_after: int = 3
    # XXGK_FETCH_DEADLINE: seconds a run's fetch may take; rows not started by then fail with run_deadline.
    fetch_deadline: float = 3 * 3600.0
    # XXGK_FETCH_PROCESSES: processes sharing a fetch of 2,000 sources or more; 0 = one per core (at most 4)
    fetch_processes: int = 0
    user_agent: str = "xxgk/0.1 (+https://github.com/xxgk; government disclosure reports research)"
    # Parsing in worker processes, each document with a time limit (flows/parsepool.py).
    parse_workers: int = 0  # XXGK_PARSE_WORKERS: worker processes; 0 = one per core
    parse_timeout: float = 120.0  # XXGK_PARSE_TIMEOUT: seconds per document; 0 = parse in-process, no limit
    # Publish gate (expectations.gate.decide).
    max_fail_share: float = 0.5  # XXGK_MAX_FAIL_SHARE: share of quarantined reports that stops a publish
    # XXGK_FULL_RUN: load, validate and publish even when nothing changed since the year's last
    # complete run (by default such a re-run takes that run's outcomes: flows/runrecord.py).
    full_run: bool = False
    # XXGK_OFFLINE: fetch nothing; every registry row gets the last body the raw store holds for
    # its URL (``xxgk rebuild`` sets it).
    offline: bool = False
    # XXGK_WAREHOUSE_MEMORY: DuckDB's memory limit for the warehouse (it spills to disk beyond it).
    warehouse_memory: str = "512MB"
    # Prefect task runner for the flows: "default" (threads) or "dask".
    task_runner: str = "default"  # XXGK_TASK_RUNNER
    dask_address: str | None = None  # XXGK_DASK_ADDRESS: an existing Dask scheduler; None = local cluster
    config_file: Path | None = field(default=None, compare=False)  # where the file settings came from

    @property
    def layout(self) -> Layout:
        """Every path under ``home`` (warehouse/layout.py)."""
        return Layout(self.home)

    @property
    def raw_dir(self) -> Path:
        return self.layout.raw

    @property
    def parsed_dir(self) -> Path:
        return self.layout.parsed

    @property
    def warehouse_path(self) -> Path:
        return self.layout.warehouse

    @property
    def marts_path(self) -> Path:
        return self.layout.marts

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values applied (validated)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return _validated(replace(self, **_coerce_all(clean, "override")))


_ENV = {f.name: "XXGK_" + f.name.upper() for f in fields(Settings) if f.name != "config_file"}


_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
               "off": False}


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if name == "home":
            return Path(os.path.expanduser(str(value)))
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word not in _BOOL_WORDS:
                raise ValueError
            return _BOOL_WORDS[word]
        if name in ("sources", "dask_address", "listings"):
            return None if value in ("", None) else str(value)
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} from {origin}: expected {kind}, got {value!r}") from None


def _coerce_all(values: dict[str, Any], origin: str) -> dict[str, Any]:
    known = {f.name for f in fields(Settings)} - {"config_file"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingsError(f"unknown setting(s) in {origin}: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return {k: _coerce(k, v, origin) for k, v in values.items()}


def _validated(s: Settings) -> Settings:
    if s.max_per_host < 1:
        raise SettingsError(f"max_per_host must be at least 1, got {s.max_per_host}")
    if s.min_delay < 0 or s.timeout <= 0:
        raise SettingsError("min_delay must be >= 0 and timeout > 0")
    if s.fetch_processes < 0:
        raise SettingsError(f"fetch_processes must be >= 0, got {s.fetch_processes}")
    if s.parse_workers < 0 or s.parse_timeout < 0:
        raise SettingsError("parse_workers and parse_timeout must be >= 0")
    if s.host_fail_after < 0 or s.fetch_deadline <= 0:
        raise SettingsError("host_fail_after must be >= 0 and fetch_deadline > 0")
    if s.retries < 0:
        raise SettingsError(f"retries must be >= 0, got {s.retries}")
    if not 0 <= s.max_fail_share <= 1:
        raise SettingsError(f"max_fail_share must be between 0 and 1, got {s.max_fail_share}")
    if not _MEMORY.fullmatch(s.warehouse_memory):
        raise SettingsError(f"warehouse_memory must be a size such as 512MB or 2GB, got {s.warehouse_memory!r}")
    if s.task_runner not in TASK_RUNNERS:
        raise SettingsError(f"task_runner must be one of {', '.join(TASK_RUNNERS)}, got {s.task_runner!r}")
    return s


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SettingsError(f"cannot read config file {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"config file {path} is not valid TOML: {e}") from None
    return dict(data.get("xxgk", data))


def load_settings(config: str | os.PathLike | None = None, env: dict[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Defaults < TOML file < XXGK_* environment < ``overrides`` (None values ignored)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    env_values = {name: env[var] for name, var in _ENV.items() if env.get(var) not in (None, "")}
    # The file location may itself depend on XXGK_HOME (or on an override of home).
    home = Path(os.path.expanduser(str(overrides.get("home") or env_values.get("home") or Settings.home)))
    config_path = Path(config) if config else (Path(env["XXGK_CONFIG"]) if env.get("XXGK_CONFIG") else None)
    if config_path is None and Layout(home).config.is_file():
        config_path = Layout(home).config
    if config_path is not None:
        values.update(_coerce_all(_read_toml(config_path), f"config file {config_path}"))
    values.update({k: _coerce(k, v, f"environment variable {_ENV[k]}") for k, v in env_values.items()})
    values.update(_coerce_all({k: v for k, v in overrides.items() if v is not None}, "override"))
    return _validated(Settings(**values, config_file=config_path))


def env_table() -> list[tuple[str, str, Any]]:
    """(setting, environment variable, default) for the documentation and ``--help``."""
    return [(f.name, _ENV[f.name], f.default) for f in fields(Settings) if f.name in _ENV]
