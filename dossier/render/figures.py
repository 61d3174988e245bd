"""Figures of the submission dossier, as small deterministic inline SVG.

Kaplan-Meier plots (``figures_km``), swimmer plots (``figures_swimmer``) and forest plots
(``figures_forest``) share the primitives of ``dossier.render.svg``. Every function takes plain
data (results-table rows, the canonical patient frame) and returns an ``<svg>`` string; none of
them computes a statistic.
"""

from __future__ import annotations

from dossier.render.figures_forest import ForestRow, forest_rows_from_results, forest_svg
from dossier.render.figures_km import (
    KMCurveData,
    km_curve_data_from_results,
    km_plot_svg,
    readable_x_max,
)
from dossier.render.figures_swimmer import MAX_LANES, swimmer_svg

__all__ = [
    "MAX_LANES",
    "ForestRow",
    "KMCurveData",
    "forest_rows_from_results",
    "forest_svg",
    "km_curve_data_from_results",
    "km_plot_svg",
    "readable_x_max",
    "swimmer_svg",
]
