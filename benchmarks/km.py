"""Speed of dossier's Kaplan-Meier engine against a lifelines KaplanMeierFitter loop.

Run:  python benchmarks/km.py [--cohorts 5000] [--patients 20] [--seed 2024]

Simulates many small single-arm cohorts (integer days, so ties occur) with three time-to-event
endpoints each (PFS, OS, DoR), and times, per cohort and endpoint,
kaplan_meier + km_median (log-log CI) + km_at_times (3, 6, 12 and 24 months).
Targets: all cohorts x 3 endpoints in < 10 s, and >= 10x faster than lifelines doing the same
(fit, median, median CI, S at the four landmarks) for one endpoint.

It also checks the medians against lifelines where the two must agree ("Matching R" in
tests/reference/README.md): median reached and S never equal to 0.5 within R's tolerance
(there R takes the midpoint of the flat stretch, lifelines its first time).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings

import numpy as np

from dossier.endpoints.km import TOLERANCE, kaplan_meier, km_at_times, km_median

DAYS_PER_MONTH = 30.4375
LANDMARKS = [3 * DAYS_PER_MONTH, 6 * DAYS_PER_MONTH, 12 * DAYS_PER_MONTH, 24 * DAYS_PER_MONTH]
# median months of the simulated endpoints (exponential), and administrative censoring
MEDIANS = {"pfs": 3.0, "os": 9.0, "dor": 6.0}
FOLLOW_UP_MONTHS = 24.0


def simulate(
    n_cohorts: int, n_patients: int, seed: int
) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Per endpoint, a list of (time in whole days, event 0/1) arrays, one pair per cohort."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for endpoint, median in MEDIANS.items():
        scale = median / math.log(2) * DAYS_PER_MONTH
        event_time = rng.exponential(scale, size=(n_cohorts, n_patients))
        censor_time = rng.uniform(
            1, FOLLOW_UP_MONTHS * DAYS_PER_MONTH, size=(n_cohorts, n_patients)
        )
        days = np.ceil(np.minimum(event_time, censor_time))
        events = (event_time <= censor_time).astype(int)
        out[endpoint] = [(days[i], events[i]) for i in range(n_cohorts)]
    return out


def run_dossier(cohorts: list[tuple[np.ndarray, np.ndarray]]) -> list[float | None]:
    medians = []
    for t, e in cohorts:
        km = kaplan_meier(t, e)
        medians.append(km_median(km).estimate)
        km_at_times(km, LANDMARKS)
    return medians


def run_lifelines(cohorts: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    medians = []
    for t, e in cohorts:
        kmf = KaplanMeierFitter().fit(t, e)
        medians.append(float(kmf.median_survival_time_))
        median_survival_times(kmf.confidence_interval_)
        kmf.survival_function_at_times(LANDMARKS)
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=5000)
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    data = simulate(args.cohorts, args.patients, args.seed)
    n_fits = args.cohorts * len(MEDIANS)
    print(
        f"{args.cohorts} cohorts x {args.patients} patients x {len(MEDIANS)} endpoints "
        f"= {n_fits} Kaplan-Meier fits, {args.cohorts * args.patients} patients"
    )

    start = time.perf_counter()
    for cohorts in data.values():
        run_dossier(cohorts)
    all_endpoints = time.perf_counter() - start
    print(
        f"dossier, all endpoints : {all_endpoints:7.2f} s  "
        f"({all_endpoints / n_fits * 1e6:6.0f} us per fit; target < 10 s)"
    )

    start = time.perf_counter()
    ours = run_dossier(data["pfs"])
    ours_pfs = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        theirs = run_lifelines(data["pfs"])
        lifelines_pfs = time.perf_counter() - start
    print(
        f"dossier, PFS only      : {ours_pfs:7.2f} s  "
        f"({ours_pfs / args.cohorts * 1e6:6.0f} us per fit)"
    )
    print(
        f"lifelines, PFS only    : {lifelines_pfs:7.2f} s  "
        f"({lifelines_pfs / args.cohorts * 1e6:6.0f} us per fit)"
    )
    print(f"speed-up               : {lifelines_pfs / ours_pfs:7.1f} x  (target >= 10 x)")

    compared = not_reached = flat_at_half = 0
    for (t, e), mine, other in zip(data["pfs"], ours, theirs, strict=True):
        km = kaplan_meier(t, e)
        if np.any(np.abs(km.surv - 0.5) < TOLERANCE):
            flat_at_half += 1  # R and dossier: midpoint; lifelines: first time
            continue
        if mine is None:
            assert math.isinf(other), f"not reached here, lifelines says {other}"
            not_reached += 1
            continue
        assert mine == other, f"median {mine} vs lifelines {other} for times {t}, events {e}"
        compared += 1
    print(
        f"medians identical to lifelines: {compared} reached + {not_reached} not reached "
        f"(both); {flat_at_half} skipped: S = 0.5 on a flat stretch, where lifelines "
        "differs from R"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
