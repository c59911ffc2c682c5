"""Settings in one place, on pydantic-settings.

Precedence (lowest first): built-in defaults < TOML file < ``XXGK_*`` environment
variables < explicit overrides (command-line flags, flow parameters).

The TOML file is ``--config FILE`` / ``XXGK_CONFIG``, else ``$XXGK_HOME/xxgk.toml`` when it
exists. Its keys are the field names below, at top level or under a ``[xxgk]`` table::

    home = "/srv/xxgk"
    sources = "/srv/xxgk/registry.csv"
    max_per_host = 2
    min_delay = 1.0
    max_fail_share = 0.5

``Settings(...)`` is the values given and the defaults, nothing else (tests, benchmarks);
``load_settings`` adds the file and the environment (the command line, the flows).
docs/ORCHESTRATION.md lists every setting with its environment variable.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from warehouse.layout import DEFAULT_HOME, Layout


class SettingsError(ValueError):
    """A setting has an unusable value; the message names the setting and its origin."""


TASK_RUNNERS = ("default", "dask")
ENV_PREFIX = "XXGK_"


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would take True as 1
        raise ValueError("expected a number, not a boolean")
    return value


def _none_if_empty(value: Any) -> Any:
    return None if value == "" else value


Count = Annotated[int, BeforeValidator(_no_bool)]
OptionalText = Annotated[str | None, BeforeValidator(_none_if_empty)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid",
                                      validate_default=False)

    home: Path = DEFAULT_HOME  # XXGK_HOME: raw store, parsed cache, warehouse, marts
    sources: OptionalText = None  # XXGK_SOURCES: registry CSV; None = the bundled sample registry
    # XXGK_LISTINGS: listings CSV (agency,listing_url,...); when set, each run first discovers the
    # year's reports on those listing pages and merges them into the registry (docs/DISCOVERY.md).
    listings: OptionalText = None
    # XXGK_SAMPLES_BASE: the base URL of a server of the bundled sample pages, put in place of a
    # registry's ``{samples}``. `xxgk demo`/`run` and the deployments' flows start that server
    # (the demo tooling) and set it; the pipeline never starts it.
    samples_base: OptionalText = None
    # Politeness toward the publishing sites (passed to sources.fetch.Fetcher).
    max_per_host: Count = Field(2, ge=1)  # XXGK_MAX_PER_HOST: concurrent requests per host
    min_delay: float = Field(1.0, ge=0)  # XXGK_MIN_DELAY: seconds between two requests to one host
    timeout: float = Field(30.0, gt=0)  # XXGK_TIMEOUT: seconds per request
    # XXGK_RETRIES: further attempts per URL after a transient error (5xx, 429, timeout)
    retries: Count = Field(3, ge=0)
    # XXGK_HOST_FAIL_AFTER: a host that times out this many times in a row is given up for the run
    # (its remaining rows fail at once with host_unreachable); 0 = never.
    host_fail_after: Count = Field(3, ge=0)
    # XXGK_FETCH_DEADLINE: seconds a run's fetch may take; rows not started by then fail with run_deadline.
    fetch_deadline: float = Field(3 * 3600.0, gt=0)
    # XXGK_FETCH_PROCESSES: processes sharing a fetch of 2,000 sources or more; 0 = one per core (at most 4)
    fetch_processes: Count = Field(0, ge=0)
    user_agent: str = "xxgk/0.1 (+https://github.com/xxgk; government disclosure reports research)"
    # Parsing in worker processes, each document with a time limit (flows/parsepool.py).
    parse_workers: Count = Field(0, ge=0)  # XXGK_PARSE_WORKERS: worker processes; 0 = one per core
    # XXGK_PARSE_TIMEOUT: seconds per document; 0 = parse in-process, no limit
    parse_timeout: float = Field(120.0, ge=0)
    # Publish gate (expectations.gate.decide).
    # XXGK_MAX_FAIL_SHARE: share of quarantined reports that stops a publish
    max_fail_share: float = Field(0.5, ge=0, le=1)
    # XXGK_FULL_RUN: load, validate and publish even when nothing changed since the year's last
    # complete run (by default such a re-run takes that run's outcomes: flows/runrecord.py).
    full_run: bool = False
    # XXGK_OFFLINE: fetch nothing; every registry row gets the last body the raw store holds for
    # its URL (``xxgk rebuild`` sets it).
    offline: bool = False
    # XXGK_WAREHOUSE_MEMORY: DuckDB's memory limit for the warehouse (it spills to disk beyond it).
    warehouse_memory: str = Field("512MB", pattern=r"(?i)^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    # Prefect task runner for the flows: "default" (threads) or "dask".
    task_runner: Literal["default", "dask"] = "default"  # XXGK_TASK_RUNNER
    dask_address: OptionalText = None  # XXGK_DASK_ADDRESS: an existing Dask scheduler; None = local cluster
    config_file: Path | None = Field(None, exclude=True)  # where the file settings came from (no variable)

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(os.path.expanduser(str(value)))

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings,)  # the file and the environment: load_settings, which says where a value came from

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
        values = {**self.model_dump(), "config_file": self.config_file}
        return _build(values, {k: "override" for k in clean}, clean)


SETTINGS = tuple(name for name in Settings.model_fields if name != "config_file")
_ENV = {name: ENV_PREFIX + name.upper() for name in SETTINGS}


class _Environment(EnvSettingsSource):
    """XXGK_* variables of a given mapping (os.environ, or a test's dict)."""

    def __init__(self, env: Mapping[str, str]):
        self._given = env
        super().__init__(Settings, case_sensitive=False, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._given.items() if k.startswith(ENV_PREFIX) and v != ""}


def _build(base: dict[str, Any], origins: dict[str, str], values: dict[str, Any]) -> Settings:
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        where = sorted({origins.get(k, "override") for k in unknown})
        raise SettingsError(f"unknown setting(s) in {', '.join(where)}: {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(SETTINGS))})")
    try:
        return Settings(**{**base, **values})
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        origin = origins.get(name, "the defaults")
        raise SettingsError(f"{name} from {origin}: {_reason(first)}, got {first.get('input')!r}") from None


def _reason(error: dict[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "literal_error":
        return f"must be one of {', '.join(TASK_RUNNERS)}"
    if error["type"] == "string_pattern_mismatch":
        return "must be a size such as 512MB or 2GB"
    for key, words in (("ge", "at least"), ("gt", "more than"), ("le", "at most")):
        if key in ctx:
            return f"must be {words} {ctx[key]}"
    return error["msg"].lower()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SettingsError(f"cannot read config file {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"config file {path} is not valid TOML: {e}") from None
    return dict(data.get("xxgk", data))


def load_settings(config: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Defaults < TOML file < XXGK_* environment < ``overrides`` (None values ignored)."""
    env = os.environ if env is None else env
    env_values = _Environment(env)()
    # The file location may itself depend on XXGK_HOME (or on an override of home).
    home = Path(os.path.expanduser(str(overrides.get("home") or env_values.get("home") or DEFAULT_HOME)))
    config_path = Path(config) if config else (Path(env["XXGK_CONFIG"]) if env.get("XXGK_CONFIG") else None)
    if config_path is None and Layout(home).config.is_file():
        config_path = Layout(home).config
    file_values = _read_toml(config_path) if config_path is not None else {}
    given = {k: v for k, v in overrides.items() if v is not None}
    origins = {k: f"config file {config_path}" for k in file_values}
    origins |= {k: f"environment variable {_ENV[k]}" for k in env_values}
    origins |= {k: "override" for k in given}
    return _build({"config_file": config_path}, origins, {**file_values, **env_values, **given})


def env_table() -> list[tuple[str, str, Any]]:
    """(setting, environment variable, default) for the documentation and ``--help``."""
    return [(name, _ENV[name], Settings.model_fields[name].default) for name in SETTINGS]
