"""Speed of ``compute_endpoints`` (every endpoint of every group) against a lifelines loop.

Run:  python benchmarks/endpoints.py [--patients 100000] [--cohorts 5000] [--workers 2]
                                     [--lifelines-cohorts N] [--repeat 3]

Scenarios:
1. the demo registry (1,610 patients, ``dossier.registry.load.load_demo``);
2. ``demo_registry(100_000)`` validated, with its own cohorts;
3. the same 100,000 patients dealt at random into 5,000 cohorts of 20.

For each, the time of ``compute_endpoints`` (all rates with Clopper-Pearson CIs, PFS/OS/DoR
Kaplan-Meier medians, quartiles, landmarks, risk tables, curves and reverse-KM follow-up for the
pooled set and every cohort), in one process and with ``--workers`` processes; then the time
dossier's KM core and a lifelines ``KaplanMeierFitter``-per-cohort loop take for the same
Kaplan-Meier work: the PFS and OS median of every cohort.

It checks that the medians in the results table equal lifelines' where the two must agree
(tests/reference/README.md, "Matching R"): reached in both, and S nowhere equal to 0.5 within
R's tolerance (there R takes the midpoint of the flat stretch, lifelines its first time).
Targets on 2 cores: demo < 1 s; 100,000 patients < 10 s and >= 10x faster than lifelines.
The figures are best-of-``--repeat`` wall-clock times; other load on the machine shows in them,
so the load average is printed too.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.km import TOLERANCE, kaplan_meier, km_median
from dossier.endpoints.results import select
from dossier.registry.demo import demo_registry
from dossier.registry.load import load_demo, registry_from_frames
from dossier.registry.schema import DAYS_PER_MONTH


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall-clock time of ``repeat`` runs, and the last result."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def cohort_slices(patients: pd.DataFrame, time_col: str, event_col: str
                  ) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray]]]:
    """(cohort ids, per-cohort (time, event)) from one sort and np.split, as the engine does."""
    codes, labels = pd.factorize(patients["cohort_id"], sort=True)
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    times = np.split(patients[time_col].to_numpy(float)[order], cuts)
    events = np.split(patients[event_col].to_numpy(int)[order], cuts)
    return list(labels), list(zip(times, events, strict=True))


def dossier_medians(groups: list[tuple[np.ndarray, np.ndarray]]) -> list[float | None]:
    return [km_median(kaplan_meier(t, e)).estimate for t, e in groups]


def lifelines_medians(groups: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    from lifelines import KaplanMeierFitter

    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, e in groups:
            out.append(float(KaplanMeierFitter().fit(t, e).median_survival_time_))
    return out


def compare(table: pd.DataFrame, endpoint: str, labels: list[str],
            groups: list[tuple[np.ndarray, np.ndarray]], theirs: list[float]) -> dict[str, int]:
    """Counts of cohorts where the table's median equals lifelines' (where they must agree)."""
    rows = select(table, group_by="cohort_id", endpoint=endpoint, statistic="median")
    ours = dict(zip(rows["group"], rows["estimate"] * DAYS_PER_MONTH, strict=True))
    counts = {"equal": 0, "both_not_reached": 0, "flat_at_half": 0, "different": 0}
    for label, (t, e), other in zip(labels, groups, theirs, strict=False):
        mine = ours[label]
        if np.any(np.abs(kaplan_meier(t, e).surv - 0.5) < TOLERANCE):
            # R: midpoint of the flat stretch at 0.5; lifelines: its start, or its end when
            # rounding leaves S a hair above 0.5 (it has no tolerance): not comparable
            counts["flat_at_half"] += 1
        elif math.isnan(mine) and math.isinf(other):
            counts["both_not_reached"] += 1
        elif not math.isnan(mine) and math.isclose(mine, other, rel_tol=1e-12):
            counts["equal"] += 1
        else:
            counts["different"] += 1
    return counts


def scenario(name: str, patients: pd.DataFrame, args: argparse.Namespace) -> bool:
    n_cohorts = patients["cohort_id"].nunique()
    print(f"\n== {name}: {len(patients):,} patients, {n_cohorts:,} cohorts")
    serial, table = best_of(args.repeat, lambda: compute_endpoints(patients))
    print(f"compute_endpoints, 1 process:        {serial:8.3f} s  ({len(table):,} result rows)")
    shared = math.nan
    if args.workers > 1:
        shared, other = best_of(args.repeat,
                                lambda: compute_endpoints(patients, workers=args.workers))
        same = other.equals(table)
        print(f"compute_endpoints, {args.workers} processes:      {shared:8.3f} s  "
              f"(identical table: {same})")
    labels, pfs = cohort_slices(patients, "pfs_days", "pfs_event")
    _, os_ = cohort_slices(patients, "os_days", "os_event")
    limit = args.lifelines_cohorts or len(labels)
    core, _ = best_of(args.repeat, lambda: (dossier_medians(pfs), dossier_medians(os_)))
    print(f"dossier KM core, PFS+OS medians:     {core:8.3f} s")
    start = time.perf_counter()
    theirs_pfs = lifelines_medians(pfs[:limit])
    theirs_os = lifelines_medians(os_[:limit])
    fitter = (time.perf_counter() - start) * len(labels) / limit
    scaled = "" if limit == len(labels) else f" (timed on {limit:,} cohorts, scaled)"
    print(f"lifelines fitter loop, PFS+OS medians: {fitter:6.3f} s{scaled}")
    best = min(serial, shared) if args.workers > 1 else serial
    print(f"speed-up, same KM work:              {fitter / core:8.1f} x")
    print(f"speed-up, all endpoints vs fitter:   {fitter / best:8.1f} x")
    ok = True
    for endpoint, groups, theirs in (("pfs", pfs, theirs_pfs), ("os", os_, theirs_os)):
        counts = compare(table, endpoint, labels, groups, theirs)
        print(f"{endpoint} medians vs lifelines: {counts}")
        ok &= counts["different"] == 0
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--cohorts", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lifelines-cohorts", type=int, default=0,
                        help="time lifelines on this many cohorts and scale (0 = all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    ok = scenario("demo registry", load_demo().patients, args)
    start = time.perf_counter()
    big = registry_from_frames(*demo_registry(args.patients), name="demo x100k").patients
    print(f"\n(generated and validated demo_registry({args.patients:,}) in "
          f"{time.perf_counter() - start:.1f} s; not part of the timings)")
    ok &= scenario(f"demo_registry({args.patients:,})", big, args)
    rng = np.random.default_rng(args.seed)
    dealt = rng.permutation(len(big)) % args.cohorts
    regrouped = big.assign(cohort_id=[f"S{c:05d}" for c in dealt])
    ok &= scenario(f"the same patients in {args.cohorts:,} random cohorts", regrouped, args)
    print(f"\nload average now {os.getloadavg()[0]:.2f}")
    print("medians identical to lifelines wherever they must agree:", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
