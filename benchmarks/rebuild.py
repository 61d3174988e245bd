"""Rebuilds from the cache against a clean build, in one run (``benchmarks/build.py`` calls it).

Run alone:  python benchmarks/rebuild.py [--patients N] [--repeat R]

The demo registry is written to files (as ``dossier demo`` does: patients CSV, cohort metadata,
adverse events) and built into folders of one temporary directory, with the default outputs
(PDF, XLSX, JSON):

1. clean: a build with no earlier dossier (``cache=False``);
2. nothing changed: the same inputs into the same folder, R times;
3. one cohort changed: one patient of one cohort has progression 10 days earlier, the file is
   rewritten, and the build goes into a copy of the clean build's folder, R times (a fresh
   copy each time);
4. the same changed inputs built clean into another folder: the second clean build, and the
   check that the rebuild wrote the same bytes (every file of both folders compared).

Every build starts its PDF worker processes afresh (as a ``dossier build`` command does); the
time of Python's own start and imports is not counted, for any build.

Targets (issue #16, on the demo): the rebuild after one cohort's data changed takes at most 15%
of the clean build, the rebuild with nothing changed at most 5%. Times are wall-clock; each
ratio is of the best of its runs (as ``timeit`` reports: other work on the machine only ever
adds time) and every run is printed, with the load average.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's dossier

ONE_COHORT_TARGET = 0.15
NOTHING_TARGET = 0.05


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def write_demo_files(folder: Path, patients: int | None) -> Path:
    """The demo registry as files; returns the patient file."""
    from dossier.registry.demo import write_demo

    data = folder / "registry" / "demo.csv"
    data.parent.mkdir(parents=True)
    if patients:
        write_demo(data, n_patients=patients)
    else:
        write_demo(data)
    return data


def change_one_cohort(data: Path) -> str:
    """Move one progression of the first cohort 10 days earlier; return that cohort's id."""
    import pandas as pd

    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    cohort = frame["cohort_id"].iloc[0]
    rows = frame.index[(frame["cohort_id"] == cohort) & (frame["pfs_event"] == "1")
                       & (pd.to_numeric(frame["pfs_days"], errors="coerce") > 30)]
    row = rows[0]
    frame.loc[row, "pfs_days"] = str(int(frame.loc[row, "pfs_days"]) - 10)
    frame.to_csv(data, index=False)
    return str(cohort)


def fresh_workers() -> None:
    """Stop the server the PDF workers are forked from, if one runs: each timed build then
    starts it (and pays its imports) as a ``dossier build`` command does."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # no public way; the next build starts it again


def timed_build(data: Path, destination: Path, *, cache: bool) -> tuple[float, dict[str, float]]:
    from dossier.build import build_dossier
    from dossier.config import Settings

    fresh_workers()
    start = time.perf_counter()
    _, timings = build_dossier(Settings(), data=data, destination=destination,
                               formats=("pdf", "xlsx", "json"), cache=cache)
    return time.perf_counter() - start, timings


def same_files(one: Path, other: Path) -> list[str]:
    """Relative paths that differ between two folders (or exist in one only)."""
    names = {p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file()}
    names |= {p.relative_to(other).as_posix() for p in other.rglob("*") if p.is_file()}
    return sorted(n for n in names if not ((one / n).is_file() and (other / n).is_file()
                                           and filecmp.cmp(one / n, other / n, shallow=False)))


def _times(runs: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in runs) + " s"


def rebuild_report(work: Path, patients: int | None = None, repeat: int = 3) -> dict[str, bool]:
    """Run the builds, print the figures; return whether each target was met."""
    data = write_demo_files(work, patients)
    target = work / "dossier"
    clean, _ = timed_build(data, target, cache=False)
    print(f"   clean build: {clean:.1f} s  [{load_average()}]")
    kept = work / "clean-build"
    shutil.copytree(target, kept)
    nothing = [timed_build(data, target, cache=True)[0] for _ in range(repeat)]
    print(f"   rebuild, nothing changed: {_times(nothing)}  [{load_average()}]")
    cohort = change_one_cohort(data)
    one: list[float] = []
    for _ in range(repeat):
        shutil.rmtree(target)
        shutil.copytree(kept, target)
        seconds, timings = timed_build(data, target, cache=True)
        one.append(seconds)
        print("     stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    print(f"   rebuild, one cohort's rows changed ({cohort}): {_times(one)}  "
          f"[{load_average()}]")
    check = work / "clean-after-change"
    again, _ = timed_build(data, check, cache=False)
    print(f"   clean build of the changed data (to compare): {again:.1f} s")
    differ = same_files(target, check)
    print("   rebuild equals the clean build, byte for byte: "
          + ("yes" if not differ else f"NO ({', '.join(differ[:5])})"))
    base = min(clean, again)
    met = {"one": min(one) <= ONE_COHORT_TARGET * base,
           "nothing": min(nothing) <= NOTHING_TARGET * base, "identical": not differ}
    words = {True: "MET", False: "NOT MET"}
    print(f"\n   rebuild after one cohort changed: {min(one) / base:.1%} of the clean build "
          f"(best of {repeat} / best of 2; target <= {ONE_COHORT_TARGET:.0%}): "
          f"{words[met['one']]}")
    print(f"   rebuild with nothing changed: {min(nothing) / base:.1%} of the clean build "
          f"(target <= {NOTHING_TARGET:.0%}): {words[met['nothing']]}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=0,
                        help="demo registry size (default: the demo's 1,610)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each rebuild; the best counts (default 3)")
    args = parser.parse_args(argv)
    from dossier import __version__

    print(f"dossier {__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{load_average()}")
    with tempfile.TemporaryDirectory(prefix="dossier-rebuild-") as work:
        met = rebuild_report(Path(work), args.patients or None, max(1, args.repeat))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
