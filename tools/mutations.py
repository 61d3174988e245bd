"""Apply five hand-made mutations of dossier's statistics core and list the tests that catch each.

A developer tool, not part of the test suite. For each mutation it copies the working tree
(without .git, outputs and caches, and with no ../shared beside it: as a clean clone) to a
temporary folder, edits one line of the copy's dossier/ package, runs pytest there and prints
the tests that failed. A mutation that no test catches is a hole in the suite. The result table
is kept in tests/README.md ("Mutations the suite catches").

    python3 tools/mutations.py                   # all five, on the core test folders
    python3 tools/mutations.py M1 M4             # some of them
    python3 tools/mutations.py --tests tests     # on the whole suite (slow: minutes each)
    python3 tools/mutations.py --markdown        # print the table as in tests/README.md

Exit status 1 when a mutation survives (no test fails) or its code no longer matches (the
mutation then needs updating to the code as it now is).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = ("tests/endpoints", "tests/registry", "tests/scoring")
IGNORED = shutil.ignore_patterns(".git", "output", "__pycache__", ".pytest_cache", ".ruff_cache",
                                 ".hypothesis", "build", "dist", "*.egg-info", ".venv")


@dataclass(frozen=True)
class Mutation:
    """One deliberate bug: ``old`` (found exactly once in ``path``) is replaced by ``new``."""

    key: str
    what: str
    path: str
    old: str
    new: str


MUTATIONS = (
    Mutation(
        "M1", "KM median on a flat stretch at S = 0.5: the next event time, not R's midpoint",
        "dossier/endpoints/km.py",
        "out.append(float((x[i1] + x[i2]) / 2))",
        "out.append(float(x[i2]))",
    ),
    Mutation(
        "M2", "Greenwood variance with a risk set one too large (n + 1 for n)",
        "dossier/endpoints/km.py",
        "greenwood = np.cumsum(d / (nr * (nr - d)))",
        "greenwood = np.cumsum(d / ((nr + 1) * (nr + 1 - d)))",
    ),
    Mutation(
        "M3", "a censoring tied with an event leaves the risk set before the event",
        "dossier/endpoints/km.py",
        "at_risk = n - starts\n",
        "at_risk = n - starts - np.where(d > 0, total - d, 0).astype(np.int64)\n",
    ),
    Mutation(
        "M4",
        "Clopper-Pearson upper limit off by one (Beta(x + 1, n - x + 1) for Beta(x + 1, n - x))",
        "dossier/endpoints/rates.py",
        "betaincinv(x + 1, n - x, 1.0 - alpha)",
        "betaincinv(x + 1, n - x + 1, 1.0 - alpha)",
    ),
    Mutation(
        "M5", 'stable disease ">= 16 weeks" turned into "> 16 weeks"',
        "dossier/endpoints/response.py",
        "sd_long = stable & (pfs_days >= parameters.sd_days)",
        "sd_long = stable & (pfs_days > parameters.sd_days)",
    ),
)


@dataclass
class Outcome:
    """What pytest said about one mutation."""

    mutation: Mutation
    caught: list[str]
    passed: int
    error: str | None = None


def _copy_tree(destination: Path) -> Path:
    """The working tree as a clean clone would hold it, at ``destination/dossier-copy``."""
    copy = destination / "dossier-copy"
    shutil.copytree(REPO, copy, ignore=IGNORED)
    return copy


def _mutate(copy: Path, mutation: Mutation) -> None:
    path = copy / mutation.path
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation.old)
    if count != 1:
        raise LookupError(f"{mutation.key}: expected the code {mutation.old!r} once in "
                          f"{mutation.path}, found it {count} times: update tools/mutations.py")
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


def _run_pytest(copy: Path, tests: list[str], report: Path) -> None:
    """pytest in the copy, importing the copy's dossier (checked), with a JUnit XML report."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CI")}
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    where = subprocess.run([sys.executable, "-c", "import dossier; print(dossier.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True, check=True)
    if not Path(where.stdout.strip()).is_relative_to(copy):
        raise RuntimeError(f"the copy imports dossier from {where.stdout.strip()}, not {copy}")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={report}", *tests],
                   cwd=copy, env=env, capture_output=True, text=True)


def _failures(report: Path) -> tuple[list[str], int]:
    """(failed test ids, number passed) from a JUnit XML report."""
    failed, passed = [], 0
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        test_id = f"{module}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(test_id)
        elif case.find("skipped") is None:
            passed += 1
    return failed, passed


def run(mutation: Mutation, tests: list[str]) -> Outcome:
    """Apply one mutation to a fresh copy and run the tests on it."""
    with tempfile.TemporaryDirectory(prefix="dossier-mutation-") as tmp:
        copy = _copy_tree(Path(tmp))
        try:
            _mutate(copy, mutation)
        except LookupError as exc:
            return Outcome(mutation, [], 0, str(exc))
        report = Path(tmp) / "report.xml"
        _run_pytest(copy, tests, report)
        if not report.exists():
            return Outcome(mutation, [], 0, "pytest wrote no report")
        caught, passed = _failures(report)
        return Outcome(mutation, caught, passed)


def _by_file(caught: list[str]) -> dict[str, list[str]]:
    """Failed tests grouped by file and test function (parameters dropped): how many of each."""
    grouped: dict[str, list[str]] = {}
    for test_id in caught:
        file, _, name = test_id.partition("::")
        grouped.setdefault(file, []).append(re.sub(r"\[.*\]$", "", name))
    return grouped


def markdown(outcomes: list[Outcome]) -> str:
    """The result table as in tests/README.md."""
    lines = ["| mutation | failing tests | caught by (file: test function x failing cases) |",
             "| --- | ---: | --- |"]
    for o in outcomes:
        if o.error:
            lines.append(f"| {o.mutation.key}: {o.mutation.what} | - | {o.error} |")
            continue
        parts = []
        for file, names in _by_file(o.caught).items():
            counts = {n: names.count(n) for n in dict.fromkeys(names)}
            parts.append(f"`{file}`: " + ", ".join(f"{n} x{c}" for n, c in counts.items()))
        lines.append(f"| {o.mutation.key}: {o.mutation.what} | {len(o.caught)} | "
                     + ("<br>".join(parts) or "**survived**") + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS),
                        help=f"test paths to run (default: {' '.join(DEFAULT_TESTS)})")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.keys or m.key in args.keys]
    unknown = set(args.keys) - {m.key for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutation(s): {', '.join(sorted(unknown))}")
    outcomes = []
    for mutation in chosen:
        print(f"{mutation.key}: {mutation.what} ...", file=sys.stderr, flush=True)
        outcome = run(mutation, args.tests)
        outcomes.append(outcome)
        if outcome.error:
            print(f"  {outcome.error}", file=sys.stderr)
        else:
            print(f"  {len(outcome.caught)} failing, {outcome.passed} passing", file=sys.stderr)
            if not args.markdown:
                for test_id in outcome.caught:
                    print(f"  caught by {test_id}")
    if args.markdown:
        print(markdown(outcomes))
    return 1 if any(o.error or not o.caught for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
