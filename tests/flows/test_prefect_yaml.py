"""prefect.yaml: the deployments, their entrypoints, pool and schedules (no server needed)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _deployments():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return config, {d["name"]: d for d in config["deployments"]}


def _next_runs(schedules, start: dt.datetime, n: int) -> list[dt.datetime]:
    from prefect.server.schemas.schedules import CronSchedule

    dates = []
    for s in schedules:
        dates += asyncio.run(CronSchedule(cron=s["cron"], timezone=s["timezone"]).get_dates(n, start=start))
    return sorted(dates)[:n]


def test_deployments_point_at_the_flows_on_the_process_pool():
    config, deps = _deployments()
    assert set(deps) == {"xxgk-scheduled", "xxgk-backfill"}
    assert deps["xxgk-scheduled"]["entrypoint"] == "flows/commands/deployments.py:etl_year"
    assert deps["xxgk-backfill"]["entrypoint"] == "flows/commands/deployments.py:backfill"
    for d in deps.values():
        assert d["work_pool"]["name"] == "xxgk-pool"
        module, func = d["entrypoint"].split(":")
        assert (ROOT / module).is_file()
        import flows.commands.deployments as entry

        assert getattr(entry, func).name in ("etl-year", "backfill")
    step = config["pull"][0]["prefect.deployments.steps.set_working_directory"]
    assert step["directory"] == "{{ project-dir.stdout }}"
    assert not deps["xxgk-backfill"]["schedules"]


def test_schedule_is_daily_january_to_april_and_weekly_otherwise():
    _, deps = _deployments()
    schedules = deps["xxgk-scheduled"]["schedules"]
    assert all(s["timezone"] == "Asia/Shanghai" for s in schedules)
    spring = _next_runs(schedules, dt.datetime(2026, 1, 31, 12, tzinfo=SHANGHAI), 3)
    assert [d.astimezone(SHANGHAI).strftime("%m-%d %H:%M") for d in spring] == ["02-01 06:00", "02-02 06:00",
                                                                                 "02-03 06:00"]
    summer = _next_runs(schedules, dt.datetime(2026, 4, 29, 12, tzinfo=SHANGHAI), 4)
    local = [d.astimezone(SHANGHAI) for d in summer]
    assert [d.strftime("%m-%d") for d in local] == ["04-30", "05-04", "05-11", "05-18"]
    assert all(d.weekday() == 0 for d in local[1:])  # Mondays after April
