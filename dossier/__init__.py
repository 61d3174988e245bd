"""dossier: precision-oncology cohort data in, reimbursement evidence out.

The data flows one way: read (``dossier.registry``) -> endpoints (``dossier.endpoints``) ->
criteria (``dossier.scoring``) -> render (``dossier.render``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
