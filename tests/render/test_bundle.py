"""Tests of the dossier output folder: atomic replacement, safe names, manifest and JSON.

A failed build must never leave a half-written dossier or damage the previous one, and the
manifest must let a reader verify every file with an ordinary SHA-256 tool.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dossier.errors import OutputError
from dossier.render.bundle import (
    MANIFEST_NAME,
    MAX_STEM_LENGTH,
    DossierBundle,
    build_timestamp,
    safe_file_name,
    sha256_file,
    to_jsonable,
)


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, by POSIX relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


def _earlier_dossier(dest: Path) -> dict[str, bytes]:
    with DossierBundle(dest) as bundle:
        bundle.write_text("dossier.txt", "version one\n")
        bundle.write_bytes("cohorts/A.pdf", b"%PDF-1.7 one")
        bundle.finish_manifest(inputs={}, criteria_files=[], parameters={})
    return _tree(dest)


# ------------------------------------------------------------------------------ atomic writes
def test_successful_build_appears_at_destination_with_no_temporary_folder_left(tmp_path):
    dest = tmp_path / "out" / "dossier"
    with DossierBundle(dest) as bundle:
        written = bundle.write_text("results.json", "{}\n")
        assert not dest.exists()  # nothing visible until the build succeeds
        assert written.parent.name.startswith(".dossier.tmp-")
    assert _tree(dest) == {"results.json": b"{}\n"}
    assert _siblings(dest) == ["dossier"]


def test_exception_inside_build_leaves_no_dossier_and_no_temporary_folder(tmp_path):
    dest = tmp_path / "dossier"
    with pytest.raises(RuntimeError, match="scoring failed"), DossierBundle(dest) as bundle:
        bundle.write_text("results.json", "{}\n")
        raise RuntimeError("scoring failed")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_build_leaves_no_dossier_and_no_temporary_folder(tmp_path):
    dest = tmp_path / "dossier"
    with pytest.raises(KeyboardInterrupt), DossierBundle(dest) as bundle:
        bundle.write_bytes("dossier.pdf", b"%PDF half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("interruption", [ValueError("bad rule file"), KeyboardInterrupt()])
def test_failed_rebuild_keeps_the_earlier_dossier_byte_for_byte(tmp_path, interruption):
    dest = tmp_path / "dossier"
    before = _earlier_dossier(dest)
    with pytest.raises(type(interruption)), DossierBundle(dest) as bundle:
        bundle.write_text("dossier.txt", "version two\n")
        bundle.write_bytes("cohorts/B.pdf", b"%PDF-1.7 two")
        raise interruption
    assert _tree(dest) == before
    assert _siblings(dest) == ["dossier"]


def test_successful_rebuild_replaces_the_earlier_dossier_entirely(tmp_path):
    dest = tmp_path / "dossier"
    _earlier_dossier(dest)
    with DossierBundle(dest) as bundle:
        bundle.write_text("dossier.txt", "version two\n")
    # cohorts/A.pdf of the earlier build is gone: no stale cohort report survives a rebuild
    assert _tree(dest) == {"dossier.txt": b"version two\n"}
    assert _siblings(dest) == ["dossier"]


def test_rebuild_is_refused_when_overwrite_is_off(tmp_path):
    dest = tmp_path / "dossier"
    before = _earlier_dossier(dest)
    with pytest.raises(OutputError, match="overwrite is off"):
        DossierBundle(dest, overwrite=False).__enter__()
    assert _tree(dest) == before
    assert _siblings(dest) == ["dossier"]


def test_destination_that_is_a_file_is_not_replaced(tmp_path):
    dest = tmp_path / "dossier"
    dest.write_text("my notes")
    with pytest.raises(OutputError, match="not a folder"), DossierBundle(dest):
        pass
    assert dest.read_text() == "my notes"


@pytest.mark.parametrize(
    "relative",
    ["/etc/passwd", "../outside.txt", "cohorts/../../outside.txt", "a/./b.txt", "", "a//b",
     "C:/x.txt", "cohorts\\..\\x.txt", "./x"],
)
def test_output_paths_outside_the_dossier_are_refused(tmp_path, relative):
    with DossierBundle(tmp_path / "dossier") as bundle, pytest.raises(ValueError):
        bundle.path(relative)
    assert _siblings(tmp_path / "dossier") == ["dossier"]
    assert not (tmp_path / "outside.txt").exists()


def test_output_path_through_a_symlink_out_of_the_dossier_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with DossierBundle(tmp_path / "dossier") as bundle:
        (bundle.temporary_folder / "link").symlink_to(outside, target_is_directory=True)
        with pytest.raises(ValueError, match="escapes"):
            bundle.write_text("link/x.txt", "x")
    assert list(outside.iterdir()) == []


def test_writing_outside_the_with_block_is_an_error(tmp_path):
    bundle = DossierBundle(tmp_path / "dossier")
    with pytest.raises(RuntimeError, match="with"):
        bundle.write_text("a.txt", "a")


def test_text_is_written_as_utf8_with_the_newlines_given(tmp_path):
    with DossierBundle(tmp_path / "d") as bundle:
        bundle.write_text("notes/readme.txt", "Niño\nline two\n")
    assert (tmp_path / "d" / "notes" / "readme.txt").read_bytes() == "Niño\nline two\n".encode()


# ------------------------------------------------------------------------------- file names
@pytest.mark.parametrize(
    ("cohort_id", "expected"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("<script>", "script"),
        ("CON", "CON_"),
        ("nul", "nul_"),
        ("com1.tumour", "com1_.tumour"),
        ("Ni\u00f1o | BRAF V600E", "Nino_BRAF_V600E"),
        ("...hidden", "hidden"),
        ("a..b", "a.b"),
        ("-rf", "rf"),
        ("trailing.", "trailing"),
        ("tab\tand\nnewline\x00", "tab_and_newline"),
        ("C:\\Windows\\system32", "C_Windows_system32"),
        ("DRUP-01_vemurafenib.BRAF", "DRUP-01_vemurafenib.BRAF"),
    ],
)
def test_cohort_ids_become_safe_readable_file_names(cohort_id, expected):
    assert safe_file_name(cohort_id) == expected


def test_empty_or_symbol_only_cohort_ids_still_get_distinct_names():
    empty = safe_file_name("")
    symbols = safe_file_name("???")
    sha_empty = hashlib.sha1(b"", usedforsecurity=False).hexdigest()[:8]
    assert empty == f"cohort-{sha_empty}"
    assert symbols.startswith("cohort-") and symbols != empty


def test_very_long_cohort_id_is_cut_and_keeps_a_hash_of_the_full_id():
    long_a = "vemurafenib_" * 20 + "A"
    long_b = "vemurafenib_" * 20 + "B"
    name_a, name_b = safe_file_name(long_a), safe_file_name(long_b)
    assert len(name_a) <= MAX_STEM_LENGTH
    assert name_a.startswith("vemurafenib_vemurafenib")
    assert name_a.endswith("-" + hashlib.sha1(long_a.encode(), usedforsecurity=False)
                           .hexdigest()[:8])
    assert name_a != name_b


def test_cohort_ids_that_fold_to_the_same_name_get_different_files():
    taken: set[str] = set()
    first = safe_file_name("Niño", taken)
    second = safe_file_name("Nino", taken)
    third = safe_file_name("NINO", taken)  # same file on macOS/Windows (case-insensitive)
    again = safe_file_name("Nino", taken)  # the very same id twice still gets its own file
    names = [first, second, third, again]
    assert first == "Nino"
    assert second == "Nino-" + hashlib.sha1(b"Nino", usedforsecurity=False).hexdigest()[:8]
    assert len({n.lower() for n in names}) == 4
    assert taken == set(names)


# --------------------------------------------------------------------------------- manifest
def _inputs(tmp_path: Path) -> tuple[dict[str, Path], list[Path]]:
    data = tmp_path / "in" / "patients.csv"
    data.parent.mkdir()
    data.write_text("patient_id,cohort_id\nP1,A\n")
    rules = tmp_path / "in" / "paskwil-2023.yaml"
    rules.write_text("id: paskwil-2023\n")
    return {"data": data}, [rules]


def _build(dest: Path, inputs, criteria, **kwargs) -> dict:
    with DossierBundle(dest) as bundle:
        bundle.write_json("results.json", {"orr": np.float64(0.25), "n": np.int64(12)})
        bundle.write_bytes("cohorts/A.pdf", b"%PDF-1.7 A")
        bundle.write_bytes("dossier.pdf", b"%PDF-1.7 all")
        bundle.finish_manifest(inputs=inputs, criteria_files=criteria,
                               parameters={"sd_weeks": 16, "ci": 0.95}, **kwargs)
    return json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))


def test_manifest_hashes_match_sha256_of_every_input_and_output(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    inputs, criteria = _inputs(tmp_path)
    dest = tmp_path / "dossier"
    manifest = _build(dest, inputs, criteria, build_time=dt.datetime(2024, 3, 1, 9, 30))
    data = inputs["data"].read_bytes()
    # outside the working directory an input is named, never given by its absolute path
    assert manifest["inputs"] == [{"role": "data", "name": "patients.csv",
                                   "path": "patients.csv", "size": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest()}]
    assert manifest["generator"] == "dossier"
    rules = criteria[0].read_bytes()
    assert manifest["criteria"] == [{"name": "paskwil-2023.yaml", "size": len(rules),
                                     "sha256": hashlib.sha256(rules).hexdigest()}]
    assert [o["path"] for o in manifest["outputs"]] == ["cohorts/A.pdf", "dossier.pdf",
                                                        "results.json"]
    for output in manifest["outputs"]:
        content = (dest / output["path"]).read_bytes()
        assert output["sha256"] == hashlib.sha256(content).hexdigest()
        assert output["size"] == len(content)
    assert manifest["parameters"] == {"ci": 0.95, "sd_weeks": 16}
    assert manifest["build_time"] == "2024-03-01T09:30:00Z"
    assert manifest["build_time_source"] == "caller"


def test_manifest_names_the_software_versions(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    inputs, criteria = _inputs(tmp_path)
    manifest = _build(tmp_path / "d", inputs, criteria, software={"R": "4.3.2"})
    software = manifest["software"]
    import openpyxl
    import pandas

    assert software["pandas"] == pandas.__version__
    assert software["openpyxl"] == openpyxl.__version__
    assert software["R"] == "4.3.2"
    assert {"dossier", "python", "numpy", "scipy", "lifelines", "weasyprint",
            "jinja2"} <= set(software)


def test_manifest_is_byte_identical_across_rebuilds_with_source_date_epoch(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    inputs, criteria = _inputs(tmp_path)
    _build(tmp_path / "one", inputs, criteria, build_time=dt.datetime(2020, 1, 1))
    _build(tmp_path / "two", inputs, criteria, build_time=dt.datetime(2020, 1, 1))
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert one == two
    manifest = json.loads(one[MANIFEST_NAME])
    assert manifest["build_time"] == "2023-11-14T22:13:20Z"  # SOURCE_DATE_EPOCH wins
    assert manifest["build_time_source"] == "SOURCE_DATE_EPOCH"


def test_manifest_without_any_fixed_time_says_it_used_the_clock(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    inputs, criteria = _inputs(tmp_path)
    manifest = _build(tmp_path / "d", inputs, criteria)
    assert manifest["build_time_source"] == "clock"


def test_files_cannot_be_added_after_the_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    inputs, criteria = _inputs(tmp_path)
    with DossierBundle(tmp_path / "d") as bundle:
        bundle.finish_manifest(inputs=inputs, criteria_files=criteria, parameters={})
        with pytest.raises(RuntimeError, match="manifest"):
            bundle.write_text("late.txt", "late")


def test_manifest_with_a_missing_input_names_the_file(tmp_path):
    with DossierBundle(tmp_path / "d") as bundle, pytest.raises(FileNotFoundError,
                                                                 match=r"nowhere\.csv"):
        bundle.finish_manifest(inputs={"data": tmp_path / "nowhere.csv"}, criteria_files=[],
                               parameters={})


def test_sha256_file_equals_hashlib_on_a_file_larger_than_one_block(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 5000  # 1.28 MB, more than one 1 MiB read
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- build time
def test_build_time_prefers_source_date_epoch_then_data_time(monkeypatch):
    data_time = dt.datetime(2024, 6, 30, 12, 0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert build_timestamp(data_time) == dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert build_timestamp(data_time) == dt.datetime(2024, 6, 30, 12, 0, tzinfo=dt.UTC)
    cet = dt.timezone(dt.timedelta(hours=1))
    assert build_timestamp(dt.datetime(2024, 1, 1, 1, 0, tzinfo=cet)) == dt.datetime(
        2024, 1, 1, 0, 0, tzinfo=dt.UTC)


def test_malformed_source_date_epoch_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        build_timestamp()


# ------------------------------------------------------------------------------------ JSON
def test_json_output_is_deterministic_and_has_no_nan(tmp_path):
    payload = {
        "z": np.float64("nan"), "a": [np.int64(3), np.float32(0.5), math.inf, -math.inf],
        "when": dt.date(2024, 1, 31), "stamp": pd.Timestamp("2024-01-31 10:00"),
        "missing": [pd.NA, pd.NaT, None], "file": Path("data") / "patients.csv",
        "flags": np.array([True, False]), "counts": pd.Series([1, None], dtype="Int64"),
        "set": {"b", "a"}, "text": "Niño ≥ 16 weeks",
    }
    with DossierBundle(tmp_path / "d") as bundle:
        first = bundle.write_json("one.json", payload).read_bytes()
        second = bundle.write_json("two.json", dict(reversed(payload.items()))).read_bytes()
    assert first == second
    text = first.decode("utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert "Niño ≥ 16 weeks" in text  # ensure_ascii=False: readable, not \u escapes
    assert json.loads(text) == {
        "a": [3, 0.5, None, None], "counts": [1, None], "file": "data/patients.csv",
        "flags": [True, False], "missing": [None, None, None], "set": ["a", "b"],
        "stamp": "2024-01-31T10:00:00", "text": "Niño ≥ 16 weeks", "when": "2024-01-31",
        "z": None,
    }
    # sorted keys, two-space indent, a list or mapping of plain values on one line
    assert text.startswith('{\n  "a": [3, 0.5, null, null],\n  "counts": [1, null],\n')
    assert text.endswith("}\n")


def test_json_output_puts_each_record_on_one_line(tmp_path) -> None:
    rows = [{"endpoint": "orr", "estimate": 0.25}, {"endpoint": "cbr", "estimate": 0.5}]
    with DossierBundle(tmp_path / "d") as bundle:
        text = bundle.write_json("r.json", {"results": rows, "n": 2}).read_text("utf-8")
    assert text == ('{\n  "n": 2,\n  "results": [\n'
                    '    {"endpoint": "orr", "estimate": 0.25},\n'
                    '    {"endpoint": "cbr", "estimate": 0.5}\n  ]\n}\n')


def test_json_refuses_objects_it_cannot_represent():
    with pytest.raises(TypeError, match="object"):
        to_jsonable({"x": object()})
