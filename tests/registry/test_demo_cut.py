"""dossier demo --cut: the demo as it stood at an earlier cut; nothing in it lies after the cut."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.errors import DossierError
from dossier.registry.demo import DATA_CUTOFF, demo_registry
from dossier.registry.demo_cut import CONFIRMATION_DAYS, cut_registry, parse_cut
from dossier.registry.load import registry_from_frames

CUT = dt.date(2023, 1, 1)


@pytest.fixture(scope="module")
def full():
    return demo_registry()


@pytest.fixture(scope="module")
def cut(full):
    return cut_registry(*full, CUT)


def _follow(patients: pd.DataFrame, when: dt.date) -> np.ndarray:
    return (pd.Timestamp(when) - pd.to_datetime(patients["treatment_start"])).dt.days.to_numpy()


def test_no_patient_enrolled_and_no_date_after_the_cut(cut) -> None:
    patients, _ = cut
    starts = pd.to_datetime(patients["treatment_start"])
    assert (starts < pd.Timestamp(CUT)).all()
    follow = _follow(patients, CUT)
    for column in ("pfs_days", "os_days", "response_days"):
        days = pd.to_numeric(patients[column]).to_numpy(dtype=float, na_value=np.nan)
        assert not (days > follow).any(), column
    # someone is followed right up to the cut: the cut is the data's last date
    assert (patients["os_days"].to_numpy() == follow).any()


def test_counts_shrink_and_every_patient_is_one_of_the_full_demo(full, cut) -> None:
    before, after = cut[0], full[0]
    assert 0 < len(before) < len(after)
    assert set(before["patient_id"]) <= set(after["patient_id"])
    later = after.set_index("patient_id").loc[before["patient_id"]]
    for stem in ("pfs", "os"):
        assert before[f"{stem}_event"].sum() < after[f"{stem}_event"].sum()
        assert (before[f"{stem}_days"].to_numpy() <= later[f"{stem}_days"].to_numpy()).all()
        # an event seen at the cut is the same event later
        seen = before[f"{stem}_event"].to_numpy() == 1
        assert (later[f"{stem}_event"].to_numpy()[seen] == 1).all()
        assert (before[f"{stem}_days"].to_numpy()[seen]
                == later[f"{stem}_days"].to_numpy()[seen]).all()
    assert before["response_evaluable"].sum() < after["response_evaluable"].sum()
    assert len(cut[1]) < len(full[1])
    assert set(cut[1]["cohort_id"]) == set(before["cohort_id"])


def test_events_after_the_cut_are_censored_at_the_cut(full, cut) -> None:
    before = cut[0].set_index("patient_id")
    later = full[0].set_index("patient_id").loc[before.index]
    follow = pd.Series(_follow(before.reset_index(), CUT), index=before.index)
    died_later = (later["os_event"] == 1) & (later["os_days"] > follow)
    assert died_later.sum() > 10
    assert (before.loc[died_later, "os_event"] == 0).all()
    assert (before.loc[died_later, "os_days"] == follow[died_later]).all()


def test_responses_after_the_cut_are_dropped_consistently(full, cut) -> None:
    before = cut[0].set_index("patient_id")
    later = full[0].set_index("patient_id").loc[before.index]
    follow = pd.Series(_follow(before.reset_index(), CUT), index=before.index)
    late = later["response_days"].astype(float) > follow
    late &= before["response_evaluable"] == 1
    assert late.sum() > 0
    assert (before.loc[late, "best_response"] == "SD").all()
    assert before.loc[late, "response_days"].isna().all()
    assert before.loc[late, "response_confirmed"].isna().all()
    responders = before["best_response"].isin(["CR", "PR"])
    confirmable = before["response_days"].astype(float) + CONFIRMATION_DAYS <= follow
    assert not ((before["response_confirmed"] == 1) & responders & ~confirmable).any()
    # a patient whose first assessment is still ahead is not yet evaluable, with no response
    waiting = (later["response_evaluable"] == 1) & (before["response_evaluable"] == 0)
    assert waiting.sum() > 0
    assert before.loc[waiting, "best_response"].isna().all()


def test_the_cut_registry_passes_validation_and_is_deterministic(full, cut) -> None:
    registry = registry_from_frames(*cut, name="cut.csv")
    assert registry.report.ok, registry.report.errors[:3]
    again = cut_registry(*demo_registry(), CUT)
    pd.testing.assert_frame_equal(cut[0], again[0])
    pd.testing.assert_frame_equal(cut[1], again[1])


def test_a_cut_at_the_data_cutoff_is_the_full_demo(full) -> None:
    patients, cohorts = cut_registry(*full, DATA_CUTOFF)
    pd.testing.assert_frame_equal(patients, full[0], check_dtype=False)
    pd.testing.assert_frame_equal(cohorts, full[1])


@pytest.mark.parametrize("text", ["2016-07-01", "2030-01-01", "1 July 2024", ""])
def test_a_cut_outside_the_follow_up_or_not_a_date_is_refused(text: str) -> None:
    with pytest.raises(DossierError, match="--cut"):
        parse_cut(text)


def test_demo_cut_command_writes_the_earlier_registry(tmp_path) -> None:
    out = tmp_path / "cut.csv"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--cut", CUT.isoformat()])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert len(written) == len(cut_registry(*demo_registry(), CUT)[0])
    assert f"({len(written):,} patients)" in result.output
    assert "data cut 2023-01-01" in (tmp_path / "cut.cohorts.yaml").read_text()
    bad = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "x.csv"), "--cut", "soon"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "x.csv").exists()
