"""The endpoint parameters: one frozen object, the only place their values and defaults live.

``dossier.toml`` ([endpoints]), the command-line options, :func:`~dossier.endpoints.compute.
compute_endpoints` and every label a reader sees ("SD >= 16 weeks", "PFS at 6 months") read
them from :class:`EndpointParameters`; the defaults are DRUP's. Changing one here (or in the
settings) changes the counts, the method texts and the labels together.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

from dossier.registry.schema import DAYS_PER_MONTH, DAYS_PER_WEEK

CI_TYPES = ("log-log", "log", "plain")
"""Pointwise Kaplan-Meier confidence intervals: as SAS (log-log), as R's default (log), plain."""

EXCEPTIONAL_SOURCE = "dossier default; the DRUP 2026 definition is not published"


def number_text(value: float) -> str:
    """A number as people write it: 16 not 16.0, 182.625 as is."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not (
        isinstance(value, numbers.Real) and math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be positive, not {value!r}")


@dataclass(frozen=True)
class ExceptionalResponderRule:
    """Who counts as an exceptional responder (DRUP 2026 reports 7.0 % but not its definition).

    Default: a confirmed complete response, or PFS beyond ``pfs_months`` months (event or
    censored: the patient was known to be progression-free that long). ``source`` says where the
    definition comes from, so a published one can be dropped in later (criteria.md 3.6).
    """

    complete_response: bool = True
    pfs_months: float | None = 24.0
    source: str = EXCEPTIONAL_SOURCE

    def __post_init__(self) -> None:
        if not self.complete_response and self.pfs_months is None:
            raise ValueError(
                "an exceptional-responder rule needs a complete response or a PFS limit"
            )
        if self.pfs_months is not None and not self.pfs_months > 0:
            raise ValueError(f"exceptional pfs_months must be positive, not {self.pfs_months}")

    def describe(self) -> str:
        """The rule in words, as the results table's method column states it."""
        parts = []
        if self.complete_response:
            parts.append("confirmed CR")
        if self.pfs_months is not None:
            days = number_text(self.pfs_months * DAYS_PER_MONTH)
            parts.append(f"PFS > {number_text(self.pfs_months)} months ({days} days)")
        return " or ".join(parts)


@dataclass(frozen=True)
class EndpointParameters:
    """Every cut-off and choice of the endpoints (DRUP defaults), checked when made."""

    ci: str = "log-log"
    """Pointwise Kaplan-Meier CI; the median CI inverts it. Rates are exact Clopper-Pearson."""
    conf_level: float = 0.95
    sd_weeks: float = 16.0
    """Stable disease counts as clinical benefit from this many weeks (DRUP: 16)."""
    durable_weeks: float = 24.0
    """Durable stable disease / durable clinical benefit from this many weeks."""
    pfs_rate_months: float = 6.0
    """The crude progression-free rate is taken at this many months."""
    exceptional_pfs_months: float | None = 24.0
    """Exceptional responder: PFS longer than this many months (None: no PFS route)."""
    exceptional_complete_response: bool = True
    """Exceptional responder: a confirmed complete response counts."""
    pfs_ratio_threshold: float = 1.3
    """PFS on trial / PFS on the prior line counts as success from this ratio."""
    trae_grade_min: int = 3
    """Treatment-related adverse events from this CTCAE grade count as severe."""
    landmarks_months: tuple[float, ...] = (3.0, 6.0, 12.0, 24.0)
    """Times of the PFS and OS landmark survival rows (rule files may need more, see
    :meth:`with_landmarks`)."""

    def __post_init__(self) -> None:
        if self.ci not in CI_TYPES:
            raise ValueError(f"ci must be one of {', '.join(CI_TYPES)}, not {self.ci!r}")
        for name in ("sd_weeks", "durable_weeks", "pfs_rate_months", "pfs_ratio_threshold"):
            _positive(name, getattr(self, name))
        if self.exceptional_pfs_months is not None:
            _positive("exceptional_pfs_months", self.exceptional_pfs_months)
        if not 0 < float(self.conf_level) < 1:
            raise ValueError(f"conf_level must be between 0 and 1, not {self.conf_level!r}")
        if isinstance(self.trae_grade_min, bool) or self.trae_grade_min not in range(1, 6):
            raise ValueError(f"trae_grade_min must be a CTCAE grade 1-5, "
                             f"not {self.trae_grade_min!r}")
        marks = tuple(float(m) for m in self.landmarks_months)
        if any(not (math.isfinite(m) and m >= 0) for m in marks):
            raise ValueError(f"landmarks_months must be months >= 0, not "
                             f"{self.landmarks_months!r}")
        object.__setattr__(self, "landmarks_months", marks)
        self.exceptional  # noqa: B018 - checks the exceptional-responder rule

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The parameter names (the keys of dossier.toml's [endpoints] besides ``by``)."""
        return tuple(f.name for f in fields(cls))

    @property
    def exceptional(self) -> ExceptionalResponderRule:
        """The exceptional-responder rule these parameters define."""
        return ExceptionalResponderRule(self.exceptional_complete_response,
                                        self.exceptional_pfs_months)

    @property
    def sd_days(self) -> float:
        return float(self.sd_weeks) * DAYS_PER_WEEK

    @property
    def durable_days(self) -> float:
        return float(self.durable_weeks) * DAYS_PER_WEEK

    @property
    def pfs_rate_days(self) -> float:
        return float(self.pfs_rate_months) * DAYS_PER_MONTH

    def with_landmarks(self, months: tuple[float, ...]) -> EndpointParameters:
        """These parameters with ``months`` added to the landmarks (sorted, no duplicates)."""
        marks = tuple(sorted({*self.landmarks_months, *(float(m) for m in months)}))
        return EndpointParameters(**{**self.as_dict(), "landmarks_months": marks})

    def as_dict(self) -> dict[str, object]:
        """Field name -> value, as the manifest and the methods section list them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
