"""Write the bad-input corpus (tests/corpus/files/) from one clean registry, case by case.

Run ``python3 tests/corpus/make_corpus.py`` from the repository root to regenerate the files;
``manifest.toml`` says what dossier must answer to each. The files are committed, so the test
reads them as a user's files, not as something the test built; a case is added by writing its
file here and its entry in the manifest.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent / "files"

HEADER = ["patient_id", "cohort_id", "drug", "tumour_type", "alteration", "rare_cancer", "stage",
          "treatment_start", "response_evaluable", "best_response", "response_confirmed",
          "response_days", "pfs_days", "pfs_event", "os_days", "os_event", "worst_ae_grade",
          "prior_lines", "prior_pfs_days"]


def rows() -> list[list[str]]:
    """Ten clean patients of one cohort (no error, no warning): P01 CR, P02 PR, SD and PD."""
    out = []
    for i in range(10):
        bor = {0: "CR", 1: "PR"}.get(i, "SD" if i % 2 else "PD")
        responder = bor in ("CR", "PR")
        out.append([f"P{i + 1:02d}", "C1", "Erlotinib", "NSCLC", "EGFR L858R", "0",
                    "1" if i < 8 else "2", f"2020-0{1 + i % 9}-1{i % 9}", "1", bor,
                    "1" if responder else "", "56" if responder else "",
                    str(56 + i) if bor == "PD" else str(200 + 10 * i), "1", str(400 + 10 * i),
                    "1" if i % 3 else "0", str(i % 4), str(1 + i % 3), str(150 + i)])
    return out


def text(header: list[str], body: list[list[str]], sep: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def edited(**cells: tuple[int, str]) -> str:
    """The clean CSV with cells replaced: column=(patient index, new text)."""
    body = rows()
    for column, (index, value) in cells.items():
        body[index][HEADER.index(column)] = value
    return text(HEADER, body)


def edited_many(changes: list[tuple[int, str, str]]) -> str:
    body = rows()
    for index, column, value in changes:
        body[index][HEADER.index(column)] = value
    return text(HEADER, body)


def renamed(old: str, new: str) -> str:
    return text([new if h == old else h for h in HEADER], rows())


def dropped(column: str) -> str:
    j = HEADER.index(column)
    return text([h for h in HEADER if h != column], [[v for k, v in enumerate(r) if k != j]
                                                      for r in rows()])


def workbook(path: Path, sheets: dict[str, list[list[object]]],
             cached: dict[str, str] | None = None) -> None:
    """An .xlsx with these sheets; ``cached`` gives formula text -> the saved value to store
    (openpyxl writes formulas without saved values, as a program that never computed them)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, cells in sheets.items():
        sheet = book.create_sheet(name)
        for row in cells:
            sheet.append(row)
    book.save(path)
    if cached:
        data = path.read_bytes()
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
            for item in zin.infolist():
                body = zin.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    for formula, value in cached.items():
                        body = body.replace(f"<f>{formula}</f><v></v>".encode(),
                                            f"<f>{formula}</f><v>{value}</v>".encode())
                zout.writestr(item, body)
        path.write_bytes(out.getvalue())


def typed_rows() -> list[list[object]]:
    """The clean rows with numbers as numbers (as a spreadsheet holds them)."""
    out: list[list[object]] = []
    for r in rows():
        out.append([float(v) if v.replace(".", "", 1).isdigit() and k >= 11 else v
                    for k, v in enumerate(r)])
    return out


LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
       for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
) + "\n"

