"""dossier.toml: every key is read, CLI options override it, and a typo is an error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.config import ConfigError, Settings, load_settings, parse_settings

FULL = """
[study]
title = "DRUP nivolumab dossier"
data = "data/registry.csv"
cohorts = "data/cohorts.yaml"
adam_map = "data/adam-map.yaml"
out = "build"
patient_ids = "keep"

[criteria]
apply = ["drup-two-stage", "esmo-mcbs-v1.1-form3"]

[endpoints]
ci = "log"
sd_weeks = 16
durable_weeks = 24
exceptional_pfs_months = 24
pfs_ratio_threshold = 1.33
by = ["drug", "rare_cancer"]
"""


def test_every_documented_key_is_read_and_paths_resolve_next_to_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "dossier.toml"
    cfg.write_text(FULL, encoding="utf-8")
    s = load_settings(cfg)
    assert s.title == "DRUP nivolumab dossier"
    assert s.data == tmp_path.resolve() / "data/registry.csv"
    assert s.cohorts == tmp_path.resolve() / "data/cohorts.yaml"
    assert s.out == tmp_path.resolve() / "build"
    assert s.adam_map == tmp_path.resolve() / "data/adam-map.yaml" and s.adam is None
    assert s.criteria == ("drup-two-stage", "esmo-mcbs-v1.1-form3")
    assert s.ci == "log"
    assert s.sd_weeks == 16.0 and s.durable_weeks == 24.0
    assert s.pfs_ratio_threshold == 1.33
    assert s.by == ("drug", "rare_cancer")
    assert s.patient_ids == "keep"


def test_no_file_gives_the_documented_defaults(tmp_path: Path) -> None:
    s = load_settings(cwd=tmp_path)
    assert s == Settings()
    assert s.ci == "log-log" and s.sd_weeks == 16.0 and s.out == Path("output")
    assert s.patient_ids == "pseudonymise"


def test_dossier_toml_in_the_working_directory_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "dossier.toml").write_text('[study]\ntitle = "Here"\n', encoding="utf-8")
    assert load_settings(cwd=tmp_path).title == "Here"


def test_unknown_key_is_an_error_that_names_it_and_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'sd_week' in \[endpoints\].*'sd_weeks'"):
        parse_settings("[endpoints]\nsd_week = 16\n")


def test_unknown_section_is_an_error_that_names_it() -> None:
    with pytest.raises(ConfigError, match=r"unknown section \[endpoint\].*'endpoints'"):
        parse_settings("[endpoint]\nci = 'log'\n")


def test_bad_values_are_errors_that_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="ci must be one of"):
        parse_settings('[endpoints]\nci = "logit"\n')
    with pytest.raises(ConfigError, match="sd_weeks must be positive"):
        parse_settings("[endpoints]\nsd_weeks = 0\n")
    with pytest.raises(ConfigError, match="patient_ids must be one of pseudonymise, keep, omit"):
        parse_settings('[study]\npatient_ids = "hide"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_settings("[endpoints\n")


def test_command_line_options_override_the_file() -> None:
    s = parse_settings('[endpoints]\nci = "log"\nsd_weeks = 16\n')
    t = s.with_overrides(ci="plain", sd_weeks=None, by=["drug"])
    assert t.ci == "plain" and t.sd_weeks == 16.0 and t.by == ("drug",)
    with pytest.raises(ConfigError, match="unknown setting"):
        s.with_overrides(colour="red")


def test_cli_reports_a_broken_config_file_with_its_name(tmp_path: Path) -> None:
    cfg = tmp_path / "dossier.toml"
    cfg.write_text("[study]\ntitel = 'x'\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(cfg), "demo", "--out", "x.csv"])
    assert result.exit_code == 2
    assert "titel" in result.output and "title" in result.output
