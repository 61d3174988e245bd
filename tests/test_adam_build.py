"""A dossier built from CDISC ADaM datasets states every mapping decision in its methods."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from dossier.build import build_dossier
from dossier.config import Settings
from dossier.registry.adam import load_adam

ADAM = Path(__file__).resolve().parent / "reference" / "data" / "pharmaverseadam"


def test_methods_section_lists_the_adam_mapping_decisions(tmp_path: Path) -> None:
    registry = load_adam(ADAM)
    assert registry.report.decisions, "the ADaM reader states its mapping decisions"
    folder, _ = build_dossier(Settings(), registry=registry, destination=tmp_path / "adam",
                              formats=("pdf", "docx"), adam=ADAM)
    text = " ".join(page.extract_text() for page in PdfReader(folder / "dossier.pdf").pages[:12])
    flat = " ".join(text.split())
    assert "Data mapping" in flat
    first = registry.report.decisions[0]
    assert " ".join(first.text.split())[:15] in flat
    import docx

    document = docx.Document(folder / "dossier.docx")
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Data mapping" in headings
