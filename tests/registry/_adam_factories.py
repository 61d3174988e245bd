"""A small, clean ADaM study for the ADaM tests, writers for each format, and the references.

``study()`` is ten treated subjects (S01-S10) and two screen failures (F01, F02), with ADSL,
ADTTE (PFS, OS), ADRS (visit responses OVR and the sponsor's BOR / CBOR) and ADAE. Every
derived value is worked out by hand next to its row (``EXPECTED``), so a test that changes one
cell can assert exactly what that changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import pandas as pd

from dossier.registry.adam import load_adam
from dossier.registry.load import Registry, RegistryError
from dossier.registry.validate import ValidationReport

REFERENCE = Path(__file__).resolve().parents[1] / "reference"  # tests/reference/README.md
PHARMAVERSE = REFERENCE / "data" / "pharmaverseadam"
RANDOM_CDISC = REFERENCE / "data" / "random_cdisc_data"

START = dt.date(2021, 1, 4)
SAS_EPOCH = dt.date(1960, 1, 1)
FORMATS = ("csv", "xpt", "parquet")

# subject: (ARMCD, visits [(day, AVALC)], BOR, CBOR, PFS days, PFS CNSR, OS days, OS CNSR)
SUBJECTS = {
    "S01": ("A", [(42, "PR"), (84, "PR")], "PR", "PR", 200, 0, 400, 1),  # confirmed PR
    "S02": ("A", [(42, "CR"), (84, "CR")], "CR", "CR", 300, 1, 500, 1),  # confirmed CR
    "S03": ("A", [(42, "SD"), (84, "PD")], "SD", "SD", 84, 0, 300, 0),
    "S04": ("A", [(42, "PD")], "PD", "PD", 42, 0, 200, 0),
    "S05": ("A", [(42, "PR"), (63, "PD")], "PR", "SD", 63, 0, 250, 0),  # PR not confirmed
    "S06": ("B", [(21, "SD")], "NE", "NE", 60, 1, 90, 1),  # SD too early: NE
    "S07": ("B", [], "MISSING", "MISSING", 1, 1, 30, 1),  # never assessed
    "S08": ("B", [(42, "SD"), (84, "SD")], "SD", "SD", 150, 1, 300, 1),
    "S09": ("B", [(42, "NE")], "NE", "NE", 100, 1, 200, 1),
    "S10": ("B", [(42, "NON-CR/NON-PD")], "NON-CR/NON-PD", "NON-CR/NON-PD", 120, 1, 220, 1),
}

# ADAE: (subject, TRTEMFL, AREL, ATOXGRN)
AE_RECORDS = [
    ("S01", "Y", "RELATED", 3),
    ("S01", "Y", "NOT RELATED", 4),  # unrelated: does not count
    ("S02", "Y", "POSSIBLE", 2),
    ("S02", None, "RELATED", 5),  # not treatment-emergent: does not count
    ("S03", "Y", None, 3),  # causality blank: counted as related
    ("S04", "Y", "RELATED", None),  # related, no grade: unknown
]

EXPECTED = {
    # dossier columns per subject: evaluable, best_response, response_confirmed, worst grade
    "S01": (True, "PR", True, 3),
    "S02": (True, "CR", True, 2),
    "S03": (True, "SD", None, 3),
    "S04": (True, "PD", None, None),
    "S05": (True, "PR", False, 0),
    "S06": (True, "NE", None, 0),
    "S07": (False, None, None, 0),
    "S08": (True, "SD", None, 0),
    "S09": (True, "NE", None, 0),
    "S10": (True, "SD", None, 0),  # NON-CR/NON-PD counts as SD
}

MAPPING = """\
columns:
  drug: TRT01A
  tumour_type: TUMTYPE
  alteration: {value: "BRAF V600E"}
