"""Fault 8 (issue 18): a lost warehouse.duckdb is rebuilt from the raw store.

Two years are published; warehouse.duckdb is deleted. ``xxgk rebuild`` loads every year
again from the raw store without a request, and a plain run of one year does it by itself
first, so the marts never silently lose the other year. A raw store holding years the
registry does not list is refused with a message saying how.
"""

from __future__ import annotations

import pytest
import rel_marts as rm
from rel_faults import fast_settings
from rel_site import Site, registry, report_page

from flows.cli import main
from flows.plan import run_year

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def test_a_lost_warehouse_is_rebuilt_from_the_raw_store(tmp_path, capsys):
    site = Site()
    try:
        rows = [(f"重建局{i}", year, site.page(f"/{year}/{i}.html", report_page(f"重建局{i}", year, seed=i + year)[1]))
                for year in (2023, 2024) for i in range(2)]
        reg = registry(tmp_path / "registry.csv", rows)
        settings = fast_settings(tmp_path / "home", reg)
        for year in (2023, 2024):
            run_year(year, settings)
        reference = rm.facts(settings.marts_path)
        assert {y for _r, _a, y, _s, _st in reference["dim_report"]} == {2023, 2024}

        # xxgk rebuild: no request at all.
        settings.warehouse_path.unlink()
        hits = sum(site.hits.values())
        assert main(["rebuild", "--home", str(settings.home), "--sources", str(reg), "--quiet"]) == 0
        assert sum(site.hits.values()) == hits
        assert rm.facts(settings.marts_path)["fact_application"] == reference["fact_application"]
        assert {r[2] for r in rm.facts(settings.marts_path)["dim_report"]} == {2023, 2024}

        # A plain run of 2024 on a missing warehouse rebuilds 2023 first.
        settings.warehouse_path.unlink()
        s = run_year(2024, settings)
        assert s.published
        got = rm.facts(settings.marts_path)
        assert got["fact_application"] == reference["fact_application"]
        assert {r[2] for r in got["dim_report"]} == {2023, 2024}
    finally:
        site.close()

    # The registry lost its 2023 rows: refused, saying how, instead of publishing 2024 alone.
    settings.warehouse_path.unlink()
    only_2024 = registry(tmp_path / "r2024.csv", [r for r in rows if r[1] == 2024])
    with pytest.raises(RuntimeError, match=r"2023.*xxgk rebuild"):
        run_year(2024, settings.with_overrides(sources=str(only_2024)))
