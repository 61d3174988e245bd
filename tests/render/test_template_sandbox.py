"""User templates (``--templates DIR``) render in Jinja2's sandbox: a template that reaches for
Python internals, a syntax error or an undefined name stops ``dossier build`` with one clear line
naming the template file and line (exit code 1), never a traceback, and runs nothing."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.errors import TemplateError
from dossier.render.sandbox import sandboxed_environment, template_error
from tests.registry._factories import clean_patients, write

# (template file, its text with {marker} for a file the payload would create, line of the fault,
#  words the message must hold, the output format whose renderer reads that template)
OS_SYSTEM = "{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
SUBCLASSES = ("{{% for c in ''.__class__.__mro__[1].__subclasses__() %}}"
              "{{% if c.__name__ == 'Popen' %}}{{{{ c(['touch', '{marker}']) }}}}"
              "{{% endif %}}{{% endfor %}}")
CASES = {
    "os.system in an HTML template": (
        "_cover.html.j2", "<section>\n\n" + OS_SYSTEM + "\n</section>\n", 3,
        ("Python internals", "__init__"), "pdf"),
    "subclasses in an HTML template": (
        "_summary.html.j2", "<section>\n" + SUBCLASSES + "\n</section>\n", 2,
        ("Python internals", "__class__"), "pdf"),
    "os.system in the Quarto template": (
        "dossier.qmd.j2", "---\ntitle: x\n---\n\n" + OS_SYSTEM + "\n", 5,
        ("Python internals", "__init__"), "qmd"),
    "subclasses in the Word template": (
        "dossier.md.j2", "# Title\n" + SUBCLASSES + "\n", 2,
        ("Python internals", "__class__"), "docx"),
    "syntax error": (
        "_methods.html.j2", "<section>\n<p>{{ meta.title }}</p>\n{% endif %}\n</section>\n",
        3, ("syntax error", "endif"), "pdf"),
    "undefined name": (
        "_appendix.html.j2", "<section>\n<p>{{ meta.title }}</p>\n<p>{{ no_such_value }}</p>\n"
        "</section>\n", 3, ("undefined", "no_such_value"), "pdf"),
    "undefined attribute in markdown": (
        "dossier.qmd.j2", "---\ntitle: x\n---\n{{ meta.no_such_field }}\n", 4,
        ("undefined", "no_such_field"), "qmd"),
    "missing include": (
        "dossier.md.j2", "# T\n\n{% include 'nowhere.md.j2' %}\n", 3,
        ("not found", "nowhere.md.j2"), "docx"),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write(clean_patients(10), tmp_path_factory.mktemp("data") / "small", "csv")


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_user_template_stops_the_build_with_file_and_line(case, data, tmp_path) -> None:
    name, text, line, words, fmt = CASES[case]
    marker = tmp_path / "payload-ran"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / name).write_text(text.format(marker=marker) if "{marker}" in text else text,
                                  encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(data), "--out", str(out), "--format", fmt,
                                      "--templates", str(templates)])
    message = result.output
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # typer's Exit, not an escaped error
    assert "Traceback" not in message
    assert f"{templates / name}, line {line}:" in message
    for word in words:
        assert word in message
    assert not marker.exists(), "the template ran a command"
    assert not out.exists()


def test_the_sandbox_refuses_python_internals_from_a_string_template() -> None:
    env = sandboxed_environment([])
    for source in ("{{ cycler.__init__.__globals__ }}", "{{ ''.__class__.__mro__ }}",
                   "{{ [].append(1) }}", "{{ {}.update(a=1) }}"):
        with pytest.raises(Exception) as caught:
            env.from_string(source).render()
        assert type(caught.value).__name__ == "SecurityError", source


def test_an_error_in_dossiers_own_code_is_not_blamed_on_a_template(tmp_path) -> None:
    bundled_only = [tmp_path]
    assert template_error(KeyError("x"), bundled_only, "dossier.html.j2") is None


def test_a_template_error_crosses_a_process_boundary_intact() -> None:
    error = TemplateError("undefined name in the template: 'x' is undefined",
                          file="/t/_cover.html.j2", row=7, hint="see templates/README.md")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is TemplateError
    assert (again.file, again.row, again.hint, str(again)) == (
        error.file, error.row, error.hint, str(error))
    assert str(again).startswith("/t/_cover.html.j2, line 7: undefined name")


def test_a_template_error_met_while_worker_processes_lay_out_pdfs_is_the_same_clear_error(
        tmp_path) -> None:
    """The demo has enough cohorts for a pool of layout processes; the faulty cohort section
    is rendered while the first parts are being laid out."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_cohort.html.j2").write_text(
        "<section>\n<h2>{{ cohort.id }}</h2>\n{{ cohort.no_such_field }}\n</section>\n",
        encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", "--out", str(out), "--format", "pdf",
                                      "--templates", str(templates)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"{templates / '_cohort.html.j2'}, line 3: undefined name" in result.output
    assert "no_such_field" in result.output
    assert not out.exists()