"""


def _iso(day: int) -> str:
    return (START + dt.timedelta(days=day)).isoformat()


def study() -> dict[str, pd.DataFrame]:
    """The four datasets as text cells (dates ISO), as a CSV export would hold them."""
    adsl, adtte, adrs = [], [], []
    for i, (pid, (arm, visits, bor, cbor, pfs, pfs_c, os_, os_c)) in enumerate(SUBJECTS.items()):
        start = dt.timedelta(days=7 * i)
        adsl.append({"STUDYID": "X1", "USUBJID": pid, "ARMCD": arm,
                     "TRT01A": f"Drug {arm}", "TUMTYPE": "melanoma" if arm == "A" else "NSCLC",
                     "TRTSDT": (START + start).isoformat(),
                     "DTHDT": (START + start + dt.timedelta(days=os_)).isoformat()
                     if os_c == 0 else None,
                     "LSTALVDT": (START + start + dt.timedelta(days=os_)).isoformat(),
                     "REGION1": "NA"})
        for code, aval, cnsr in (("PFS", pfs, pfs_c), ("OS", os_, os_c)):
            adtte.append({"USUBJID": pid, "PARAMCD": code, "AVAL": aval, "AVALU": "DAYS",
                          "CNSR": cnsr, "STARTDT": (START + start).isoformat(),
                          "ADT": (START + start + dt.timedelta(days=aval)).isoformat()})
        for day, avalc in visits:
            adrs.append({"USUBJID": pid, "PARAMCD": "OVR", "AVALC": avalc, "ANL01FL": "Y",
                         "ADT": (START + start + dt.timedelta(days=day)).isoformat()})
        for code, value in (("BOR", bor), ("CBOR", cbor)):
            adrs.append({"USUBJID": pid, "PARAMCD": code, "AVALC": value, "ANL01FL": "Y",
                         "ADT": None})
    for pid in ("F01", "F02"):
        adsl.append({"STUDYID": "X1", "USUBJID": pid, "ARMCD": "Scrnfail",
                     "TRT01A": "Screen Failure", "TUMTYPE": None, "TRTSDT": None, "DTHDT": None,
                     "LSTALVDT": None, "REGION1": "NA"})
        adrs.append({"USUBJID": pid, "PARAMCD": "BOR", "AVALC": "MISSING", "ANL01FL": "Y",
                     "ADT": None})
    adae = [{"USUBJID": pid, "AEDECOD": "NAUSEA", "TRTEMFL": te, "AREL": rel, "ATOXGRN": grade}
            for pid, te, rel, grade in AE_RECORDS]
    return {"adsl": pd.DataFrame(adsl), "adtte": pd.DataFrame(adtte),
            "adrs": pd.DataFrame(adrs), "adae": pd.DataFrame(adae)}


def write_study(frames: dict[str, pd.DataFrame], directory: Path, fmt: str = "csv",
                mapping: str | None = MAPPING) -> Path | None:
    """Write each dataset as ``<name>.<fmt>`` (and the mapping file); returns the mapping path."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        write_dataset(frame, directory / f"{name}.{fmt}")
    if mapping is None:
        return None
    path = directory.parent / f"{directory.name}-mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path


def write_dataset(frame: pd.DataFrame, path: Path, date_format: str | None = "DATE9") -> Path:
    """CSV (empty cell = missing), Parquet, or SAS transport v5 as SAS stores dates: days since
    1960-01-01 with a date format (``date_format=None``: the bare number)."""
    cells = frame.astype(object).where(frame.notna(), None)
    if path.suffix == ".csv":
        cells.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        cells.astype(str).where(cells.notna(), None).to_parquet(path, index=False)
    else:
        import pyreadstat

        out, formats = cells.copy(), {}
        for column in out.columns:
            values = [v for v in out[column] if v is not None]
            if column.endswith("DT"):
                out[column] = [float("nan") if v is None else float(
                    (dt.date.fromisoformat(str(v)[:10]) - SAS_EPOCH).days) for v in out[column]]
                if date_format:
                    formats[column] = date_format
            elif values and all(isinstance(v, int | float) for v in values):
                out[column] = pd.to_numeric(out[column])
            else:
                out[column] = ["" if v is None else str(v) for v in out[column]]
        pyreadstat.write_xport(out, str(path), table_name=path.stem.upper()[:8],
                               file_format_version=5, variable_format=formats)
    return path


def report_of(directory: Path, mapping: Path | None = None) -> ValidationReport:
    """The validation report of an ADaM folder, whether or not it has errors."""
    try:
        return load_adam(directory, mapping).report
    except RegistryError as exc:
        return exc.report


def found(report: ValidationReport) -> set[tuple[str, str, str, int | None, str | None]]:
    """Every issue as (severity, rule, file, row, column)."""
    return {(i.severity, i.rule, i.file, i.row, i.column) for i in report.issues}


def csv_row(index: int) -> int:
    """The spreadsheet row of the record at 0-based position ``index`` of a CSV."""
    return index + 2


@functools.cache
def expected_json() -> dict:
    """tests/reference/expected.json (R survival oracle and admiralonco's derived BOR)."""
    return json.loads((REFERENCE / "expected.json").read_text(encoding="utf-8"))


PHARMAVERSE_MAPPING = """\
columns:
  drug: ARMCD
  tumour_type: {value: "Solid tumours"}
  alteration: {value: "not recorded"}
adtte:
  dor: RSD
"""

RANDOM_MAPPING = """\
columns:
  drug: ARMCD
  tumour_type: {value: "Solid tumours"}
  alteration: {value: "not recorded"}
adrs:
  bor: null
  cbor: BESRSPI
  visits: OVRINV
  response_date: none
"""


def load_reference(directory: Path, mapping_text: str, tmp: Path) -> Registry:
    """load_adam on a reference ADaM folder with a mapping written to ``tmp``."""
    mapping = tmp / "mapping.yaml"
    mapping.write_text(mapping_text, encoding="utf-8")
    return load_adam(directory, mapping)
