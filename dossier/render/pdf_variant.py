"""The PDF variants (archival standards) a dossier build can write, and the check of a name.

WeasyPrint writes each part in the variant (XMP metadata naming it, the sRGB output intent,
every font embedded, the PDF version it declares) and :mod:`dossier.render.pdf_join` keeps
all of it when it joins the parts. Only variants that need no tagged structure are offered:
the join does not rebuild a structure tree (the "a" and PDF/UA variants need one), and
PDF/A-1 forbids the object streams the join writes.
"""

from __future__ import annotations

PDF_VARIANTS = ("pdf/a-2b", "pdf/a-2u", "pdf/a-3b", "pdf/a-3u")


def check_variant(name: str | None) -> str | None:
    """``name`` lower-cased (None: no variant, a plain PDF); ValueError for an unknown one."""
    if name is None:
        return None
    variant = str(name).strip().lower()
    if variant not in PDF_VARIANTS:
        raise ValueError(f"PDF variant {name!r} is not supported; supported: "
                         f"{', '.join(PDF_VARIANTS)}")
    return variant
