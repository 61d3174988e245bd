"""Baseline characteristics and tumour shrinkage of the demo registry, from their own random stream.

The demo's calibrated columns (responses, times, grades, prior lines) are drawn first from the
demo seed; the columns here come from a second generator seeded with (seed, BASELINE_STREAM), so
adding or changing them never moves a single value of the calibrated ones. Distributions follow
DRUP's published population: median age about 63 (adults 18-88), ECOG performance status 0-1 for
almost everyone (2 for a few), one to three or more prior lines (from the demo's own prior-lines
column), and a best change in target lesions consistent with each patient's best response under
RECIST 1.1 (CR -100%, PR <= -30%, SD between -30% and +20%, PD mostly > +20% or new lesions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASELINE_STREAM = 15
"""Second component of the baseline generator's seed: (demo seed, 15)."""

BASELINE_COLUMNS = ("age", "sex", "ecog", "tumour_subtype", "diagnosis_date", "best_pct_change")
"""The columns this module adds to the demo patients, in this order after the calibrated ones."""

_MEDIAN_AGE, _AGE_SD, _AGE_RANGE = 63.0, 11.0, (19, 88)
_ECOG_P = {"benefit": (0.45, 0.51, 0.04), "other": (0.36, 0.57, 0.07)}
_NO_TARGET_LESIONS = 0.08  # evaluable on non-target lesions only: no percentage change

# Primary sites of tumour-agnostic ("Solid tumours") cohorts, with weights, and the share female.
_PRIMARIES = (
    ("colorectal", 18, 0.45), ("breast", 9, 0.99), ("non-small cell lung", 10, 0.45),
    ("ovarian", 6, 1.0), ("pancreatic", 6, 0.45), ("biliary tract", 6, 0.5),
    ("prostate", 5, 0.0), ("urothelial", 4, 0.25), ("soft-tissue sarcoma", 6, 0.5),
    ("melanoma", 4, 0.45), ("gastro-oesophageal", 6, 0.3), ("head and neck", 4, 0.3),
    ("endometrial", 4, 1.0), ("thyroid", 2, 0.6), ("GIST", 2, 0.45), ("renal", 2, 0.35),
    ("basal cell", 1, 0.45), ("cancer of unknown primary", 3, 0.5),
)
# Subtypes of the named tumour types (first word of the type, lower case) and weights.
_SUBTYPES = {
    "colorectal": (("left-sided colon", 4), ("right-sided colon", 3), ("rectal", 3)),
    "pancreatic": (("ductal adenocarcinoma", 9), ("acinar cell carcinoma", 1)),
    "liposarcoma": (("dedifferentiated", 7), ("well-differentiated", 2), ("myxoid", 1)),
    "biliary": (("intrahepatic cholangiocarcinoma", 6), ("extrahepatic cholangiocarcinoma", 2),
                ("gallbladder carcinoma", 2)),
    "soft-tissue": (("leiomyosarcoma", 4), ("undifferentiated pleomorphic sarcoma", 3),
                    ("synovial sarcoma", 2), ("other", 1)),
    "mucosal": (("head and neck", 5), ("anorectal", 3), ("vulvovaginal", 2)),
    "squamous": (("squamous cell carcinoma", 1),),
}


def _choose(rng: np.random.Generator, options: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in options]
    weights = np.array([w for _, w in options], dtype=float)
    return str(rng.choice(names, p=weights / weights.sum()))


def _subtype(rng: np.random.Generator, tumour_type: str) -> tuple[str, float]:
    """(subtype, probability female) for one patient of a cohort with this tumour type."""
    if tumour_type.startswith("Solid tumours"):
        excluded = tumour_type.split(", non-")[1].split(" (")[0] if ", non-" in tumour_type \
            else ""
        options = tuple((name, w) for name, w, _ in _PRIMARIES
                        if not excluded or excluded.split("/")[0].lower() not in name.lower())
        name = _choose(rng, options)
        female = next(f for n, _, f in _PRIMARIES if n == name)
        return name, female
    key = tumour_type.split()[0].lower().rstrip(",")
    options = _SUBTYPES.get(key)
    if options is None:
        return "", 0.45
    return _choose(rng, options), 0.45


def _best_change(rng: np.random.Generator, bor: object) -> float:
    """Best % change in target lesions consistent with the best response (RECIST 1.1)."""
    if bor == "CR":
        return -100.0
    if bor == "PR":
        return -30.0 - 70.0 * rng.beta(2.0, 3.0)
    if bor == "SD":
        return float(np.clip(rng.normal(-6.0, 11.0), -29.9, 19.9))
    if bor == "PD":
        if rng.random() < 0.4:  # progression by new lesions: target lesions may even shrink
            return float(np.clip(rng.normal(6.0, 14.0), -29.0, 60.0))
        return 20.0 + float(rng.lognormal(np.log(18.0), 0.7))
    return float("nan")


def add_baseline(patients: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The demo patients with BASELINE_COLUMNS appended, drawn from the (seed, 15) stream."""
    rng = np.random.default_rng([int(seed), BASELINE_STREAM])
    n = len(patients)
    subtype, female = zip(*(_subtype(rng, t) for t in patients["tumour_type"]), strict=True) \
        if n else ((), ())
    age = np.clip(np.rint(rng.normal(_MEDIAN_AGE, _AGE_SD, n)), *_AGE_RANGE)
    sex = np.where(rng.random(n) < np.array(female, dtype=float), "F", "M")
    benefit = patients["best_response"].isin(["CR", "PR", "SD"]).to_numpy()
    ecog = np.where(benefit, rng.choice(3, n, p=_ECOG_P["benefit"]),
                    rng.choice(3, n, p=_ECOG_P["other"]))
    lines = patients["prior_lines"].to_numpy(dtype=float)
    years = rng.lognormal(np.log(0.7 + 0.6 * lines), 0.6)
    start = pd.to_datetime(patients["treatment_start"])
    diagnosed = start - pd.to_timedelta(np.maximum(np.rint(years * 365.25), 21), unit="D")
    evaluable = patients["response_evaluable"].to_numpy(dtype=bool)
    measured = evaluable & (rng.random(n) >= _NO_TARGET_LESIONS)
    change = np.array([_best_change(rng, b) for b in patients["best_response"]], dtype=float)
    change = np.where(measured, np.round(change, 1), np.nan)
    out = patients.copy()
    out["age"] = age.astype(np.int64)
    out["sex"] = sex.astype(object)
    out["ecog"] = ecog.astype(np.int64)
    out["tumour_subtype"] = pd.Series([s or None for s in subtype], index=patients.index,
                                      dtype=object)
    out["diagnosis_date"] = [d.date() for d in diagnosed]
    out["best_pct_change"] = change
    return out
