"""The Quarto project: files, numbers as text, narrative kept across rebuilds, and Quarto itself.

Quarto's binary is not on this machine's package registries, so the .qmd is checked by
converting it with pandoc (the engine inside Quarto) and asserting on the HTML. The one test
that needs Quarto is skipped, saying so, only when `quarto` is not on PATH.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _prerequisites import require_program

from dossier.build import analyse
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.context import build_context
from dossier.render.docx import pandoc_path
from dossier.render.markdown import read_narrative
from dossier.render.qmd import (
    QUARTO_INSTALL_HINT,
    QuartoError,
    render_with_quarto,
    write_quarto_project,
)

INJECTED_DRUG = '=HYPERLINK("http://evil.example","click")'
INJECTED_TUMOUR = "<script>alert(1)</script> {{< include /etc/passwd >}} $x$ @cite"
BUILD_TIME = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def analysed():
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    first = patients["cohort_id"].iloc[0]
    rows = patients["cohort_id"] == first
    patients.loc[rows, "drug"] = INJECTED_DRUG
    patients.loc[rows, "tumour_type"] = INJECTED_TUMOUR
    new_id = f"{INJECTED_DRUG} | {INJECTED_TUMOUR}"
    patients.loc[rows, "cohort_id"] = new_id
    cohorts.loc[cohorts["cohort_id"] == first, "cohort_id"] = new_id
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    analysis = analyse(Settings(), registry)
    return analysis, registry, new_id


def _context(analysed, only=None):
    analysis, registry, _ = analysed
    return build_context(
        results=analysis.results, verdicts=analysis.verdicts, registry=registry,
        rule_files=analysis.rules.rule_sets, parameters=analysis.parameters,
        title="Quarto test dossier", build_time=BUILD_TIME, software_version="0.1.0",
        data_sha256=registry.sha256, data_name="small.csv", only=only)


@pytest.fixture(scope="module")
def project(analysed, tmp_path_factory):
    analysis, _, _ = analysed
    folder = tmp_path_factory.mktemp("quarto")
    qmd = write_quarto_project(_context(analysed), folder, results=analysis.results)
    return folder, qmd


def _pandoc(folder: Path, to: str, extension: str, *extra: str) -> str:
    done = subprocess.run(
        [pandoc_path(), "dossier.qmd", "--from", "markdown", "--to", to, "--standalone",
         f"--default-image-extension={extension}", *extra],
        cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def as_html(project):
    folder, _ = project
    return _pandoc(folder, "html", "svg")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def _percent(value: float) -> str:
    return f"{value * 100:.1f}"


def test_project_holds_qmd_quarto_yml_reference_figures_and_results_data(project, analysed):
    folder, qmd = project
    analysis, _, _ = analysed
    assert qmd == folder / "dossier.qmd"
    config = yaml.safe_load((folder / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"]["render"] == ["dossier.qmd"]
    assert set(config["format"]) == {"html", "docx", "typst"}
    assert config["format"]["docx"]["reference-doc"] == "reference.docx"
    assert (folder / "reference.docx").read_bytes()[:2] == b"PK"
    images = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", qmd.read_text(encoding="utf-8"))
    assert len(images) == len(set(images)) > 0
    for image in images:
        assert (folder / f"{image}.svg").read_text(encoding="utf-8").startswith("<svg")
        assert (folder / f"{image}.png").read_bytes()[:4] == b"\x89PNG"
    data = pd.read_csv(folder / "data" / "results.csv", keep_default_na=False,
                       na_values=[""], float_precision="round_trip")
    assert list(data.columns) == list(analysis.results.columns)
    assert len(data) == len(analysis.results)
    expected = analysis.results["estimate"].to_numpy()
    assert data["estimate"].to_numpy() == pytest.approx(expected, nan_ok=True, abs=0)


def test_numbers_are_text_not_code_that_must_be_rerun(project):
    _, qmd = project
    text = qmd.read_text(encoding="utf-8")
    assert not re.search(r"^```+\s*\{", text, flags=re.M)  # no ```{r} / ```{python} chunk
    assert not re.search(r"`(r|python|julia|ojs) ", text)  # no inline code
    assert "echo:" not in text and "jupyter:" not in text and "engine:" not in text


def test_pandoc_reads_the_qmd_into_every_section_and_cohort_heading(as_html, project):
    _, qmd = project
    h1 = [_text(h) for h in re.findall(r"<h1[^>]*>(.*?)</h1>", as_html, flags=re.S)]
    assert h1[1:] == ["Executive summary", "Research question and study design",
                      "Background and unmet need", "Methods", "Cohorts",
                      "Cross-cohort comparison", "Discussion", "Appendix"]
    h2 = [_text(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", as_html, flags=re.S)]
    for number in range(1, 7):
        assert any(h.startswith(f"{number}. ") for h in h2)
    assert len(re.findall(r'<img src="figures/[^"]+\.svg"', as_html)) == len(
        re.findall(r"^!\[", qmd.read_text(encoding="utf-8"), flags=re.M))


def test_each_cohorts_rates_in_the_html_equal_the_results_table(as_html, analysed):
    analysis, _, _ = analysed
    cells = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", as_html, flags=re.S)]
    results = analysis.results
    rates = results[(results["group_by"] == "cohort_id") & (results["statistic"] == "rate")
                    & (results["denominator"] == "evaluable")
                    & results["endpoint"].isin(["cbr", "orr", "dcr"])]
    for row in rates.itertuples():
        text = (f"{_percent(row.estimate)}% ({_percent(row.lower)}-{_percent(row.upper)})")
        count = f"{int(row.x)}/{int(row.n)}"
        found = [k for k, c in enumerate(cells) if c == text and cells[k + 1] == count]
        assert found, (row.group, row.endpoint, text, count)


def test_injected_markup_shortcodes_and_formulas_stay_literal_text(as_html, project, analysed):
    folder, qmd = project
    _, _, injected_id = analysed
    assert "<script" not in as_html
    headings = [_text(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", as_html, flags=re.S)]
    assert any(h.endswith(f". {injected_id}") for h in headings)
    assert 'class="math' not in as_html and "citation" not in as_html
    text = qmd.read_text(encoding="utf-8")
    assert "{{<" not in text
    assert re.search(r"(?<!\\)<script", text) is None and "\\<script>" in text
    as_docx_xml = subprocess.run(
        [pandoc_path(), "dossier.qmd", "--from", "markdown", "--to", "docx",
         "--default-image-extension=png", "--output", "-"],
        cwd=folder, capture_output=True, check=True).stdout
    assert as_docx_xml[:2] == b"PK"


def _edit(qmd: Path, ident: str, text: str) -> None:
    source = qmd.read_text(encoding="utf-8")
    pattern = re.compile(r"(^::: \{#" + re.escape(ident) + r" \.narrative\}\n).*?(\n:::$)",
                         re.S | re.M)
    assert pattern.search(source), ident
    qmd.write_text(pattern.sub(lambda m: m.group(1) + text + m.group(2), source, count=1),
                   encoding="utf-8")


def test_a_rebuild_keeps_the_narrative_a_user_wrote(analysed, tmp_path):
    _, registry, _ = analysed
    first = tmp_path / "first"
    qmd = write_quarto_project(_context(analysed), first)
    unmet = ("Patients with *BRAF* V600E biliary cancer have no approved option.\n\n"
             "::: {.callout-note}\nA nested callout, kept whole.\n:::\n\n"
             "```\n:::\n```\n\nAfter the code block.")
    _edit(qmd, "narrative-unmet-need", unmet)
    cohort_ids = registry.cohorts["cohort_id"].astype(str).tolist()
    kept_keys = [k for k in read_narrative(qmd) if k.startswith("narrative-cohort-")]
    dropped, staying = kept_keys[0], kept_keys[1]
    _edit(qmd, dropped, "Interpretation of the first cohort, written by hand.")
    _edit(qmd, staying, "Interpretation of the second cohort.")

    second = tmp_path / "second"
    new = write_quarto_project(_context(analysed, only=cohort_ids[1:]), second,
                               keep_narrative_from=qmd)
    carried = read_narrative(new)
    assert carried["narrative-unmet-need"] == unmet
    assert carried[staying] == "Interpretation of the second cohort."
    assert carried[dropped] == "Interpretation of the first cohort, written by hand."
    text = new.read_text(encoding="utf-8")
    kept_part = text[text.index("# Narrative kept from an earlier build"):]
    assert f"::: {{#{dropped} .narrative}}" in kept_part
    assert carried["narrative-background"].startswith("*\\[Narrative to write")
    html_text = _pandoc(second, "html", "svg")
    assert "A nested callout, kept whole." in html_text
    assert len([k for k in carried if k.startswith("narrative-cohort-")]) == len(cohort_ids)


def test_an_unclosed_narrative_section_is_an_error_naming_file_and_line(tmp_path):
    qmd = tmp_path / "dossier.qmd"
    qmd.write_text("# Title\n\n::: {#narrative-background .narrative}\nText\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dossier\.qmd, line 3: narrative section "
                                         r"'narrative-background' is not closed"):
        read_narrative(qmd)
    assert read_narrative(tmp_path / "absent.qmd") == {}


def test_without_quarto_render_says_how_to_install_it_and_that_docx_needs_none(
        project, monkeypatch, tmp_path):
    folder, _ = project
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(QuartoError) as caught:
        render_with_quarto(folder)
    message = str(caught.value)
    assert message == QUARTO_INSTALL_HINT
    assert "https://quarto.org/docs/get-started/" in message
    assert "--format docx" in message


@pytest.mark.skipif(os.name == "nt", reason="the stand-in quarto is a POSIX shell script")
def test_render_runs_quarto_render_in_the_project_and_reports_its_failure(
        project, monkeypatch, tmp_path):
    folder, _ = project
    work = tmp_path / "project"
    shutil.copytree(folder, work)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    script = bin_dir / "quarto"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$PWD|$*" >> "{log}"\n'
        'if [ "$2" = "--to" ] && [ "$3" = "typst" ]; then echo "typst: font error" >&2; '
        "exit 3; fi\n"
        "mkdir -p _output && echo '<html></html>' > _output/dossier.html\n",
        encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))
    output = render_with_quarto(work, to=("html", "docx"))
    assert output == work / "_output"
    assert (output / "dossier.html").is_file()
    with pytest.raises(QuartoError, match=r"exit 3.*typst: font error"):
        render_with_quarto(work, to=("typst",))
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls == [f"{work.resolve()}|render --to html,docx",
                     f"{work.resolve()}|render --to typst"]


def test_quarto_renders_the_project_to_html(project, tmp_path):
    # Quarto is a standalone binary that no package registry CI uses carries, so .ci/run does
    # not install it and this stays a skip even under CI; everything short of the real binary
    # is tested above (pandoc on the .qmd, and a stand-in `quarto` for the command we run).
    require_program("quarto", "Quarto is not on the package registries; install it from "
                    "https://quarto.org/docs/get-started/ to run the real render",
                    ci_installs=False)
    folder, _ = project
    work = tmp_path / "project"
    shutil.copytree(folder, work)
    output = render_with_quarto(work, to=("html",))
    page = (output / "dossier.html").read_text(encoding="utf-8")
    assert "Executive summary" in page and "Cross-cohort comparison" in page
    assert "<script>alert(1)</script>" not in page


def test_the_qmd_escapes_only_where_markdown_would_misread_the_text(project):
    _, qmd = project
    text = qmd.read_text(encoding="utf-8")
    assert "| >= " in text  # thresholds in table cells read as written
    for noise in ("\\>", "\\_", "\\+", "\\-"):
        assert noise not in text, noise
    assert "\\<script>" in text and "\\{\\{\\< include" in text  # a tag, a shortcode
