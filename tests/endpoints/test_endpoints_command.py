"""``dossier endpoints`` through typer's CliRunner: printed figures, --out files, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from _endpoint_cohorts import hand_cohort
from typer.testing import CliRunner

from dossier.cli import app
from dossier.commands.endpoints import format_median, format_rate
from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.results import read_results, select
from dossier.registry.load import load_demo, load_registry


def run(*args: str, columns: int = 200) -> tuple[int, str]:
    """Exit code and output (stdout and stderr) in a terminal ``columns`` wide."""
    result = CliRunner().invoke(app, ["endpoints", *args], env={"COLUMNS": str(columns)})
    return result.exit_code, result.output


def write_registry(frame: pd.DataFrame, path: Path) -> Path:
    """A canonical frame as the patient file a user would write (text cells, blanks for NA)."""
    cells = frame.drop(columns=["row"]).copy()
    for column in cells.columns:
        values = cells[column].astype(object)
        if column == "treatment_start":
            values = values.map(lambda d: d.date().isoformat())
        cells[column] = [
            "" if pd.isna(v) else ("1" if v is True else "0" if v is False else str(v))
            for v in values
        ]
    cells.to_csv(path, index=False)
    return path


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    frame = pd.concat([hand_cohort("C1", drug="nivolumab"), hand_cohort("C2", drug="olaparib")],
                      ignore_index=True)
    return write_registry(frame, tmp_path / "registry.csv")


def table_rows(output: str) -> dict[str, list[str]]:
    """The rows of the printed endpoint table by their first cell (cells are 2+ spaces apart)."""
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) > 3 and cells[1].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def test_prints_counts_rates_and_medians_of_every_cohort_and_the_pooled_set(registry_file):
    code, output = run(str(registry_file))
    assert code == 0, output
    assert output.splitlines()[0].startswith("registry.csv: 24 patients, 2 cohorts, 0 errors")
    table = compute_endpoints(load_registry(registry_file).patients)
    rows = table_rows(output)
    assert list(rows) == ["C1", "C2", "all (pooled)"]
    # hand cohort C1 twice: 12 treated, 10 evaluable, 6 with clinical benefit (HAND["cbr"])
    for group, counts in (("C1", ["12", "10", "6/10"]), ("C2", ["12", "10", "6/10"]),
                          ("all", ["24", "20", "12/20"])):
        keys = {"group": group, "statistic": "rate", "denominator": "evaluable"}
        cbr = select(table, endpoint="cbr", **keys).iloc[0]
        orr = select(table, endpoint="orr", **keys).iloc[0]
        pfs = select(table, group=group, endpoint="pfs", statistic="median").iloc[0]
        os_ = select(table, group=group, endpoint="os", statistic="median").iloc[0]
        printed = rows["all (pooled)" if group == "all" else group]
        assert printed == [*counts, format_rate(cbr.to_dict()), format_rate(orr.to_dict()),
                           format_median(pfs.to_dict()), format_median(os_.to_dict())]
    assert rows["C1"][3:5] == ["60.0% (26.2-87.8)", "20.0% (2.5-55.6)"]  # binom.test in R
    assert rows["C1"][6] == "NR (NE-NR)"  # OS: everyone censored at 900 days


def test_sd_weeks_option_changes_the_clinical_benefit_shown(registry_file):
    code, output = run(str(registry_file), "--sd-weeks", "20")
    assert code == 0, output
    # 20 weeks = 140 days: P02 (130 days) and P04 (112 days) no longer count
    rows = table_rows(output)
    assert [rows[g][2] for g in ("C1", "C2", "all (pooled)")] == ["4/10", "4/10", "8/20"]
    assert rows["C1"][3] == "40.0% (12.2-73.8)"
    assert "SD >= 20 weeks" in output.splitlines()[0]


def test_by_option_adds_a_table_per_grouping(registry_file):
    code, output = run(str(registry_file), "--by", "drug,stage")
    assert code == 0, output
    assert "Endpoints by drug" in output and "Endpoints by stage" in output
    assert "olaparib" in output


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_out_writes_the_full_results_table(registry_file, tmp_path, suffix):
    out = tmp_path / "tables" / f"endpoints{suffix}"
    code, output = run(str(registry_file), "--by", "drug", "--ci", "log", "--out", str(out))
    assert code == 0, output
    assert f"wrote {out}" in output
    expected = compute_endpoints(load_registry(registry_file).patients, by=["drug"], ci="log")
    pd.testing.assert_frame_equal(read_results(out), expected, check_exact=True)
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_unknown_out_suffix_fails_before_computing(registry_file, tmp_path):
    code, output = run(str(registry_file), "--out", str(tmp_path / "endpoints.xlsx"))
    assert code == 2
    assert "endpoints.xlsx" in output and ".csv, .parquet, .json" in output
    assert not (tmp_path / "endpoints.xlsx").exists()


def test_unknown_grouping_column_is_named(registry_file):
    code, output = run(str(registry_file), "--by", "histology")
    assert code == 2
    assert "histology" in output and "available" in output


def test_unknown_ci_type_is_refused(registry_file):
    code, output = run(str(registry_file), "--ci", "logit")
    assert code == 2
    assert "log-log, log, plain" in output


def test_registry_with_errors_prints_its_report_and_exits_1(tmp_path):
    frame = hand_cohort()
    path = write_registry(frame, tmp_path / "bad.csv")
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[1].split(",")
    column = text[0].split(",").index("pfs_event")
    header[column] = "7"
    text[1] = ",".join(header)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    code, output = run(str(path))
    assert code == 1
    assert "FAILED" in output and "pfs_event" in output


def test_without_data_runs_on_the_demo_registry():
    code, output = run()
    assert code == 0, output
    registry = load_demo()
    assert registry.report.summary() in output
    table = compute_endpoints(registry.patients)
    pooled = select(table, group_by="all", endpoint="cbr", denominator="evaluable").iloc[0]
    assert f"{int(pooled['x'])}/{int(pooled['n'])}" in output
    assert format_rate(pooled.to_dict()) in output
    for cohort in registry.patients["cohort_id"].unique()[:3]:
        assert cohort.split(" | ")[0] in output


def test_narrow_terminal_wraps_but_cuts_nothing_off(registry_file):
    code, output = run(str(registry_file), columns=80)
    assert code == 0, output
    assert "…" not in output
    assert (output.count("6/10"), output.count("12/20")) == (2, 1)
