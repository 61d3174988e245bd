"""Hand-made canonical patient frames (contract A) whose every endpoint can be checked by hand.

``hand_cohort()`` is cohort C1: 12 treated patients, 10 response-evaluable. Its expected counts
are worked out next to each row and collected in ``HAND``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NA = pd.NA

# patient, evaluable, BOR, confirmed, response_days, pfs_days, pfs_event, ae grade, prior PFS
_ROWS = [
    ("P01", True, "CR", True, 56.0, 400.0, 0, 3, 200.0),     # ORR; DoR 344 censored; ratio 2.0
    ("P02", True, "PR", False, 56.0, 130.0, 1, 1, 100.0),    # unconfirmed PR = SD 130 d; ratio 1.3
    ("P03", True, "SD", NA, np.nan, 100.0, 0, NA, np.nan),   # SD 100 d (< 16 w), censored early
    ("P04", True, "SD", NA, np.nan, 112.0, 1, 2, 90.0),      # SD exactly 16 weeks; ratio 1.24
    ("P05", True, "SD", NA, np.nan, 200.0, 0, 4, 0.0),       # SD >= 24 weeks; prior PFS 0 ignored
    ("P06", True, "PD", NA, np.nan, 50.0, 1, 0, 60.0),       # ratio 0.83
    ("P07", True, "PD", NA, np.nan, 40.0, 1, 3, np.nan),
    ("P08", True, "NE", NA, np.nan, 30.0, 1, NA, np.nan),
    ("P09", True, "PR", True, 84.0, 250.0, 1, 2, np.nan),    # ORR; DoR 166 with event
    ("P10", True, "SD", NA, np.nan, 800.0, 0, 1, np.nan),    # SD >= 24 w; PFS > 24 months
    ("P11", False, NA, NA, np.nan, 20.0, 1, 5, np.nan),      # not evaluable
    ("P12", False, NA, NA, np.nan, 760.0, 0, NA, np.nan),    # not evaluable; PFS > 24 months
]

HAND = {
    # endpoint: (x evaluable, n evaluable, x treated, n treated)
    "cbr": (6, 10, 6, 12),          # P01, P09 confirmed; SD >= 112 d: P02, P04, P05, P10
    "cbr_durable": (4, 10, 4, 12),  # P01, P09; SD >= 168 d: P05, P10
    "orr": (2, 10, 2, 12),          # P01, P09
    "dcr": (7, 10, 7, 12),          # P01, P02, P03, P04, P05, P09, P10
    "durable_sd": (2, 10, 2, 12),   # P05, P10
    "exceptional": (2, 10, 3, 12),  # P01 (CR), P10 (800 d); treated also P12 (760 d)
    "pfs_rate": (4, 9, 5, 11),   # PF beyond 182.625 d: P01, P05, P09, P10 (+P12); P03 left out
}
HAND_SD_LASTING = (2, 4)            # of P02, P04, P05, P10 (SD >= 16 w): P05, P10 last 24 w
HAND_G3_TRAE = (4, 9)               # grade recorded for 9; >= 3: P01, P05, P07, P11
HAND_PFS_RATIO = (2, 4)             # prior PFS > 0: P01 (2.0), P02 (1.3), P04, P06
HAND_DOR = ([344.0, 166.0], [0, 1])  # P01, P09


def canonical(rows: list[dict]) -> pd.DataFrame:
    """A canonical patient frame with contract A's dtypes from plain dicts."""
    frame = pd.DataFrame(rows)
    n = len(frame)
    defaults = {
        "cohort_id": "C1", "drug": "nivolumab", "tumour_type": "colorectal",
        "alteration": "MSI-high", "rare_cancer": False, "stage": "1",
        "treatment_start": pd.Timestamp("2020-01-01"), "response_days": np.nan,
        "os_days": 900.0, "os_event": 0, "worst_ae_grade": NA, "prior_lines": 1,
        "prior_pfs_days": np.nan, "response_confirmed": NA,
    }
    for column, value in defaults.items():
        if column not in frame.columns:
            frame[column] = [value] * n
    frame["patient_id"] = frame["patient_id"].astype(str)
    for column in ("cohort_id", "drug", "tumour_type", "alteration", "stage"):
        frame[column] = frame[column].astype(str)
    frame["rare_cancer"] = frame["rare_cancer"].astype(bool)
    frame["treatment_start"] = pd.to_datetime(frame["treatment_start"])
    frame["response_evaluable"] = frame["response_evaluable"].astype(bool)
    frame["best_response"] = frame["best_response"].astype(object).where(
        frame["best_response"].notna(), NA)
    frame["response_confirmed"] = frame["response_confirmed"].astype("boolean")
    for column in ("response_days", "pfs_days", "os_days", "prior_pfs_days"):
        frame[column] = frame[column].astype("float64")
    for column in ("pfs_event", "os_event"):
        frame[column] = frame[column].astype("int64")
    for column in ("worst_ae_grade", "prior_lines"):
        frame[column] = frame[column].astype("Int64")
    frame["row"] = np.arange(2, n + 2)
    return frame


def hand_cohort(cohort_id: str = "C1", **overrides: object) -> pd.DataFrame:
    """Cohort C1 of the module docstring (12 treated, 10 evaluable); OS = 900 days censored."""
    rows = []
    for pid, evaluable, bor, confirmed, resp, pfs, event, grade, prior in _ROWS:
        rows.append({
            "patient_id": f"{cohort_id}-{pid}", "cohort_id": cohort_id,
            "response_evaluable": evaluable, "best_response": bor,
            "response_confirmed": confirmed, "response_days": resp, "pfs_days": pfs,
            "pfs_event": event, "worst_ae_grade": grade, "prior_pfs_days": prior,
            **overrides,
        })
    return canonical(rows)


def random_cohorts(n: int, cohorts: int, seed: int = 7) -> pd.DataFrame:
    """A random canonical frame of n patients in the given number of cohorts (for invariants)."""
    rng = np.random.default_rng(seed)
    bor = rng.choice(np.array(["CR", "PR", "SD", "PD", "NE"], dtype=object), n)
    evaluable = rng.random(n) < 0.85
    responder = np.isin(bor, ["CR", "PR"])
    pfs = np.round(rng.exponential(150, n)) + 1
    rows = {
        "patient_id": [f"R{i:05d}" for i in range(n)],
        "cohort_id": [f"K{i % cohorts:03d}" for i in range(n)],
        "drug": rng.choice(["alpha", "beta", "gamma"], n),
        "tumour_type": rng.choice(["lung", "breast"], n),
        "rare_cancer": rng.random(n) < 0.3,
        "response_evaluable": evaluable,
        "best_response": np.where(evaluable, bor, None),
        "response_confirmed": np.where(responder, rng.random(n) < 0.7, None),
        "response_days": np.where(responder, np.minimum(56.0, pfs), np.nan),
        "pfs_days": pfs,
        "pfs_event": (rng.random(n) < 0.8).astype(int),
        "os_days": pfs + np.round(rng.exponential(200, n)),
        "os_event": (rng.random(n) < 0.6).astype(int),
        "worst_ae_grade": rng.integers(0, 5, n),
        "prior_lines": rng.integers(0, 5, n),
        "prior_pfs_days": np.where(rng.random(n) < 0.5, rng.exponential(120, n), np.nan),
    }
    return canonical([dict(zip(rows, values, strict=True)) for values in zip(*rows.values(),
                                                                            strict=True)])
