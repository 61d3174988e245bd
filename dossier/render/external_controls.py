"""The external controls of a dossier as the methods section and the cover show them.

Read-only: what :mod:`dossier.scoring.external_control` recorded per cohort (the control's
figures, where each came from, the comparisons) and the comparators file that was read. Figures
that are only illustrative are marked so on every line that shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dossier.registry.comparators import (
    UNANCHORED_CAVEAT,
    UNANCHORED_LABEL,
    Comparators,
    Evidence,
)
from dossier.scoring.external_control import FROM_FILE, HR_METHOD

FIGURE_NAMES = {"median_pfs_months": ("median PFS", " months"),
                "median_os_months": ("median OS", " months"), "orr_percent": ("ORR", "%")}


def _figures(entry: Any) -> str:
    shown = [f"{name} {getattr(entry, key):g}{unit}" for key, (name, unit) in FIGURE_NAMES.items()
             if getattr(entry, key) is not None]
    return ", ".join(shown)


def external_controls_view(comparators: Comparators | None, controls: Mapping[str, Any],
                           demo: bool = False) -> dict[str, object]:
    """The external-control part of the dossier context (empty ``rows`` when none was used).

    ``controls`` are the :class:`~dossier.scoring.external_control.ExternalControl` accounts
    by cohort; ``demo`` says the bundled example file was used for the demo registry.
    """
    used: dict[tuple[str, str], dict[str, object]] = {}
    from_metadata = 0
    for control in controls.values():
        entry = control.cohort.comparator if control.cohort is not None else None
        if entry is not None and FROM_FILE in control.sources.values():
            key = (entry.tumour_type, entry.lines.label)
            row = used.setdefault(key, {
                "tumour_type": entry.tumour_type, "line": entry.lines.label,
                "treatment": entry.treatment or "", "figures": _figures(entry),
                "evidence": entry.evidence.label,
                "illustrative": entry.evidence is Evidence.ILLUSTRATIVE,
                "citation": entry.citation or "", "url": entry.url or "", "cohorts": 0})
            row["cohorts"] = int(row["cohorts"]) + 1  # type: ignore[call-overload]
        if "cohort metadata" in control.sources.values():
            from_metadata += 1
    rows = list(used.values())
    illustrative = sum(1 for r in rows if r["illustrative"])
    if demo and comparators is not None:
        origin = ("The demo uses the example external-control file that ships with dossier: "
                  "its published figures name their source; figures marked illustrative are "
                  "round numbers for the demonstration, not evidence.")
    elif comparators is not None:
        origin = "External controls were supplied with the data, one per tumour type and line."
    else:
        origin = ""
    return {
        "used": bool(controls), "rows": rows, "label": UNANCHORED_LABEL,
        "caveat": UNANCHORED_CAVEAT, "hr_method": f"Hazard ratios against an external control "
        f"are {HR_METHOD}.", "origin": origin, "illustrative": illustrative,
        "from_metadata": from_metadata, "n_cohorts": len(controls),
        "cover": (f"{len(controls)} cohorts are also compared with an external control for "
                  "their tumour type and line of therapy: unanchored, naive comparisons that "
                  "the EU HTA methodological guidance restricts"
                  + (f"; {illustrative} of the {len(rows)} controls used are illustrative "
                     "figures, not evidence" if illustrative else "") + "."
                  if controls else ""),
    }
