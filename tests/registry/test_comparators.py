"""Comparators files: reading YAML and CSV, every problem with file/line/key, the lookup rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dossier.errors import InputError
from dossier.registry.comparators import (
    UNANCHORED_CAVEAT,
    UNANCHORED_LABEL,
    Comparator,
    ComparatorFileError,
    Evidence,
    LineOfTherapy,
    find_comparator,
    read_comparators,
)
from dossier.resources import resource_dir

DEMO = resource_dir("criteria") / "comparators" / "demo-comparators.yaml"

GOOD = """\
comparators:
  - tumour_type: Pancreatic cancer
    line: 2
    median_pfs_months: 3.1
    median_os_months: 6.1
    orr_percent: 16.2
    evidence: published_trial
    source:
      citation: NAPOLI-1, control as tabulated
      url: https://example.org/napoli
  - tumour_type: Colorectal cancer
    line: 3+
    median_os_months: 7.1
    evidence: registry
    source:
      citation: A registry report
      url: https://example.org/registry
  - tumour_type: Colorectal cancer
    median_os_months: 12
    evidence: expert_estimate
    source:
      citation: Panel of three oncologists, 2026
  - tumour_type: Colorectal cancer
    line: 5+
    median_os_months: 4
    evidence: illustrative
  - tumour_type: Colorectal cancer
    line: 4
    median_pfs_months: 1.5
    evidence: illustrative
