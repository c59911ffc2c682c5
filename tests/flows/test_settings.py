from pathlib import Path

import pytest

from flows.settings import Settings, SettingsError, env_table, load_settings


def test_defaults_without_file_or_environment(tmp_path):
    s = load_settings(env={"XXGK_HOME": str(tmp_path)})
    assert s.home == tmp_path
    assert s.sources is None and s.max_fail_share == 0.5 and s.task_runner == "default"
    assert s.marts_path == tmp_path / "marts.duckdb"
    assert s.config_file is None


def test_precedence_file_then_environment_then_override(tmp_path):
    (tmp_path / "xxgk.toml").write_text('max_per_host = 4\nmin_delay = 2.5\nmax_fail_share = 0.2\n')
    env = {"XXGK_HOME": str(tmp_path), "XXGK_MIN_DELAY": "0.1"}
    s = load_settings(env=env, max_fail_share=0.9)
    assert s.config_file == tmp_path / "xxgk.toml"
    assert s.max_per_host == 4  # from the file
    assert s.min_delay == 0.1  # the environment beats the file
    assert s.max_fail_share == 0.9  # an explicit override beats both


def test_explicit_config_with_xxgk_table(tmp_path):
    cfg = tmp_path / "other.toml"
    cfg.write_text('[xxgk]\nhome = "%s"\nsources = "reg.csv"\ntask_runner = "dask"\n' % (tmp_path / "h"))
    s = load_settings(config=cfg, env={})
    assert s.home == tmp_path / "h" and s.sources == "reg.csv" and s.task_runner == "dask"


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"XXGK_MAX_PER_HOST": "many"}, "XXGK_MAX_PER_HOST"),
        ({"XXGK_MAX_FAIL_SHARE": "1.5"}, "max_fail_share"),
        ({"XXGK_TASK_RUNNER": "ray"}, "task_runner"),
        ({"XXGK_RETRIES": "-1"}, "retries"),
    ],
)
def test_bad_values_name_the_setting(env, needle):
    with pytest.raises(SettingsError, match=needle):
        load_settings(env=env)


def test_bad_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_text("max_per_host = [")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(config=bad, env={})
    bad.write_text("speed = 3")
    with pytest.raises(SettingsError, match="unknown setting.*speed"):
        load_settings(config=bad, env={})
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(config=tmp_path / "missing.toml", env={})


def test_every_setting_has_an_environment_variable_and_is_documented():
    doc = (Path(__file__).parents[2] / "docs" / "ORCHESTRATION.md").read_text(encoding="utf-8")
    names = env_table()
    assert {n for n, _, _ in names} == set(Settings.model_fields) - {"config_file"}
    for _name, var, _default in names:
        assert var in doc, f"{var} is not documented in docs/ORCHESTRATION.md"
