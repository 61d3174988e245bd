"""Adverse events of the demo registry, one row per event, from their own random stream.

Each patient with a worst treatment-related grade g >= 1 (the demo's calibrated column) gets one
to five related events whose worst grade is exactly g, plus now and then an unrelated grade 1-2
event; terms are MedDRA-like preferred terms under their system organ class, weighted as in
targeted-therapy and immunotherapy trials. Grade >= 3 events are serious more often than not
(grade 5 always) and a quarter lead to discontinuation. The generator is seeded with (demo seed,
AE_STREAM), so the calibrated columns never move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AE_STREAM = 16
"""Second component of the adverse-event generator's seed: (demo seed, 16)."""

TERMS = (  # (system organ class, preferred term, weight, can be fatal)
    ("Gastrointestinal disorders", "Diarrhoea", 14, False),
    ("Gastrointestinal disorders", "Nausea", 12, False),
    ("Gastrointestinal disorders", "Vomiting", 6, False),
    ("Gastrointestinal disorders", "Stomatitis", 5, False),
    ("General disorders and administration site conditions", "Fatigue", 16, False),
    ("General disorders and administration site conditions", "Pyrexia", 4, False),
    ("General disorders and administration site conditions", "Oedema peripheral", 3, False),
    ("Skin and subcutaneous tissue disorders", "Rash", 8, False),
    ("Skin and subcutaneous tissue disorders", "Dermatitis acneiform", 4, False),
    ("Skin and subcutaneous tissue disorders", "Pruritus", 4, False),
    ("Blood and lymphatic system disorders", "Anaemia", 7, False),
    ("Blood and lymphatic system disorders", "Neutropenia", 5, False),
    ("Blood and lymphatic system disorders", "Thrombocytopenia", 3, False),
    ("Metabolism and nutrition disorders", "Decreased appetite", 7, False),
    ("Metabolism and nutrition disorders", "Hyperglycaemia", 3, False),
    ("Investigations", "Alanine aminotransferase increased", 5, False),
    ("Investigations", "Aspartate aminotransferase increased", 4, False),
    ("Investigations", "Blood creatinine increased", 2, False),
    ("Respiratory, thoracic and mediastinal disorders", "Dyspnoea", 3, False),
    ("Respiratory, thoracic and mediastinal disorders", "Pneumonitis", 2, True),
    ("Endocrine disorders", "Hypothyroidism", 3, False),
    ("Nervous system disorders", "Dysgeusia", 3, False),
    ("Nervous system disorders", "Peripheral sensory neuropathy", 2, False),
    ("Vascular disorders", "Hypertension", 3, False),
    ("Hepatobiliary disorders", "Hepatitis", 1, True),
    ("Infections and infestations", "Pneumonia", 2, True),
    ("Infections and infestations", "Sepsis", 1, True),
)
_SERIOUS_P, _DISCONTINUE_P, _UNRELATED_P = 0.6, 0.25, 0.3


def demo_adverse_events(patients: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One row per adverse event of the demo patients (input schema of the AE file)."""
    rng = np.random.default_rng([int(seed), AE_STREAM])
    weights = np.array([t[2] for t in TERMS], dtype=float)
    fatal = np.array([i for i, t in enumerate(TERMS) if t[3]])
    rows: list[dict[str, object]] = []
    for pid, start, grade, pfs in zip(patients["patient_id"], patients["treatment_start"],
                                      patients["worst_ae_grade"], patients["pfs_days"],
                                      strict=True):
        worst = int(grade)
        if worst < 1:
            continue
        count = int(rng.integers(1, 6))
        picks = rng.choice(len(TERMS), count, replace=False, p=weights / weights.sum())
        grades = rng.integers(1, worst + 1, count)
        grades[0] = worst
        if worst == 5:
            picks[0] = rng.choice(fatal)
            grades[1:] = np.minimum(grades[1:], 4)
        events = [(int(k), int(g), True) for k, g in zip(picks, grades, strict=True)]
        if rng.random() < _UNRELATED_P:
            events.append((int(rng.choice(len(TERMS), p=weights / weights.sum())),
                           int(rng.integers(1, 3)), False))
        window = max(int(min(float(pfs), 180.0)), 1)
        for k, g, related in events:
            onset = pd.Timestamp(start) + pd.Timedelta(days=int(rng.integers(1, window + 1)))
            serious = g == 5 or (g >= 3 and rng.random() < _SERIOUS_P)
            stop = related and g >= 3 and rng.random() < _DISCONTINUE_P
            rows.append({"patient_id": pid, "soc": TERMS[k][0], "pt": TERMS[k][1], "grade": g,
                         "serious": int(serious), "related": int(related),
                         "discontinued": int(stop), "onset_date": onset.date()})
    return pd.DataFrame(rows, columns=["patient_id", "soc", "pt", "grade", "serious",
                                       "related", "discontinued", "onset_date"])
