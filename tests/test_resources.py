"""Bundled data is found, and the generated data dictionary matches the declared schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.registry.schema import PATIENT_COLUMNS, data_dictionary_markdown
from dossier.resources import resource_dir

REPO = Path(__file__).resolve().parents[1]


def test_criteria_and_templates_folders_are_found() -> None:
    assert resource_dir("criteria").is_dir()
    assert resource_dir("templates").is_dir()


def test_unknown_resource_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown resource"):
        resource_dir("fonts")


def test_data_dictionary_in_docs_is_the_one_the_schema_generates() -> None:
    text = (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert text == data_dictionary_markdown(), (
        "docs/data-dictionary.md is stale: run python -m dossier.registry.schema > "
        "docs/data-dictionary.md"
    )
    for column in PATIENT_COLUMNS:
        assert f"`{column.name}`" in text
    assert "30.4375" in text
