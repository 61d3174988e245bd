"""Fuzz the readers through the CLI: random bytes, random CSV shapes, random cells.

Whatever the file holds, ``dossier validate`` and ``dossier endpoints --out`` end with exit code
0 or 1 and a message, never a traceback; nothing is written outside --out, and a file that was
there before is still there, unchanged.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dossier.cli import app

COLUMNS = ["patient_id", "drug", "tumour_type", "alteration", "rare_cancer", "stage",
           "treatment_start", "response_evaluable", "best_response", "response_confirmed",
           "pfs_days", "pfs_event", "os_days", "os_event", "prior_pfs_days", "Pfs-Days", ""]
CELLS = st.one_of(
    st.sampled_from(["", "0", "1", "2", "-1", "1e308", "1e-300", "NaN", "inf", "NA", "CR", "PD",
                     "SD", "2020-01-01", "2061-01-01", "0202-02-05", "03/01/2020", "yes",
                     "expansion", " Erlotinib ", "erlotinib", "=1+1", "\ufeff", "\x00", '"']),
    st.text(max_size=12),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
SHAPES = st.tuples(
    st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=10),
    st.lists(st.lists(CELLS, max_size=12), max_size=8),
    st.sampled_from([",", ";", "\t", "|"]),
)


def _csv(header: list[str], body: list[list[str]], sep: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def _run(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data = root / f"registry{suffix}"
        data.write_bytes(content)
        out = root / "out"
        out.mkdir()
        earlier = out / "earlier.txt"
        earlier.write_text("kept", encoding="utf-8")
        before = {p for p in root.rglob("*")}
        for argv in (["validate", str(data)],
                     ["endpoints", str(data), "--out", str(out / "results.json")]):
            result = CliRunner().invoke(app, argv)
            assert result.exception is None or isinstance(result.exception, SystemExit), \
                repr(result.exception)
            assert "Traceback" not in result.output
            assert result.exit_code in (0, 1), result.output
        after = {p for p in root.rglob("*")}
        assert {p for p in after - before if out not in p.parents} == set()
        assert earlier.read_text(encoding="utf-8") == "kept"
        assert data.read_bytes() == content


FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".csv", ".xlsx", ".parquet"]))
def test_random_bytes_never_end_in_a_traceback(content: bytes, suffix: str) -> None:
    _run(content, suffix)


@FUZZ
@given(SHAPES)
def test_random_csv_shapes_and_cells_never_end_in_a_traceback(
        shape: tuple[list[str], list[list[str]], str]) -> None:
    header, body, sep = shape
    try:
        content = _csv(header, body, sep)
    except UnicodeEncodeError:  # a lone surrogate cannot be a file's text
        return
    _run(content, ".csv")


@FUZZ
@given(st.lists(CELLS, min_size=len(COLUMNS[:15]), max_size=len(COLUMNS[:15])),
       st.integers(0, 14))
def test_one_random_cell_in_a_clean_registry_never_ends_in_a_traceback(
        cells: list[str], column: int) -> None:
    base = Path(__file__).resolve().parent / "corpus" / "files" / "clean.csv"
    rows = list(csv.reader(io.StringIO(base.read_text(encoding="utf-8"))))
    rows[3][column] = cells[column]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    try:
        content = buffer.getvalue().encode("utf-8")
    except UnicodeEncodeError:
        return
    _run(content, ".csv")