"""


def write(tmp_path: Path, text: str, name: str = "comparators.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ComparatorFileError) as info:
        read_comparators(path)
    assert isinstance(info.value, InputError)
    return [(p.row, p.column, p.message) for p in info.value.problems]


# ------------------------------------------------------------------------------ reading


def test_yaml_entries_are_read_with_their_figures_and_source(tmp_path):
    comparators = read_comparators(write(tmp_path, GOOD))
    first = comparators.entries[0]
    assert first.tumour_type == "Pancreatic cancer"
    assert first.lines == LineOfTherapy(line=2)
    assert (first.median_pfs_months, first.median_os_months, first.orr_percent) == (3.1, 6.1, 16.2)
    assert first.orr == pytest.approx(0.162)
    assert first.evidence is Evidence.PUBLISHED_TRIAL
    assert first.evidence.label == "published standard-of-care trial"
    assert first.url == "https://example.org/napoli"
    assert (first.file, first.where) == ("comparators.yaml", 2)
    assert comparators.entries[1].lines.label == "3+"
    assert comparators.entries[2].lines.any and comparators.entries[2].url is None
    assert comparators.entries[3].median_pfs_months is None


def test_record_is_plain_data_for_the_renderers(tmp_path):
    record = read_comparators(write(tmp_path, GOOD)).entries[1].record()
    assert record["line"] == "3+" and record["evidence_label"] == "registry"
    assert record["source_file"] == "comparators.yaml" and record["source_line"] == 11
    assert record["median_pfs_months"] is None


def test_csv_gives_the_same_entries(tmp_path):
    csv_text = (
        "tumour_type,line,median_pfs_months,median_os_months,orr_percent,evidence,treatment,"
        "citation,url,note\n"
        "Pancreatic cancer,2,3.1,6.1,16.2,published_trial,,\"NAPOLI-1, control as tabulated\","
        "https://example.org/napoli,\n"
        "Colorectal cancer,3+,,7.1,,registry,,A registry report,https://example.org/registry,\n"
        "\n"
        "Colorectal cancer,any,,12,,expert estimate,,\"Panel of three oncologists, 2026\",,\n"
    )
    from_csv = read_comparators(write(tmp_path, csv_text, "c.csv")).entries
    from_yaml = read_comparators(write(tmp_path, GOOD)).entries[:3]
    keys = ("tumour_type", "lines", "median_pfs_months", "median_os_months", "orr_percent",
            "evidence", "citation", "url")
    for a, b in zip(from_csv, from_yaml, strict=True):
        assert [getattr(a, k) for k in keys] == [getattr(b, k) for k in keys]
    assert [e.where for e in from_csv] == [2, 3, 5]  # rows as a spreadsheet counts them


# ------------------------------------------------------------------------------ problems


def test_every_problem_is_reported_with_line_and_key(tmp_path):
    path = write(tmp_path, """\
        comparators:
          - tumour_type: Pancreatic cancer
            line: 0
            median_pfs_months: -3
            orr_percent: 160
            evidence: published_trial
            source:
              citation: Somebody
          - tumour_type: Biliary tract cancer
            median_os_monts: 6.2
            evidence: trial
          - line: 2
            median_os_months: "six"
            evidence: illustrative
        """)
    found = problems(path)
    assert (3, "line", "line must be a line of therapy such as 2 (second line), '3+' (third "
            "line or later) or 'any', not 0") in found
    assert (4, "median_pfs_months", "median_pfs_months must be a positive number of months, "
            "not -3") in found
    assert (5, "orr_percent", "orr_percent is a percentage between 0 and 100, not 160") in found
    assert (2, "source.url", "a published standard-of-care trial needs the URL of its "
            "source") in found
    assert any(p[:2] == (10, "median_os_monts") and "did you mean 'median_os_months'" in p[2]
               for p in found)
    assert any(p[:2] == (11, "evidence") and "one of published_trial" in p[2] for p in found)
    assert (9, None, "give at least one of median_pfs_months, median_os_months, "
            "orr_percent") in found
    assert (12, "tumour_type", "every comparator needs a tumour_type") in found
    assert any(p[:2] == (13, "median_os_months") and "'six'" in p[2] for p in found)


def test_error_message_names_file_line_key_and_how_many_more(tmp_path):
    path = write(tmp_path, """\
        comparators:
          - tumour_type: X
            line: two
            evidence: illustrative
            median_os_months: 5
          - tumour_type: Y
            evidence: illustrative
        """)
    with pytest.raises(ComparatorFileError) as info:
        read_comparators(path)
    text = str(info.value)
    assert text.startswith("comparators.yaml, line 3, key 'line': line must be")
    assert "1 more problem in this file" in text


def test_duplicate_tumour_type_and_line_is_refused(tmp_path):
    path = write(tmp_path, """\
        comparators:
          - {tumour_type: Colorectal cancer, line: 3, median_os_months: 7, evidence: illustrative}
          - {tumour_type: " colorectal  CANCER", line: "3", median_os_months: 6,
             evidence: illustrative}
        """)
    assert problems(path) == [(3, "tumour_type", "a second comparator for 'colorectal CANCER', "
                               "line 3: the first is at line 2")]


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = write(tmp_path, """\
        comparators:
          - tumour_type: Colorectal cancer
            median_os_months: 7
            median_os_months: 9
            evidence: illustrative
        """)
    [(line, _, message)] = problems(path)
    assert line == 4 and "duplicate key 'median_os_months' (first given on line 3)" in message


def test_an_entry_repeated_through_a_yaml_alias_is_a_duplicate(tmp_path):
    path = write(tmp_path, """\
        comparators:
          - &crc {tumour_type: Colorectal cancer, median_os_months: 7, evidence: illustrative}
          - *crc
        """)
    [(line, key, message)] = problems(path)
    assert (line, key) == (2, "tumour_type")
    assert message == ("the comparator for 'Colorectal cancer', line any, is listed twice "
                       "(a YAML alias repeats it)")


def test_an_alias_bomb_is_refused_by_the_shared_loader_with_its_line(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    path = write(tmp_path, "\n".join(lines) + "\ncomparators: [*a6]\n")
    [(line, key, message)] = problems(path)
    assert key is None and line is not None and 1 <= line <= 7
    assert "more than the 100,000 dossier accepts" in message


def test_source_keys_must_sit_under_source_and_urls_be_web_addresses(tmp_path):
    path = write(tmp_path, """\
        comparators:
          - tumour_type: Colorectal cancer
            median_os_months: 7
            evidence: registry
            citation: misplaced
            source:
              citation: A registry
              url: www.example.org
              doi: 10.1/x
        """)
    found = problems(path)
    assert (5, "citation", "'citation' belongs under 'source:'") in found
    assert (8, "source.url", "'www.example.org' is not a web address (http:// or https://)") \
        in found
    assert any(p[:2] == (9, "source.doi") for p in found)


def test_malformed_files_get_one_clear_error(tmp_path):
    assert problems(write(tmp_path, "- just: a list\n"))[0][2].startswith(
        "expected a mapping with the key 'comparators:'")
    assert problems(write(tmp_path, "comparators: [\n"))[0][2].startswith("not valid YAML")
    assert problems(write(tmp_path, ""))[0][2] == "the file lists no comparators"
    assert problems(write(tmp_path, "comparators: {a: 1}\n"))[0][2].startswith(
        "'comparators' must be a list")
    assert problems(write(tmp_path, "comparators: []\nversion: 2\n"))[0][:2] == (2, "version")
    with pytest.raises(InputError, match="not found"):
        read_comparators(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match=r"YAML .* or CSV"):
        read_comparators(write(tmp_path, "x", "c.xlsx"))


def test_csv_problems_name_rows_and_columns(tmp_path):
    path = write(tmp_path, "tumour_type,line,median_os_month,evidence\n"
                           "Colorectal cancer,2.5,7,illustrative\n", "c.csv")
    found = problems(path)
    assert any(p[:2] == (1, "median_os_month") and "did you mean 'median_os_months'" in p[2]
               for p in found)
    assert any(p[:2] == (2, "line") for p in found)


# ------------------------------------------------------------------------------ lookup


@pytest.fixture
def entries(tmp_path) -> tuple[Comparator, ...]:
    return read_comparators(write(tmp_path, GOOD)).entries


@pytest.mark.parametrize(
    ("tumour", "line", "expected"),
    [
        ("Pancreatic cancer", 2, "2"),
        ("pancreatic   CANCER ", 2, "2"),  # case and spaces do not matter
        ("Pancreatic cancer", 3, None),  # an entry for line 2 only
        ("Pancreatic cancer", None, None),  # unknown line: only an any-line entry would do
        ("Colorectal cancer", 1, "any"),
        ("Colorectal cancer", 2, "any"),
        ("Colorectal cancer", 3, "3+"),
        ("Colorectal cancer", 4, "4"),  # exact beats "3+"
        ("Colorectal cancer", 5, "5+"),  # the largest N+ that covers the line
        ("Colorectal cancer", 9, "5+"),
        ("Colorectal cancer", None, "any"),
        ("Colorectal cancer, MSS", 3, None),  # no fallback to a broader tumour type
        ("Melanoma", 2, None),
    ],
)
def test_lookup_prefers_the_most_specific_line(entries, tumour, line, expected):
    found = find_comparator(entries, tumour, line)
    assert (found.lines.label if found else None) == expected


@pytest.mark.parametrize("line", [0, -1, 2.0, True, "2"])
def test_lookup_refuses_a_line_that_is_not_a_line_of_therapy(entries, line):
    with pytest.raises(ValueError, match="line of therapy"):
        find_comparator(entries, "Colorectal cancer", line)


# ------------------------------------------------------------------------------ bundled example


def test_demo_file_covers_every_demo_tumour_type_with_a_source_or_illustrative():
    from dossier.registry.demo import demo_registry

    comparators = read_comparators(DEMO)
    patients, _ = demo_registry()
    tumours = set(patients["tumour_type"])
    for tumour in tumours:
        found = [comparators.find(tumour, line) for line in (None, 2, 3, 4)]
        assert any(found), f"no comparator for demo tumour type {tumour!r}"
    for entry in comparators.entries:
        if entry.evidence is Evidence.ILLUSTRATIVE:
            assert entry.note and "illustrative" in entry.note.lower()
        else:
            assert entry.url.startswith("https://") and entry.citation


def test_demo_file_ships_in_the_criteria_folder_but_is_not_a_rule_file():
    from dossier.scoring.rulebook import builtin_paths

    assert DEMO.is_file()
    assert DEMO not in builtin_paths()


def test_unanchored_words_are_stated():
    assert UNANCHORED_LABEL == "vs external control (unanchored, naive comparison)"
    assert "EU HTA methodological guidance restricts unanchored comparisons" in UNANCHORED_CAVEAT
