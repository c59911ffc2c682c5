"""The folders and files under ``$XXGK_HOME``, named once.

``Layout(home)`` is read once (from the settings, flows/settings.py) and handed to whoever
writes or reads there; docs/ORCHESTRATION.md lists the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def raw(self) -> Path:  # fetched bodies by SHA-256, with their manifest (sources/rawstore.py)
        return self.home / "raw"

    @property
    def parsed(self) -> Path:  # the parsed cache: <key[:2]>/<key>.json
        return self.home / "parsed"

    @property
    def runs(self) -> Path:  # the run record of each year's last complete run: <year>.json
        return self.home / "runs"

    def run_record(self, year: int) -> Path:
        return self.runs / f"{int(year)}.json"

    @property
    def cache(self) -> Path:  # what can be made again from the rest, kept to save time (the parsed registry)
        return self.home / "cache"

    @property
    def warehouse(self) -> Path:  # the private warehouse; only the pipeline opens it
        return self.home / "warehouse.duckdb"

    @property
    def marts(self) -> Path:  # what BI tools open read-only (DuckDB 1.x storage)
        return self.home / MARTS_DB

    @property
    def marts_parquet(self) -> Path:  # the marts as Parquet files
        return self.home / MARTS_PARQUET

    @property
    def site(self) -> Path:  # the report site
        return self.home / SITE

    @property
    def data_docs(self) -> Path:  # Data Docs of each year's last validation: <year>/index.html
        return self.home / "data_docs"

    @property
    def export(self) -> Path:  # `xxgk export`'s default output
        return self.home / "export"

    @property
    def registry(self) -> Path:  # the registry discovery writes when XXGK_SOURCES is not set
        return self.home / "registry.csv"

    @property
    def listings(self) -> Path:  # `xxgk discover`'s default listings
        return self.home / "listings.csv"

    @property
    def config(self) -> Path:  # settings file read when --config / XXGK_CONFIG are not given
        return self.home / "xxgk.toml"

    @property
    def writer_lock(self) -> Path:  # one writer of $XXGK_HOME at a time
        return self.home / ".writer.lock"


DEFAULT_HOME = Path("data")
MARTS_DB = "marts.duckdb"
MARTS_PARQUET = "marts"
SITE = "site"
