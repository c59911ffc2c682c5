"""The deployments' entry flows (prefect.yaml): ``etl_year`` and ``backfill`` of flows/etl.py,
with the bundled sample pages served on loopback while they run when the registry names them
(``{samples}``, the out-of-the-box registry).

The pipeline never starts the demo server; this module, like the command line, is outside it.
Each entry flow runs the pipeline's flow body in its own flow run (``.fn``): one flow run per
year, as ``xxgk run --prefect`` makes.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows import etl
from flows.commands.running import samples_served
from flows.settings import load_settings


@flow(name="etl-year", log_prints=True)
def etl_year(year: int | None = None, sources: str | None = None, home: str | None = None,
             config: str | None = None, full_run: bool | None = None) -> dict[str, Any]:
    """Fetch, parse, load, validate and publish the reports of one year (flows/etl.py:etl_year)."""
    settings = load_settings(config=config, home=home, sources=sources)
    with samples_served(settings) as served:
        return etl.etl_year.fn(year=year, sources=sources, home=home, config=config, full_run=full_run,
                               samples_base=served.samples_base)


@flow(name="backfill", log_prints=True)
def backfill(years: list[int] | None = None, start: int | None = None, end: int | None = None,
             sources: str | None = None) -> dict[str, Any]:
    """Several years in order, each its own ``etl-year`` flow run (flows/etl.py:backfill)."""
    with samples_served(load_settings(sources=sources)) as served:
        return etl.backfill.fn(years=years, start=start, end=end, sources=sources,
                               samples_base=served.samples_base)
