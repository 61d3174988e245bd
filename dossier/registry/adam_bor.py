"""RECIST 1.1 best overall response from per-visit overall responses (ADaM ADRS, PARAMCD OVR).

Used when ADRS holds only the visit-level responses (no sponsor-derived BOR / CBOR), and for
the date of the first response. The rules are those admiralonco's ADRS templates apply (see
``docs/adam.md``), in order, the first that applies giving the category:

Unconfirmed best overall response (BOR):

1. CR if any CR; 2. PR if any PR;
3. SD if any CR/PR/SD at least ``sd_min_days`` (42) after the reference date;
4. NON-CR/NON-PD if such an assessment is at least ``sd_min_days`` after the reference date;
5. PD if any PD; 6. NE if any SD, NON-CR/NON-PD or NE (covers SD that came too early);
7. MISSING when there is no assessment.

Confirmed best overall response (CBOR): as BOR, but CR and PR count only when confirmed:

* a CR by a later CR at least ``confirmation_days`` (28) later, every assessment in between
  being CR or NE, with at most ``max_ne_between`` (1) NE;
* a PR by a later CR or PR at least ``confirmation_days`` later, every assessment in between
  being CR, PR or NE (SD too, once, with ``accept_sd_between``), at most ``max_ne_between``
  NE, and no PR after a CR;

so an unconfirmed CR/PR seen ``sd_min_days`` or later counts as SD, an earlier one as NE.

Only assessments on or after the reference date are used, one per date (the worst, when a date
has several), up to and including the first PD.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

VISIT_RESPONSES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
"""RECIST 1.1 overall responses a visit can have."""

BEST_RESPONSES = (*VISIT_RESPONSES, "MISSING")
"""Best overall response categories: a visit response, or MISSING without any assessment."""

_BY_KEY = {re.sub(r"[^A-Z/]", "", code): code for code in BEST_RESPONSES}
_WORSE_FIRST = ("PD", "NE", "NON-CR/NON-PD", "SD", "PR", "CR")
"""From worst to best: which response is kept when one date has several."""


def normalise_response(value: str) -> str | None:
    """A response category in its CDISC spelling ('non-cr/non pd' -> 'NON-CR/NON-PD'), or None."""
    return _BY_KEY.get(re.sub(r"[^A-Z/]", "", value.upper()))


@dataclass(frozen=True)
class Windows:
    """The time windows of the derivation, in days (admiralonco's template defaults)."""

    confirmation_days: float = 28.0
    sd_min_days: float = 42.0
    max_ne_between: int = 1
    accept_sd_between: bool = False

    def describe(self) -> str:
        """The rules in one sentence, for the report and the methods section."""
        sd = ", one SD allowed in between" if self.accept_sd_between else ""
        return (f"CR/PR confirmed by a later CR (for CR) or CR/PR (for PR) at least "
                f"{self.confirmation_days:g} days later, with at most {self.max_ne_between} NE "
                f"in between{sd}; SD (and NON-CR/NON-PD) only from {self.sd_min_days:g} days "
                "after the reference date, NE before; assessments after the first PD ignored")


@dataclass(frozen=True)
class Visit:
    """One overall response: days since the reference date, the category, its source row."""

    day: float
    response: str
    row: int | None = None


@dataclass(frozen=True)
class DerivedResponse:
    """The best overall responses of one subject and the first CR/PR among the visits used."""

    bor: str
    cbor: str
    first_response: Visit | None
    n_visits: int

    @property
    def confirmed(self) -> bool:
        """True when the confirmed best response is CR or PR."""
        return self.cbor in ("CR", "PR")


def visits_in_scope(visits: Iterable[Visit]) -> list[Visit]:
    """Visits on or after the reference date, the worst per day, up to the first PD, by day."""
    by_day: dict[float, Visit] = {}
    for visit in visits:
        if visit.day < 0:
            continue
        kept = by_day.get(visit.day)
        if kept is None or (_WORSE_FIRST.index(visit.response)
                            < _WORSE_FIRST.index(kept.response)):
            by_day[visit.day] = visit
    used: list[Visit] = []
    for day in sorted(by_day):
        used.append(by_day[day])
        if by_day[day].response == "PD":
            break
    return used


def _is_confirmed(visits: Sequence[Visit], i: int, windows: Windows) -> bool:
    """Whether the CR or PR at position i is confirmed by a later assessment (module rules)."""
    first = visits[i]
    complete = first.response == "CR"
    confirming = {"CR"} if complete else {"CR", "PR"}
    allowed = {"CR", "NE"} if complete else {"CR", "PR", "NE", "SD"}
    max_sd = 1 if windows.accept_sd_between and not complete else 0
    n_ne = n_sd = 0
    cr_days: list[float] = []
    pr_days: list[float] = []
    for later in visits[i + 1:]:
        if later.response not in allowed:
            return False
        n_ne += later.response == "NE"
        n_sd += later.response == "SD"
        if n_ne > windows.max_ne_between or n_sd > max_sd:
            return False
        if later.response == "CR":
            cr_days.append(later.day)
        elif later.response == "PR":
            pr_days.append(later.day)
        if later.response in confirming and later.day - first.day >= windows.confirmation_days:
            # a PR after a CR is not a confirmation of the PR (the CR was lost)
            return complete or not (cr_days and pr_days and min(cr_days) <= max(pr_days))
    return False


def _other_categories(visits: Sequence[Visit], windows: Windows) -> str:
    """Steps 3-7 of the rules (after CR and PR), shared by BOR and CBOR."""
    late = [v.response for v in visits if v.day >= windows.sd_min_days]
    if any(r in ("CR", "PR", "SD") for r in late):
        return "SD"
    if "NON-CR/NON-PD" in late:
        return "NON-CR/NON-PD"
    responses = {v.response for v in visits}
    if "PD" in responses:
        return "PD"
    if responses:
        return "NE"
    return "MISSING"


def best_overall_response(visits: Iterable[Visit], windows: Windows = Windows()) -> str:
    """Unconfirmed best overall response (BOR) from the visits (module rules 1-7)."""
    used = visits_in_scope(visits)
    responses = {v.response for v in used}
    for category in ("CR", "PR"):
        if category in responses:
            return category
    return _other_categories(used, windows)


def confirmed_best_overall_response(visits: Iterable[Visit],
                                    windows: Windows = Windows()) -> str:
    """Confirmed best overall response (CBOR): CR/PR only when confirmed (module rules)."""
    used = visits_in_scope(visits)
    for category in ("CR", "PR"):
        if any(v.response == category and _is_confirmed(used, i, windows)
               for i, v in enumerate(used)):
            return category
    return _other_categories(used, windows)


def derive_best_response(visits: Iterable[Visit], windows: Windows = Windows()) -> DerivedResponse:
    """BOR, CBOR and the first CR/PR (start of the response) of one subject's visits."""
    used = visits_in_scope(visits)
    first = next((v for v in used if v.response in ("CR", "PR")), None)
    return DerivedResponse(best_overall_response(used, windows),
                           confirmed_best_overall_response(used, windows), first, len(used))