TEXT_FILES: dict[str, Callable[[], str | bytes]] = {
    "empty.csv": lambda: b"",
    "header-only.csv": lambda: text(HEADER, []),
    "blank-lines-only.csv": lambda: "\n\n \n\n",
    "wrong-delimiter-pipe.csv": lambda: text(HEADER, rows(), sep="|"),
    "semicolon-delimiter.csv": lambda: text(HEADER, rows(), sep=";"),
    "tab-delimited.txt": lambda: text(HEADER, rows(), sep="\t"),
    "utf8-bom.csv": lambda: "\ufeff" + text(HEADER, rows()),
    "latin1.csv": lambda: edited(tumour_type=(0, "Ovarian (séreux)")).encode("latin-1"),
    "utf16.csv": lambda: text(HEADER, rows()).encode("utf-16"),
    "binary-garbage.csv": lambda: bytes(range(256)) * 4,
    "nul-byte.csv": lambda: edited(drug=(2, "Erlo\x00tinib")),
    "ragged-row.csv": lambda: text(HEADER, rows()) + "P99,C1,x,y,z,0,1,2020-01-01,1,SD,,,"
                                                     "10,1,20,0,1,1,1,extra,fields,here\n",
    "duplicate-patient-id.csv": lambda: edited(patient_id=(4, "P02")),
    "missing-required-column.csv": lambda: dropped("stage"),
    "misspelt-column.csv": lambda: renamed("pfs_days", "pfs_dyas"),
    "duplicate-column.csv": lambda: text([*HEADER, "PFS days"],
                                         [[*r, r[12]] for r in rows()]),
    "date-day-first.csv": lambda: edited(treatment_start=(3, "03/01/2020")),
    "date-month-name.csv": lambda: edited(treatment_start=(3, "3 Jan 2020")),
    "date-slashes-iso-order.csv": lambda: edited(treatment_start=(3, "2020/01/03")),
    "date-impossible.csv": lambda: edited(treatment_start=(3, "2020-02-30")),
    "date-year-typo.csv": lambda: edited(treatment_start=(3, "0202-02-05")),
    "date-excel-serial.csv": lambda: edited(treatment_start=(3, "43833")),
    "text-in-number.csv": lambda: edited(pfs_days=(3, "about 200")),
    "thousands-separator.csv": lambda: edited(os_days=(3, "1,200")),
    "decimal-comma.csv": lambda: text(HEADER, [[*r[:18], "150,5"] if k == 3 else r
                                               for k, r in enumerate(rows())], sep=";"),
    "negative-days.csv": lambda: edited(pfs_days=(3, "-5")),
    "event-two.csv": lambda: edited(os_event=(3, "2")),
    "event-word.csv": lambda: edited(pfs_event=(3, "yes")),
    "huge-number.csv": lambda: edited(pfs_days=(3, "1e308")),
    "overflow-number.csv": lambda: edited(os_days=(3, "1e400")),
    "nan-string.csv": lambda: edited(pfs_days=(3, "NaN")),
    "inf-string.csv": lambda: edited(os_days=(3, "inf")),
    "minus-inf-string.csv": lambda: edited(prior_pfs_days=(3, "-inf")),
    "na-in-number.csv": lambda: edited(prior_lines=(3, "NA")),
    "unknown-response-code.csv": lambda: edited(best_response=(3, "CRR")),
    "stage-three.csv": lambda: edited(stage=(3, "3")),
    "ae-grade-six.csv": lambda: edited(worst_ae_grade=(3, "6")),
    "boolean-maybe.csv": lambda: edited(rare_cancer=(3, "maybe")),
    "pfs-longer-than-os.csv": lambda: edited(pfs_days=(3, "900")),
    "response-after-progression.csv": lambda: edited(response_days=(0, "400")),
    "mixed-case-keys.csv": lambda: edited_many([(5, "drug", "erlotinib"),
                                                (6, "drug", "ERLOTINIB")]),
    "mixed-case-cohort-id.csv": lambda: edited(cohort_id=(7, "c1")),
    "whitespace-keys.csv": lambda: edited_many([(1, "drug", " Erlotinib "),
                                                (2, "tumour_type", "NSCLC  "),
                                                (3, "alteration", "EGFR   L858R")]),
    "prior-pfs-tiny.csv": lambda: edited(prior_pfs_days=(3, "1e-300")),
    "prior-lines-many.csv": lambda: edited(prior_lines=(3, "25")),
    "start-in-2061.csv": lambda: edited(treatment_start=(3, "2061-03-01")),
    "os-days-into-future.csv": lambda: edited_many([(3, "treatment_start", "2026-01-01"),
                                                   (3, "os_days", "3000")]),
    "start-before-1990.csv": lambda: edited(treatment_start=(3, "1985-06-01")),
    "pd-with-late-pfs.csv": lambda: edited(pfs_days=(2, "200")),
    "time-over-20-years.csv": lambda: edited(os_days=(3, "8000")),
    "cohort-laughs.cohorts.yaml": lambda: LAUGHS,
    "cohort-duplicate-key.cohorts.yaml": lambda: ("cohorts:\n  - cohort_id: C1\n"
                                                  "    ema_status: approved\n"
                                                  "    ema_status: not_approved\n"),
    "cohort-recursive.cohorts.yaml": lambda: "cohorts: &c\n  - cohort_id: C1\n  - *c\n",
    "cohort-bad-syntax.cohorts.yaml": lambda: "cohorts:\n  - cohort_id: C1\n\ttitle: x\n",
    "cohort-scalar.cohorts.yaml": lambda: "just a sentence\n",
    "cohort-unknown-key.cohorts.yaml": lambda: "- cohort_id: C1\n  ema_statu: approved\n",
    "cohort-duplicate-key-mapping.cohorts.yaml": lambda: ("C1:\n  title: one\nC1:\n"
                                                          "  title: two\n"),
    "rules-laughs.yaml": lambda: LAUGHS,
    "rules-duplicate-key.yaml": lambda: ("id: mine\nid: yours\ntitle: x\n"),
    "rules-not-yaml.yaml": lambda: "id: [unclosed\n",
    "summary-laughs.yaml": lambda: LAUGHS,
    "summary-duplicate-key.yaml": lambda: ("studies:\n  - id: s1\n    metrics: {orr: 0.3}\n"
                                           "    metrics: {orr: 0.4}\n"),
    "mapping-laughs.yaml": lambda: LAUGHS,
    "mapping-duplicate-key.yaml": lambda: "adsl:\n  subject: USUBJID\n  subject: SUBJID\n",
    "config-unknown-key.toml": lambda: "[study]\ntitel = 'x'\n",
    "config-not-toml.toml": lambda: "[study\ntitle = 'x'\n",
    "config-bad-number.toml": lambda: "[endpoints]\nsd_weeks = 'sixteen'\n",
    "config-wrong-sheet.toml": lambda: "[study]\nsheet = 'Nope'\n",
    "template-syntax/dossier.html.j2": lambda: "<html>{% if %}</html>\n",
    "template-undefined/dossier.html.j2": lambda: "<html>\n{{ no_such_name }}\n</html>\n",
    "registry.xls": lambda: b"\xd0\xcf\x11\xe0 old binary excel",
    "not-a-workbook.xlsx": lambda: "patient_id,drug\nP1,x\n",
    "not-parquet.parquet": lambda: b"PAR1 but not really",
}


