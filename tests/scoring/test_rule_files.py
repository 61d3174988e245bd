"""Rule files: built-in ones are complete and sourced; malformed ones fail with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from _scoring_helpers import builtin_book

from dossier.scoring.engine import score
from dossier.scoring.grammar import STATUSES
from dossier.scoring.rulebook import CriteriaError, builtin_paths, load_rulebook, resolve_criteria
from dossier.scoring.rulefile import RuleFileError, load_rule_file

REQUIRED_IDS = {
    "drup-two-stage", "esmo-mcbs-v1.1-form3", "esmo-mcbs-v1.1-form2a", "esmo-mcbs-v1.1-form2b",
    "paskwil-2016", "paskwil-2023", "paskwil-2024", "paskwil-2021-nonrandomised",
    "dossier-durability-screen",
}


def test_every_framework_version_the_issue_asks_for_ships_as_a_rule_file():
    assert set(builtin_book().ids()) == REQUIRED_IDS
    assert {p.stem for p in builtin_paths()} == REQUIRED_IDS


@pytest.mark.parametrize("rule_id", sorted(REQUIRED_IDS))
def test_every_rule_carries_a_status_and_a_source_with_a_url_or_citation(rule_id):
    rule_set = builtin_book().get(rule_id)
    assert rule_set.effective and rule_set.version and rule_set.framework
    urls = rule_set.source_urls
    assert all(s.status in STATUSES and s.where for s in rule_set.sources)
    items = [*rule_set.gates, *rule_set.strata, *rule_set.all_rules, *rule_set.stages,
             *rule_set.adjustments]
    assert items
    for item in items:
        assert item.status in STATUSES, (rule_id, item.id)
        assert urls.get(item.source), (rule_id, item.id)


def test_only_the_durability_screen_is_labelled_as_ours():
    assert [r.id for r in builtin_book().rule_sets if r.ours] == ["dossier-durability-screen"]


VALID = """\
id: my-rule
title: My rule
framework: Mine
version: "1"
effective: "2026-01"
sources:
  - id: src
    url: https://example.org/rule
    status: verified
inputs:
  orr: fraction
outcome:
  scale: binary
rules:
  - id: r1
    when: {metric: orr, op: ">=", value: 0.3}
    status: verified
    source: src
"""


def test_a_minimal_user_rule_file_loads(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(VALID, encoding="utf-8")
    rule_set = load_rule_file(path)
    assert rule_set.id == "my-rule"
    assert rule_set.rules[0].when is not None


# (case, text to replace, replacement, line, message fragment)
MALFORMED = [
    ("unknown operator", '">="', '"gte"', 16, "unknown operator 'gte'; use one of: >, >=, <, <="),
    ("unknown metric", "metric: orr,", "metric: orrr,", 16,
     "unknown metric 'orrr' (did you mean 'orr'?)"),
    ("metric not listed under inputs", "metric: orr,", "metric: pfs_median_months,", 16,
     "metric 'pfs_median_months' is used but not listed under inputs"),
    ("threshold not a number", "value: 0.3", "value: high", 16, "threshold must be a number"),
    ("bad band", 'op: ">=", value: 0.3', 'in: "0.2-0.6"', 16, "a band is written like"),
    ("unknown status", "    status: verified\n    source", "    status: checked\n    source", 17,
     "unknown status 'checked'"),
    ("unknown source", "source: src", "source: srcx", 18,
     "source 'srcx' is not among this file's sources"),
    ("unknown scale", "scale: binary", "scale: ordinal", 13, "unknown scale 'ordinal'"),
    ("missing title", "title: My rule\n", "", 1, "missing required key 'title'"),
    ("misspelt key", "title: My rule", "titel: My rule", 2,
     "unknown key 'titel' in a rule file (did you mean 'title'?)"),
    ("bad effective date", '"2026-01"', '"Jan 2026"', 5, "effective must be a date"),
    ("wrong input unit", "orr: fraction", "orr: percent", 11,
     "orr is measured in 'fraction', not 'percent'"),
    ("url without scheme", "https://example.org/rule", "example.org/rule", 8,
     "url must start with https://"),
    ("duplicate key", "    source: src\n", "    source: src\n    source: src\n", 19,
     "duplicate key 'source' (first given on line 18)"),
    ("invalid YAML", "  scale: binary", "  scale: [binary", 14, "not valid YAML"),
    ("grade on a binary scale", "  - id: r1\n", "  - id: r1\n    grade: 3\n", 16,
     "grade is only for a graded outcome scale"),
]


@pytest.mark.parametrize(("case", "old", "new", "line", "message"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_a_malformed_rule_file_error_names_the_file_the_line_and_the_problem(
        tmp_path: Path, case, old, new, line, message):
    assert old in VALID
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    assert f"{path}, line {line}: {message}" in str(caught.value), str(caught.value)


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace('">="', '"gte"').replace("source: src", "source: nope"),
                    encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    assert [p.line for p in caught.value.problems] == [16, 18]


GRADED = """\
id: graded
title: Graded
framework: Mine
version: "1"
effective: "2026"
sources:
  - {id: src, url: "https://example.org", status: verified}
inputs: {orr: fraction}
outcome:
  scale: graded
  grades: [1, 2, 3]
  met_at: 4
