"""Time of the main-process stages of ``dossier build`` that are not PDF layout, on the demo.

Run:  python benchmarks/stages.py [--repeat N] [--dump DIR] [--check DIR] [--profile STAGE]

The stages, as ``dossier build`` runs them (see ``dossier/build.py:_build``):

results JSON   ``results_json``: the dict behind results.json (population, outlook, ...)
context        ``build_context``: the view of every cohort the templates read
workbook       ``write_dossier_workbook``: dossier.xlsx

These are what an incremental rebuild runs again after one cohort's rows change, when the PDF
parts are cached (issue #16: such a rebuild takes at most 15% of a clean build of the demo).
Targets on the 2-core reference machine: results JSON < 1 s, context < 2.5 s, workbook < 4 s.

``--dump DIR`` writes the outputs (results.json bytes, the HTML of every PDF part, the
workbook) to DIR; ``--check DIR`` compares this run's outputs with such a dump (JSON and HTML
byte for byte, the workbook cell by cell with its styles and sheet setup) and exits non-zero
on any difference. ``--profile STAGE`` prints a cProfile of one stage. Times are wall-clock,
best of ``--repeat``; the results JSON is timed without the basket fits cached (as in a fresh
process; the context and workbook, later in the same build, find them cached).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dossier import __version__
from dossier.build import _only, analyse, data_timestamp, load, results_json
from dossier.config import Settings
from dossier.registry.pseudonyms import (
    identifiers_sentence,
    patient_codes,
    shown_registry,
)
from dossier.render.bundle import build_timestamp, dumps_json
from dossier.render.methods_text import data_cutoff

DOSSIER_PARTS = ("appendix", "summary", "comparison", "methods", "index")
COHORT_PARTS = ("covers", "tails")


class Stages:
    """The demo analysed once, and each stage as a function of it."""

    def __init__(self) -> None:
        self.settings = Settings()
        registry = load(self.settings)
        self.analysis = analyse(self.settings, registry)
        self.chosen = _only(self.analysis, ())
        self.build_time = build_timestamp(data_timestamp(registry))
        codes = patient_codes(registry.patients)
        self.shown = shown_registry(registry, self.settings.patient_ids, codes)
        self.identifiers = identifiers_sentence(self.settings.patient_ids, False)
        self.registry = registry
        self.cohort_ids = registry.cohorts["cohort_id"].astype(str).tolist()

    def results_dict(self) -> dict[str, object]:
        return results_json(self.analysis, self.chosen, self.build_time.date().isoformat())

    def results_json(self) -> str:
        return dumps_json(self.results_dict())

    def context(self) -> dict[str, object]:
        from dossier.render.context import build_context

        a, s = self.analysis, self.settings
        return build_context(
            results=a.results, verdicts=a.verdicts, registry=self.shown,
            rule_files=a.rules.rule_sets, parameters=a.parameters, title=s.title,
            build_time=self.build_time, software_version=__version__,
            data_sha256=self.registry.sha256, data_name=a.data_name, only=self.chosen,
            patient_ids=self.identifiers, comparators=a.comparators, controls=a.controls,
            km_full_followup=s.km_full_followup)

    def workbook(self, target: Path) -> None:
        from dossier.render.workbook import write_dossier_workbook

        a, s, registry = self.analysis, self.settings, self.registry
        build_info = {
            "title": s.title, "data source": a.data_name, "data SHA-256": registry.sha256,
            "data cut-off": data_cutoff(registry),
            "build date": self.build_time.date().isoformat(),
            "software": f"dossier {__version__}",
            "criteria": ", ".join(f"{r.id} ({r.version})" for r in a.rules.rule_sets),
            "patient identifiers": self.identifiers.partition(": ")[2],
        }
        write_dossier_workbook(
            target, results=a.results, verdicts=a.verdicts, readiness=a.readiness,
            rule_sets=a.rules.rule_sets, patients=self.shown.patients,
            registry_cohorts=registry.cohorts, report=self.shown.report,
            build_info=build_info, created=self.build_time, only=self.chosen,
            adverse_events=self.shown.adverse_events, changes=None)

    def html_parts(self, context: dict[str, object]) -> dict[str, str]:
        from dossier.render.html import render_part

        parts = {f"dossier-{name}": render_part(context, document="dossier", pdf_part=name)
                 for name in DOSSIER_PARTS}
        parts["dossier-front"] = render_part(context, document="dossier", pdf_part="front",
                                             toc_pages={})
        parts.update({f"cohort-{name}": render_part(context, document="cohort", pdf_part=name)
                      for name in COHORT_PARTS})
        for cid in self.cohort_ids:
            parts[f"dossier-cohort-{cid.replace('/', '_')}"] = render_part(
                context, document="dossier", pdf_part="cohort", cohort_id=cid)
        return parts


def best_of(repeat: int, run: Callable[[], object], cold: bool) -> tuple[float, object]:
    """Best wall-clock time of ``repeat`` runs; ``cold``: each as in a fresh process, the basket
    fits (cached by their counts, computed once per build by whichever stage comes first)
    dropped first."""
    from dossier.endpoints.baskets import _fit

    best, value = float("inf"), None
    for _ in range(repeat):
        if cold:
            _fit.cache_clear()
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def _xml(obj: object) -> object:
    """An openpyxl object as its XML (its repr names addresses of nested objects)."""
    from openpyxl.xml.functions import tostring

    to_tree = getattr(obj, "to_tree", None)
    return obj if to_tree is None else tostring(to_tree())


def _style(cell: object) -> tuple[object, ...]:
    c = cell
    return (c.number_format, _xml(c.font), _xml(c.fill), _xml(c.alignment),  # type: ignore[attr-defined]
            _xml(c.border), _xml(c.protection),  # type: ignore[attr-defined]
            c.hyperlink and c.hyperlink.target, c.comment and c.comment.text)  # type: ignore[attr-defined]


def workbook_facts(path: Path) -> dict[str, object]:
    """Everything of a workbook a reader sees, as comparable values."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    facts: dict[str, object] = {
        "sheets": book.sheetnames,
        "defined_names": sorted((n, repr(v.attr_text)) for n, v in book.defined_names.items()),
        "properties": repr(book.properties),
    }
    for sheet in book.worksheets:
        key = sheet.title
        facts[f"{key}:dims"] = (sheet.max_row, sheet.max_column)
        facts[f"{key}:cells"] = [(c.coordinate, c.value, c.data_type, *_style(c))
                                 for row in sheet.iter_rows() for c in row]
        facts[f"{key}:widths"] = sorted((k, d.width, d.hidden, d.customWidth)
                                        for k, d in sheet.column_dimensions.items())
        facts[f"{key}:heights"] = sorted((k, d.height, d.hidden)
                                         for k, d in sheet.row_dimensions.items())
        facts[f"{key}:freeze"] = sheet.freeze_panes
        facts[f"{key}:merged"] = sorted(str(r) for r in sheet.merged_cells.ranges)
        facts[f"{key}:print"] = tuple(_xml(x) for x in (
            sheet.page_setup, sheet.print_options, sheet.page_margins, sheet.print_title_rows,
            sheet.print_title_cols, sheet.print_area, sheet.sheet_properties,
            sheet.HeaderFooter, sheet.sheet_view, sheet.sheet_format))
        facts[f"{key}:filter"] = _xml(sheet.auto_filter)
        facts[f"{key}:validation"] = _xml(sheet.data_validations)
        facts[f"{key}:conditional"] = [(str(r.sqref), [_xml(x) for x in r.rules])
                                       for r in sheet.conditional_formatting]
        facts[f"{key}:tables"] = sorted((n, _xml(t)) for n, t in sheet.tables.items())
        facts[f"{key}:sheet_names"] = sorted((n, repr(v.attr_text))
                                             for n, v in sheet.defined_names.items())
        facts[f"{key}:state"] = sheet.sheet_state
    return facts