def write_binary_formats() -> None:
    header: list[object] = list(HEADER)
    body = typed_rows()
    pfs = HEADER.index("pfs_days")
    formula_rows = [[*r[:pfs], "=50+8", *r[pfs + 1:]] if k == 2 else r
                    for k, r in enumerate(body)]
    workbook(HERE / "xlsx-formula-without-value.xlsx", {"Patients": [header, *formula_rows]})
    workbook(HERE / "xlsx-formula-with-value.xlsx", {"Patients": [header, *formula_rows]},
             cached={"50+8": "58"})
    readme = [["This workbook holds the DRUP-like registry."], ["See the Patients sheet."]]
    workbook(HERE / "xlsx-readme-then-patients.xlsx", {"README": readme,
                                                       "Patients": [header, *body]})
    workbook(HERE / "xlsx-readme-only.xlsx", {"README": readme, "Notes": [["nothing here"]]})
    workbook(HERE / "xlsx-two-registries.xlsx", {"2023": [header, *body],
                                                 "2024": [header, *body]})
    workbook(HERE / "xlsx-empty-sheet.xlsx", {"Sheet1": []})
    workbook(HERE / "xlsx-text-in-number.xlsx", {"Patients": [
        header, *[[*r[:pfs], "two hundred", *r[pfs + 1:]] if k == 4 else r
                  for k, r in enumerate(body)]]})
    frame = pd.DataFrame(rows(), columns=HEADER)
    frame.loc[3, "pfs_days"] = "abc"
    frame.to_parquet(HERE / "parquet-text-in-number.parquet", index=False)
    frame = pd.DataFrame(rows(), columns=HEADER)
    wrong = frame.astype({"treatment_start": object})
    wrong["treatment_start"] = [True] * len(wrong)
    wrong.to_parquet(HERE / "parquet-bool-dates.parquet", index=False)
    good = pd.DataFrame(rows(), columns=HEADER)
    good["pfs_days"] = good["pfs_days"].astype(float)
    good.loc[3, "pfs_days"] = -40.0
    good.to_parquet(HERE / "parquet-negative-days.parquet", index=False)


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, make in TEXT_FILES.items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        content = make()
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    (HERE / "clean.csv").write_text(text(HEADER, rows()), encoding="utf-8", newline="")
    write_binary_formats()


if __name__ == "__main__":
    main()