rules:
  - {id: r, grade: 5, when: {metric: orr, op: ">", value: 0.1}, status: verified, source: src}
adjustments:
  - {id: a, label: up, change: 0, when: {metric: orr, op: ">", value: 0.5}, status: verified,
     source: src}
"""


def test_graded_scale_consistency_is_checked(tmp_path: Path):
    path = tmp_path / "graded.yaml"
    path.write_text(GRADED, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    text = str(caught.value)
    assert f"{path}, line 12: met_at must be one of the grades [1, 2, 3], not 4" in text
    assert f"{path}, line 14: grade must be one of the outcome's grades [1, 2, 3], not 5" in text
    assert f"{path}, line 16: change must be a whole number such as -1 or +1, not 0" in text


def test_a_user_file_may_not_reuse_a_builtin_id(tmp_path: Path):
    path = tmp_path / "drup.yaml"
    path.write_text(VALID.replace("id: my-rule", "id: drup-two-stage"), encoding="utf-8")
    with pytest.raises(CriteriaError, match=r"already defined in .*drup-two-stage\.yaml"):
        load_rulebook([path])


def test_an_override_of_an_unknown_rule_file_is_refused(tmp_path: Path):
    path = tmp_path / "override.yaml"
    path.write_text("override: paskwil-2021-nonrandomized\nsources: [{id: s, citation: x, "
                    "status: verified}]\nrules: [{id: efficacy}]\n", encoding="utf-8")
    with pytest.raises(CriteriaError, match="did you mean 'paskwil-2021-nonrandomised'"):
        load_rulebook([path])


def test_an_override_naming_a_rule_the_file_lacks_gives_file_and_line(tmp_path: Path):
    path = tmp_path / "override.yaml"
    path.write_text("override: paskwil-2021-nonrandomised\n"
                    "sources: [{id: s, citation: x, status: verified}]\n"
                    "rules:\n"
                    "  - id: efficacies\n"
                    "    when: {metric: orr, op: '>', value: 0.3}\n"
                    "    status: verified\n"
                    "    source: s\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rulebook([path])
    assert f"{path}, line 4: paskwil-2021-nonrandomised has no rule 'efficacies' " \
           "(did you mean 'efficacy'?)" in str(caught.value)


def test_criteria_options_mix_ids_and_user_files(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(VALID, encoding="utf-8")
    _, chosen = resolve_criteria(["drup-two-stage", str(path)])
    assert chosen.ids() == ["drup-two-stage", "my-rule"]
    _, everything = resolve_criteria([str(tmp_path)])
    assert everything.ids()[-1] == "my-rule" and len(everything.ids()) == len(REQUIRED_IDS) + 1


def test_an_unknown_criteria_id_suggests_the_nearest(tmp_path: Path):
    with pytest.raises(CriteriaError, match="did you mean 'paskwil-2024'"):
        resolve_criteria(["paskwil-2042"])
    with pytest.raises(CriteriaError, match="rule file or folder not found"):
        resolve_criteria([str(tmp_path / "absent.yaml")])


STAGED = """\
id: my-stages
title: My stages
framework: Mine
version: "1"
effective: "2026-01"
sources:
  - id: src
    url: https://example.org/rule
    status: verified
inputs:
  n_evaluable: patients
  cb_n: patients
  cb_n_stage1: patients
  n_evaluable_stage1: patients
gates:
  - id: mature
    when: {metric: n_evaluable, op: ">=", value: 4}
    reason: assessed once 4 patients are evaluable
    on_fail: pending
    status: verified
    source: src
outcome:
  scale: staged
  successes: cb_n
  patients: n_evaluable
stages:
  - id: s1
    at_least: 1
    of: 8
    successes: cb_n_stage1
    patients: n_evaluable_stage1
    pass: passed
    fail: closed
    status: verified
    source: src
"""


def test_stage_counts_and_a_maturity_gate_load_and_decide(tmp_path: Path):
    path = tmp_path / "stages.yaml"
    path.write_text(STAGED, encoding="utf-8")
    rule_set = load_rule_file(path)
    assert (rule_set.stages[0].successes, rule_set.stages[0].patients) == (
        "cb_n_stage1", "n_evaluable_stage1")
    assert rule_set.gates[0].on_fail == "pending"
    young = score(rule_set, {"n_evaluable": 3, "cb_n": 0})
    assert (young.verdict, young.reasons) == ("pending",
                                              ("assessed once 4 patients are evaluable; 3 so far",))
    closed = score(rule_set, {"n_evaluable": 12, "cb_n": 3, "cb_n_stage1": 0,
                              "n_evaluable_stage1": 8})
    assert (closed.verdict, closed.outcome) == ("not met", "closed")


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("on_fail: pending", "on_fail: later", 19, "on_fail must be one of: not applicable, pending"),
    ("    successes: cb_n_stage1\n", "    successes: orr\n", 30,
     "successes must be a count metric, not 'orr'"),
    ("    patients: n_evaluable_stage1\n", "", 27,
     "a stage gives successes and patients together"),
])
def test_bad_stage_counts_or_gate_keys_name_the_line(tmp_path: Path, old, new, line, message):
    assert old in STAGED
    path = tmp_path / "bad.yaml"
    path.write_text(STAGED.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    assert f"{path}, line {line}: {message}" in str(caught.value), str(caught.value)
