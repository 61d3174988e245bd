"""Baskets of the results table: each drug x alteration tested in two or more tumour types.

For each basket and each rate (clinical benefit, objective response, among evaluable patients)
the counts per tumour type are read from the results table, then tested for heterogeneity and
estimated hierarchically (:mod:`dossier.endpoints.tissue`). Fits are pure functions of the
counts and are cached, so the PDF, the workbook and the JSON share one computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from dossier.endpoints.tissue import HierarchicalFit, exact_heterogeneity_test, hierarchical_rates

__all__ = ["BASKET_RATES", "Basket", "BasketRate", "baskets"]

BASKET_RATES = (("cbr", "Clinical benefit"), ("orr", "Objective response"))
"""The rates compared across tumour types, with their names in the dossier."""

SIGNIFICANCE = 0.05
"""Below this exact p-value the dossier says the rate differs by tumour type."""

COHORT = "cohort_id"
LABELS = ("drug", "tumour_type", "alteration")


@dataclass(frozen=True)
class BasketRate:
    """One rate of a basket: counts per tumour type, the exact test and the hierarchical fit."""

    endpoint: str
    name: str
    cohorts: tuple[str, ...]
    tumour_types: tuple[str, ...]
    x: tuple[int, ...]
    n: tuple[int, ...]
    p_value: float | None
    fit: HierarchicalFit

    @property
    def differs(self) -> bool | None:
        """True when the exact test finds the rate differs by tumour type (p < 0.05)."""
        return None if self.p_value is None else self.p_value < SIGNIFICANCE

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return {
            "endpoint": self.endpoint, "p_value": self.p_value,
            "heterogeneity_test": "Fisher-Freeman-Halton exact test on the k x 2 table",
            "basket_mean": self.fit.basket_mean,
            "between_type_share_of_variance": self.fit.rho_mean,
            "model": self.fit.method,
            "tumour_types": [{"cohort_id": c, "tumour_type": t, **e.to_dict()}
                             for c, t, e in zip(self.cohorts, self.tumour_types, self.fit.types,
                                                strict=True)],
        }


@dataclass(frozen=True)
class Basket:
    """A drug x alteration tested in several tumour types, with its rates compared."""

    drug: str
    alteration: str
    rates: tuple[BasketRate, ...]

    @property
    def tissue_matters(self) -> bool:
        """Whether any rate differs by tumour type by the exact test."""
        return any(r.differs for r in self.rates)

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return {"drug": self.drug, "alteration": self.alteration,
                "tissue_matters": self.tissue_matters,
                "rates": [r.to_dict() for r in self.rates]}


@lru_cache(maxsize=256)
def _fit(x: tuple[int, ...], n: tuple[int, ...]) -> tuple[float | None, HierarchicalFit]:
    return exact_heterogeneity_test(x, n), hierarchical_rates(x, n)


def _counts(results: pd.DataFrame, endpoint: str) -> dict[str, tuple[int, int]]:
    rows = results[(results["group_by"] == COHORT) & (results["endpoint"] == endpoint)
                   & (results["statistic"] == "rate") & (results["denominator"] == "evaluable")]
    out: dict[str, tuple[int, int]] = {}
    for group, x, n in zip(rows["group"].astype(str), rows["x"], rows["n"], strict=True):
        if pd.notna(x) and pd.notna(n) and int(n) > 0:
            out.setdefault(group, (int(x), int(n)))
    return out


def baskets(results: pd.DataFrame, cohorts: pd.DataFrame) -> list[Basket]:
    """Every drug x alteration with evaluable patients in two or more tumour types.

    ``cohorts`` is the cohort metadata (``cohort_id``, ``drug``, ``tumour_type``,
    ``alteration``); baskets come in the order of their first cohort in the results table.
    """
    if cohorts is None or any(c not in cohorts.columns for c in (COHORT, *LABELS)):
        return []
    labels = {str(r[COHORT]): (str(r["drug"]), str(r["tumour_type"]), str(r["alteration"]))
              for r in cohorts.to_dict("records")}
    counts = {endpoint: _counts(results, endpoint) for endpoint, _ in BASKET_RATES}
    order = [c for c in dict.fromkeys(results.loc[results["group_by"] == COHORT, "group"]
                                      .astype(str)) if c in labels]
    groups: dict[tuple[str, str], list[str]] = {}
    for cid in order:
        drug, _, alteration = labels[cid]
        groups.setdefault((drug, alteration), []).append(cid)
    out: list[Basket] = []
    for (drug, alteration), members in groups.items():
        rates = []
        for endpoint, name in BASKET_RATES:
            present = [c for c in members if c in counts[endpoint]]
            if len({labels[c][1] for c in present}) < 2:
                continue
            x = tuple(counts[endpoint][c][0] for c in present)
            n = tuple(counts[endpoint][c][1] for c in present)
            p_value, fit = _fit(x, n)
            rates.append(BasketRate(endpoint, name, tuple(present),
                                    tuple(labels[c][1] for c in present), x, n, p_value, fit))
        if rates:
            out.append(Basket(drug, alteration, tuple(rates)))
    return out
