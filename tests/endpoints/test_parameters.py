"""One parameters object: the counts, the row ids, the labels and the landmarks follow it.

With sd_weeks = 20 no row is named after 16 weeks and every label says 20; the landmarks a
loaded rule file reads (PASKWIL 2024's 3-year OS) are computed because the rule needs them.
"""

from __future__ import annotations

import pytest
from _endpoint_cohorts import hand_cohort

from dossier.build import analyse
from dossier.config import ConfigError, Settings, parse_settings
from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.parameters import EndpointParameters
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.context import headline_rows
from dossier.render.results_index import ResultsIndex
from dossier.scoring.inputs import needed_landmarks
from dossier.scoring.rulebook import load_rulebook


def rate(table, endpoint, denominator):
    rows = table[(table["group_by"] == "all") & (table["endpoint"] == endpoint)
                 & (table["denominator"] == denominator)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_labels_and_ids_follow_sd_weeks():
    table = compute_endpoints(hand_cohort(), parameters=EndpointParameters(sd_weeks=20))
    assert not table["endpoint"].str.contains("16").any()
    assert not table["denominator"].str.contains("16").any()
    assert rate(table, "cbr", "evaluable")["label"] == \
        "Clinical benefit rate (CR/PR or SD >= 20 weeks)"
    lasting = rate(table, "sd_lasting", "sd_benefit_window")
    assert lasting["denominator_label"] == "with SD >= 20 weeks"
    assert lasting["label"] == "SD >= 20 weeks that lasted >= 24 weeks"
    assert not table["label"].str.contains("16 weeks").any()


def test_every_row_carries_a_label_and_other_parameters_show_in_them():
    params = EndpointParameters(pfs_rate_months=3, trae_grade_min=4, pfs_ratio_threshold=1.5,
                                conf_level=0.9)
    table = compute_endpoints(hand_cohort(), parameters=params)
    assert (table["label"] != "").all()
    assert rate(table, "pfs_rate", "evaluable")["label"] == "Progression-free at 3 months (crude)"
    assert rate(table, "severe_trae", "treated")["label"] == \
        "Grade >= 4 treatment-related adverse events"
    assert rate(table, "pfs_ratio", "with_prior_pfs")["label"] == \
        "PFS ratio >= 1.5 (trial / prior line)"
    assert rate(table, "orr", "evaluable")["method"].startswith("Clopper-Pearson exact 90% CI")
    os_rows = table[(table["group_by"] == "all") & (table["endpoint"] == "os")
                    & (table["statistic"] == "survival")]
    assert os_rows["label"].tolist() == ["OS at 3 months", "OS at 6 months", "OS at 12 months",
                                         "OS at 24 months"]


def test_overrides_are_checked_by_the_parameters_object():
    with pytest.raises(ValueError, match="sd_weeks must be positive"):
        compute_endpoints(hand_cohort(), sd_weeks=0)
    with pytest.raises(TypeError, match="unknown endpoint parameter"):
        compute_endpoints(hand_cohort(), sd_week=20)


def test_dossier_toml_sets_every_parameter_in_one_object():
    settings = parse_settings("[endpoints]\nsd_weeks = 20\npfs_rate_months = 3\n"
                              "landmarks_months = [6, 12]\n")
    assert settings.endpoints == EndpointParameters(sd_weeks=20, pfs_rate_months=3,
                                                    landmarks_months=(6, 12))
    assert settings.sd_weeks == 20  # read through from the parameters object
    with pytest.raises(ConfigError, match="trae_grade_min must be a CTCAE grade"):
        parse_settings("[endpoints]\ntrae_grade_min = 7\n")


def test_the_landmarks_a_rule_file_reads_are_computed():
    paskwil = load_rulebook().select(["paskwil-2024"])
    assert needed_landmarks(paskwil.rule_sets) == (24.0, 36.0)
    assert 36.0 not in EndpointParameters().landmarks_months
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    analysis = analyse(Settings(), registry, ["paskwil-2024"])
    os36 = analysis.results[(analysis.results["endpoint"] == "os")
                            & (analysis.results["statistic"] == "survival")
                            & (analysis.results["time"] == 36.0)]
    assert len(os36) > 0 and (os36["label"] == "OS at 36 months").all()
    assert analysis.parameters["landmarks_months"] == [3.0, 6.0, 12.0, 24.0, 36.0]


def test_the_pdf_headline_says_what_the_parameters_say():
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    settings = Settings().with_overrides(sd_weeks=20)
    analysis = analyse(settings, registry, ["drup-two-stage"])
    labels = [r["label"] for r in headline_rows(ResultsIndex(analysis.results))]
    assert "Clinical benefit rate (CR/PR or SD >= 20 weeks)" in labels
