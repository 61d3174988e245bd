"""A cohort's own PDF, read back: the cover of that cohort, its PICO, its one-page methods
(its own denominators and the rule file's stage sizes), its patients only, in a listing whose
header repeats on every page, and references that are numbered and cited.

The expected values are counted here from the registry and read from the rule file, not from
the context the PDF was rendered from.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossier.endpoints.compute import compute_endpoints
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.bundle import safe_file_name
from dossier.render.context import DEMO_DATA, SYNTHETIC_NOTICE, build_context
from dossier.render.pdf import write_pdfs
from dossier.resources import drup_stages
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.rulebook import load_rulebook

BUILD_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry():
    patients, cohorts = demo_registry(n_patients=400, seed=5)
    return registry_from_frames(patients, cohorts, name=DEMO_DATA)


@pytest.fixture(scope="module")
def chosen(registry) -> list[str]:
    """The largest cohort (its listing runs over a page) and the smallest one with patients."""
    sizes = registry.patients["cohort_id"].astype(str).value_counts()
    return [str(sizes.index[0]), str(sizes.index[-1])]


@pytest.fixture(scope="module")
def context(registry, chosen):
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    return build_context(results=results, verdicts=verdicts, registry=registry,
                         rule_files=book.rule_sets, parameters={"sd_weeks": 16},
                         title="Cohort dossier", build_time=BUILD_TIME,
                         software_version="9.9.9", data_sha256=registry.sha256,
                         data_name=DEMO_DATA, only=chosen)


@pytest.fixture(scope="module")
def pdfs(context, tmp_path_factory) -> dict[str, list[str]]:
    """Each cohort's PDF as the flattened text of its pages."""
    taken: set[str] = set()
    names = {c["id"]: safe_file_name(c["id"], taken) for c in context["cohorts"]}
    written = write_pdfs(context, tmp_path_factory.mktemp("cohort-pdf"),
                         cohort_file_names=names, workers=1)
    return {cid: [flat(p.extract_text()) for p in PdfReader(Path(written[cid])).pages]
            for cid in names}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def patients_of(registry, cohort_id: str):
    return registry.patients[registry.patients["cohort_id"].astype(str) == cohort_id]


def test_cover_names_the_cohort_its_data_and_says_no_decision(pdfs, registry, context) -> None:
    for cid, pages in pdfs.items():
        first = patients_of(registry, cid).iloc[0]
        cover = pages[0]
        for label, column in (("Drug", "drug"), ("Tumour type", "tumour_type"),
                              ("Alteration", "alteration")):
            assert f"{label} {first[column]}" in cover
        assert registry.sha256 in cover
        assert context["meta"]["data_cutoff"] in cover
        assert context["meta"]["build_date"] in cover
        assert SYNTHETIC_NOTICE in cover
        assert "payer" in cover and "decision" in cover


def test_pico_comes_after_the_methods_page(pdfs) -> None:
    for pages in pdfs.values():
        pico = next(k for k, p in enumerate(pages) if "Research question (PICO)" in p)
        assert pico >= 2
        assert all(w in pages[pico] for w in ("Population", "Intervention", "Comparator",
                                               "Outcomes"))


def test_methods_page_is_one_page_with_its_own_counts_and_the_rule_files_stages(
        pdfs, registry) -> None:
    stages = drup_stages()  # read from the bundled DRUP rule file
    for cid, pages in pdfs.items():
        page = pages[1]
        assert page.startswith("Methods for this cohort")
        assert "Frameworks applied" in page  # the whole summary fits its page
        assert "Methods for this cohort" not in pages[2]
        patients = patients_of(registry, cid)
        treated = len(patients)
        evaluable = int(patients["response_evaluable"].astype(int).sum())
        assert f"Treated {treated} " in page
        assert f"Response-evaluable {evaluable} " in page
        assert "Clopper-Pearson exact 95% CI" in page and "Kaplan-Meier" in page
        for k, (at_least, of) in enumerate(stages, start=1):
            assert f"Stage {k} {of} at least {at_least} of {of}" in page


def test_listing_holds_its_own_patients_only_with_the_header_on_every_page(
        pdfs, registry) -> None:
    codes = {cid: set(patients_of(registry, cid)["patient_id"].astype(str)) for cid in pdfs}
    for cid, pages in pdfs.items():
        start = next(k for k, p in enumerate(pages) if "Patient listing" in p)
        listing = [p for p in pages[start:] if "BOR" in p and "PFS" in p]
        text = " ".join(listing)
        printed = set(re.findall(r"DRUP-\d{4}", text))
        assert printed == codes[cid]
        others = set().union(*(c for k, c in codes.items() if k != cid))
        assert not printed & others
        for page in listing:
            assert re.search(r"Patient Stage BOR", page), "header missing on a listing page"
    largest = max(pdfs, key=lambda cid: len(codes[cid]))
    start = next(k for k, p in enumerate(pdfs[largest]) if "Patient listing" in p)
    assert sum("Patient Stage BOR" in p for p in pdfs[largest][start:]) >= 2


def test_references_are_numbered_and_each_is_cited_in_the_pdf(pdfs) -> None:
    for pages in pdfs.values():
        text = " ".join(pages)
        # the last heading "References" that a numbered entry follows (the page header
        # names the section too)
        heading = list(re.finditer(r"References (?=\[\d+\] )", text))[-1]
        body, references = text[:heading.start()], text[heading.end():]
        # the section's own "references cited" note repeats the list: not a citation
        body = re.sub(r"References cited in this section:.*?Patient listing", "", body)
        listed = [int(n) for n in re.findall(r"\[(\d+)\] \S", references)]
        assert listed and listed == sorted(set(listed))
        cited = {int(n) for group in re.findall(r"\[(\d+(?:, \d+)*)\]", body)
                 for n in group.split(", ")}
        assert set(listed) == cited
