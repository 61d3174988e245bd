"""Size of the demo's PDFs, the font programs they embed, and the time their joins take.

Run:  python benchmarks/pdf_size.py [--pdf-variant pdf/a-2b] [--repeat 3] [--keep DIR]

Builds the demo's PDFs (``build_dossier`` with ``formats=("pdf",)``) with one worker, so that
every join runs in this process and is recorded; prints the size of dossier.pdf and of the
cohort PDFs together, how many font programs they embed, and then times each recorded join
again (best of ``--repeat``) twice: as built (each font embedded once) and with every part's
own font subsets kept (``share=False``), which is what fonts cost before they were shared.
``--keep DIR`` keeps the laid-out parts and the built PDFs there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@dataclass(frozen=True)
class Call:
    """One recorded join: its arguments."""

    pieces: tuple[Any, ...]
    stamp: Any
    target: Path
    options: dict[str, Any]


def build(work: Path, variant: str | None) -> list[Call]:
    """Build the demo's PDFs under ``work`` with one worker; the joins it made."""
    from dossier.build import build_dossier
    from dossier.config import Settings
    from dossier.render import pdf as pdf_module

    calls: list[Call] = []
    join = pdf_module.join

    def recorded(pieces: Any, stamp: Any, target: Path, **options: Any) -> Path:
        calls.append(Call(tuple(pieces), stamp, target, options))
        return join(pieces, stamp, target, **options)

    parts = work / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    if variant is not None:
        settings = settings.with_overrides(pdf_variant=variant)
    patches = {"join": recorded, "default_workers": lambda n_cohorts: 1}
    saved = {name: getattr(pdf_module, name) for name in patches}
    temporary = pdf_module.tempfile.TemporaryDirectory
    try:
        for name, value in patches.items():
            setattr(pdf_module, name, value)
        # the parts stay in ``parts`` after the build, for the joins to be timed again
        pdf_module.tempfile.TemporaryDirectory = (  # type: ignore[assignment]
            lambda **_: contextlib.nullcontext(str(parts)))
        build_dossier(settings, destination=work / "demo", formats=("pdf",))
    finally:
        for name, value in saved.items():
            setattr(pdf_module, name, value)
        pdf_module.tempfile.TemporaryDirectory = temporary  # type: ignore[assignment]
    return calls


def programs(paths: list[Path]) -> int:
    import pikepdf

    from dossier.render.pdf_fonts import embedded_programs

    total = 0
    for path in paths:
        with pikepdf.open(path) as pdf:
            total += embedded_programs(pdf)
    return total


def timed_joins(calls: list[Call], out: Path, repeat: int, share: bool) -> tuple[float, float]:
    """Seconds (best of ``repeat``) joining dossier.pdf, and all cohort PDFs together."""
    from dossier.render.pdf_join import join

    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        spent = [0.0, 0.0]
        for index, call in enumerate(calls):
            start = time.perf_counter()
            join(call.pieces, call.stamp, out / f"{index}.pdf", share=share, **call.options)
            spent[call.target.name != "dossier.pdf"] += time.perf_counter() - start
        best = [min(b, s) for b, s in zip(best, spent, strict=True)]
    return best[0], best[1]


def megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB ({size:,} bytes)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf-variant", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        work = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        start = time.perf_counter()
        calls = build(work, args.pdf_variant)
        built = time.perf_counter() - start
        dossier_pdf = work / "demo" / "dossier.pdf"
        cohorts = sorted((work / "demo" / "cohorts").glob("*.pdf"))
        print(f"demo PDFs built in {built:.0f} s (one worker), variant: "
              f"{args.pdf_variant or 'none'}; load average {os.getloadavg()[0]:.1f}")
        print(f"dossier.pdf: {megabytes(dossier_pdf.stat().st_size)}, "
              f"{programs([dossier_pdf])} embedded font programs")
        print(f"{len(cohorts)} cohort PDFs: "
              f"{megabytes(sum(p.stat().st_size for p in cohorts))}, "
              f"{programs(cohorts)} embedded font programs")
        scratch = work / "timed"
        scratch.mkdir(exist_ok=True)
        for share, label in ((True, "fonts shared"), (False, "each part's fonts kept")):
            whole, cohort_total = timed_joins(calls, scratch, args.repeat, share)
            print(f"joins, {label} (best of {args.repeat}): dossier.pdf {whole:.2f} s, "
                  f"{len(calls) - 1} cohort PDFs {cohort_total:.2f} s")
        sizes = [p.stat().st_size for p in scratch.glob("*.pdf")]
        print(f"  without sharing: {megabytes(sum(sizes))} for all {len(sizes)} PDFs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