def dump(stages: Stages, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(stages.results_json(), encoding="utf-8")
    html = folder / "html"
    html.mkdir(exist_ok=True)
    for name, text in stages.html_parts(stages.context()).items():
        (html / f"{name}.html").write_text(text, encoding="utf-8")
    stages.workbook(folder / "dossier.xlsx")
    print(f"reference outputs written to {folder}")


def check(stages: Stages, folder: Path) -> bool:
    ok = True
    if stages.results_json() != (folder / "results.json").read_text(encoding="utf-8"):
        print("DIFFERS: results.json")
        ok = False
    parts = stages.html_parts(stages.context())
    names = {p.stem for p in (folder / "html").glob("*.html")}
    if names != set(parts):
        print(f"DIFFERS: HTML part names {sorted(names ^ set(parts))}")
        ok = False
    for name, text in sorted(parts.items()):
        path = folder / "html" / f"{name}.html"
        if path.is_file() and path.read_text(encoding="utf-8") != text:
            print(f"DIFFERS: HTML {name}")
            ok = False
    with tempfile.TemporaryDirectory() as scratch:
        mine = Path(scratch) / "dossier.xlsx"
        stages.workbook(mine)
        if mine.read_bytes() == (folder / "dossier.xlsx").read_bytes():
            print("workbook: the same bytes")
        now, then = workbook_facts(mine), workbook_facts(folder / "dossier.xlsx")
    for key in sorted(set(now) | set(then)):
        if now.get(key) != then.get(key):
            print(f"DIFFERS: workbook {key}")
            ok = False
    print("outputs unchanged" if ok else "outputs DIFFER")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--check", type=Path)
    parser.add_argument("--profile", choices=("json", "json-dict", "context", "workbook"))
    args = parser.parse_args()
    start = time.perf_counter()
    stages = Stages()
    print(f"demo read and analysed in {time.perf_counter() - start:.2f} s "
          f"(load average {os.getloadavg()[0]:.2f})")
    if args.dump is not None:
        dump(stages, args.dump)
    if args.check is not None and not check(stages, args.check):
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "dossier.xlsx"
        runs: dict[str, Callable[[], object]] = {
            "json": stages.results_json, "json-dict": stages.results_dict,
            "context": stages.context,
            "workbook": lambda: stages.workbook(target)}
        if args.profile is not None:
            profiler = cProfile.Profile()
            profiler.runcall(runs[args.profile])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            return 0
        targets = {"json": 1.0, "context": 2.5, "workbook": 4.0}
        for name, run in runs.items():
            seconds, _ = best_of(args.repeat, run, cold=name.startswith("json"))
            aim = f"(target < {targets[name]} s)" if name in targets else (
                "(of it: the dict, without JSON text)")
            print(f"{name:<10} {seconds:6.2f} s   {aim}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
