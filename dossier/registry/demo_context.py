"""The demo cohorts' clinical context: rare cancer or not, effective standard treatment or not.

What ESMO-MCBS Form 3's applicability gate reads (``rare_indication``, ``no_effective_treatment``,
``form3_justification`` in the cohort metadata), set for the demo by a fixed rule, not drawn at
random, so the demo looks like a real submission:

* **rare cancer** (RARECARE: fewer than 6 new cases per 100,000 people a year, Gatta et al.,
  Eur J Cancer 2011;47:2493-511): a named tumour type is rare or not by its European incidence
  (:data:`RARE_TUMOUR_TYPES`); a tumour-agnostic basket ("Solid tumours ...") counts as rare when
  at least half of its patients have a rare cancer, as the patient rows record it;
* **no effective standard treatment** (high unmet need): false where a standard of care with
  proven benefit exists for the tumour type in the line DRUP patients are treated in (after at
  least one prior line), :data:`STANDARD_OF_CARE`; true for the baskets, whose patients have
  exhausted their standard options by DRUP's eligibility rule;
* **a justification** to apply Form 3 anyway, for one cohort (:data:`FORM3_JUSTIFICATIONS`), so
  the demo shows the documented override.

Nothing here changes a patient row: only these three metadata columns of the cohort table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SERIES = re.compile(r" \(series [0-9]+\)$")

RARE_TUMOUR_TYPES: Mapping[str, bool] = {
    # tumour type -> rare by RARECARE (< 6 per 100,000 a year); incidences for Europe
    "Colorectal cancer": False,  # about 60 per 100,000
    "Colorectal cancer, MSS": False,  # the large majority of colorectal cancer
    "Pancreatic cancer": False,  # about 12 per 100,000
    "Squamous cell lung cancer": False,  # about 20 per 100,000
    "Biliary tract cancer": True,  # RARECARE lists it as rare (about 3 per 100,000)
    "Liposarcoma": True,  # a soft-tissue sarcoma, under 1 per 100,000
    "Soft-tissue sarcoma": True,  # about 4-5 per 100,000
    "Mucosal melanoma": True,  # under 1 per 100,000
}
"""Named tumour types of the demo and whether RARECARE counts them as rare cancers."""

STANDARD_OF_CARE: Mapping[str, str] = {
    # tumour type -> the effective standard treatment after at least one prior line
    "Colorectal cancer": "trifluridine/tipiracil or regorafenib (third line)",
    "Colorectal cancer, MSS": "trifluridine/tipiracil or regorafenib (third line)",
    "Pancreatic cancer": "liposomal irinotecan + 5-FU/leucovorin (second line)",
    "Squamous cell lung cancer": "docetaxel or immunotherapy (second line)",
    "Biliary tract cancer": "FOLFOX (second line)",
    "Soft-tissue sarcoma": "pazopanib, trabectedin or eribulin (second line)",
    "Liposarcoma": "trabectedin or eribulin (second line and later)",
}
"""Tumour types of the demo with an effective standard treatment in the line DRUP treats; the
others (mucosal melanoma after immunotherapy, the baskets) have none: high unmet need."""

FORM3_JUSTIFICATIONS: Mapping[str, str] = {
    "sotorasib | Pancreatic cancer | KRAS p.G12C": (
        "KRAS p.G12C occurs in about 1-2% of pancreatic cancers: a rare molecular subgroup in "
        "which a randomised study cannot be run"),
}
"""Cohort id -> the user's reason to apply ESMO-MCBS Form 3 although the gate does not hold."""

BASKET_RARE_SHARE = 0.5
"""A basket counts as a rare indication when at least this share of its patients has a rare
cancer."""


def rare_indication(tumour_type: str, rare_share: float) -> bool:
    """Whether a demo cohort's indication is rare: by tumour type, else by its patients."""
    tumour_type = _SERIES.sub("", tumour_type)  # larger demos copy the cohorts as "series k"
    if tumour_type in RARE_TUMOUR_TYPES:
        return RARE_TUMOUR_TYPES[tumour_type]
    return bool(rare_share >= BASKET_RARE_SHARE)


def no_effective_treatment(tumour_type: str) -> bool:
    """Whether a demo cohort's patients have no effective standard treatment left."""
    return _SERIES.sub("", tumour_type) not in STANDARD_OF_CARE


def form3_justification(cohort_id: str) -> str | None:
    """The demo's stated reason to apply Form 3 to this cohort anyway, if any."""
    return FORM3_JUSTIFICATIONS.get(cohort_id)
