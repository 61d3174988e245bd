"""A synthetic DRUP-like registry: the data every command runs on when it is given none.

The default demo (1,610 treated patients, seed ``DEMO_SEED``) is built to look like the DRUP
trial as its 2026 Nature report describes it: 1,363 response-evaluable patients, 37 drugs,
treatment starts July 2016 - May 2024, 533 rare cancers among the evaluable, cohorts of one drug x
one tumour type x one alteration run as a two-stage design (8 evaluable, then 24, then an
expansion) with 14 cohorts passing stage 2. The pooled figures are built in, not hoped for:
exact counts of clinical benefit (476, 34.9%), confirmed response (214, 15.7%), grade >= 3
treatment-related adverse events (28.4% of treated) and exceptional responders (95, 7.0% of
evaluable; complete response or PFS beyond 24 months) are placed first, times drawn after, each
consistent with its patient's best response: progressive disease is found by the first
assessment (PFS <= 12 weeks), stable disease lasts at least to it (>= 7 weeks), responses come
before progression. Stable disease of every length comes from one smooth distribution, so no
patients pile up on either side of the 16- and 24-week thresholds; among those with 16 weeks,
half last 24. The Kaplan-Meier median PFS is 88 days (2.9 months, inside the published 95% CI
2.8-3.5; the published 3.4 months needs about half of all patients progression-free at 103
days, which a registry that counts stable disease from 112 days and has 34.9% clinical benefit
reaches only by piling stable disease up just under 16 weeks). Post-progression survival is
scaled until the Kaplan-Meier median OS is 250 days (8.2 months).

Other sizes scale the registry: whole copies of the cohort template (tumour types marked
"(series k)") plus a proportional part, so pooled rates stay close for large N; the two-stage
structure is kept at every size. Four drug x alteration pairs are tested in more than one
tumour type (baskets): in one of them (dabrafenib + trametinib, BRAF p.V600E: biliary tract versus
colorectal cancer) the outcome differs by tumour type, in the other three it does not, about the
quarter DRUP reports. Nothing here is real patient data.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dossier.atomic import check_targets, write_files_atomic
from dossier.registry import demo_context
from dossier.registry.demo_adverse_events import demo_adverse_events
from dossier.registry.demo_baseline import add_baseline
from dossier.registry.demo_sampling import (
    SmoothPFS,
    adjust,
    apportion,
    half_up,
    km_median,
    lognormal_quantile,
    pick,
    pick_keys,
    trunc_lognormal,
)
from dossier.registry.schema import COHORT_COLUMNS, default_cohort_id

__all__ = ["DATA_CUTOFF", "DEMO_SEED", "demo_registry", "write_demo"]

DEMO_SEED = 20160701
"""Seed of the bundled demo (DRUP's first patient month)."""

DATA_CUTOFF = dt.date(2025, 1, 1)
"""Administrative censoring date: follow-up ends here for everyone still alive."""

FIRST_START = dt.date(2016, 7, 4)
LAST_START = dt.date(2024, 5, 29)

# Published DRUP figures (Nature 2026) the default demo reproduces exactly.
_TREATED, _RARE = 1610, 533
_G3_TRAE, _G5_TRAE, _G4_SHARE = 0.284, 0.005, 0.04
_EXCEPTIONAL = 0.0697  # 95 of 1,363 evaluable: complete response or PFS > 24 months
# Breakdown chosen for the default: 30 complete responses, 25 unconfirmed PR, 8 evaluable NE.
_CR_OF_RESPONDERS, _UPR, _NE_EVALUABLE = 30 / 214, 25, 8
_SD16, _SD24, _LONG_PFS, _CAP = 112, 168, 740, 720  # days; PFS > 730.5 days is "24 months"
_SD_FIRST, _PD_LAST = 49, 84  # days: SD holds at the first assessment; PD is found by it
_SD_SCAN = (100.0, 20.0)  # days: mean and sd of progression found around the 16-week assessment
_SD_SLOW = (250.0, 0.8)  # slowly growing tumours: 42 days + log-normal (median days, sigma)
_NONEVAL_PFS_RANGE = (30.0, 150.0)  # days: where the median PFS of non-evaluable patients lies
PFS_MEDIAN_DAYS = 88  # 2.89 months; the module docstring says why not the published 3.4
OS_MEDIAN_DAYS = 250  # 8.21 months
_MIN_EXCEPTIONAL_FOLLOWUP = 760
_SD_PFS = SmoothPFS(_SD_FIRST, _SD_SCAN, _SD_SLOW, (_SD16, _SD24))

# One archetype cohort per line: kind (expanded beyond 24 / passed stage 2 / failed stage 2 /
# closed after stage 1 / still recruiting in stage2 or stage1), drug, tumour type, alteration,
# evaluable patients, with clinical benefit, with confirmed response, share of rare cancers,
# strength (scales the duration of benefit), share of 16-week SD lasting 24 weeks, ESCAT tier.
_COHORTS = """\
expanded|nivolumab|Solid tumours, non-colorectal|MSI-high/dMMR|200|120|72|.45|1.4|.75|I-C
expanded|vemurafenib + cobimetinib|Solid tumours, non-melanoma|BRAF p.V600E|130|72|42|.45|1.3|.7|I-C
expanded|durvalumab|Solid tumours|TMB-high|110|55|24|.3|1.2|.65|I-C
expanded|trastuzumab + pertuzumab|Colorectal cancer|ERBB2 amplification|96|45|22|0|1|.55|II-B
expanded|olaparib|Solid tumours|BRCA1/2 inactivation|86|33|8|.35|.9|.5|III-A
expanded|dabrafenib + trametinib|Solid tumours|BRAF non-V600 alteration|70|25|6|.4|.9|.35|III-A
passed|dabrafenib + trametinib|Biliary tract cancer|BRAF p.V600E|24|14|8|1|1.3|.7|I-C
passed|palbociclib|Liposarcoma|CDK4 amplification|24|6|0|1|.7|.15|II-B
passed|ipilimumab + nivolumab|Solid tumours|TMB-high|24|12|5|.35|1.2|.65|I-C
passed|everolimus|Solid tumours|TSC1/TSC2 inactivation|24|7|1|.5|.8|.25|III-A
passed|crizotinib|Solid tumours, non-lung|ROS1 fusion|24|13|7|1|1.2|.6|III-A
passed|imatinib|Solid tumours, non-GIST|KIT/PDGFRA activating mutation|24|5|1|1|.8|.3|III-A
passed|trastuzumab emtansine|Solid tumours, non-breast|ERBB2 amplification|24|9|3|.4|1|.45|III-A
passed|vismodegib|Solid tumours, non-basal cell|PTCH1 inactivation|24|8|2|.6|1|.5|III-A
failed|dabrafenib + trametinib|Colorectal cancer|BRAF p.V600E|24|1|0|0|.6|.2|IV-A
failed|erlotinib|Solid tumours, non-lung|EGFR activating mutation|24|4|2|.5|.9|.5|III-A
failed|ribociclib|Solid tumours|CCND1 amplification|24|2|0|.25|.6|.2|IV-A
failed|alpelisib|Solid tumours|PIK3CA activating mutation|24|3|1|.3|.7|.35|III-A
failed|niraparib|Solid tumours|ATM/CHEK2 inactivation|24|2|0|.35|.7|.3|IV-A
failed|cabozantinib|Solid tumours|MET amplification|24|3|1|.4|.8|.35|III-B
failed|afatinib|Solid tumours|ERBB2 activating mutation|24|4|1|.4|.8|.4|III-A
failed|erdafitinib|Solid tumours, non-urothelial|FGFR1-3 alteration|24|3|1|.45|.8|.35|III-A
failed|trametinib|Solid tumours|NF1 inactivation|24|2|1|.45|.7|.3|IV-A
closed|pembrolizumab|Colorectal cancer, MSS|TMB 140-290 mutations|8|0|0|0|.6|.3|X
closed|palbociclib|Solid tumours|CDKN2A loss|8|0|0|.35|.6|.2|IV-A
closed|ribociclib|Solid tumours|CDK4/CDK6 amplification|8|0|0|.35|.6|.2|IV-A
closed|abemaciclib|Solid tumours|CCND1-3 amplification|8|0|0|.3|.6|.2|IV-A
closed|gefitinib|Solid tumours, non-lung|EGFR amplification|8|0|0|.4|.6|.3|IV-A
closed|lapatinib|Solid tumours|ERBB3 activating mutation|8|0|0|.4|.6|.3|IV-A
closed|temsirolimus|Solid tumours|PTEN loss|8|0|0|.35|.6|.3|IV-A
closed|dasatinib|Squamous cell lung cancer|DDR2 mutation|8|0|0|0|.6|.3|IV-A
closed|nilotinib|Mucosal melanoma|KIT mutation|8|0|0|1|.6|.3|III-A
closed|cabozantinib|Solid tumours|RET activating mutation|8|0|0|.5|.6|.3|IV-A
closed|sorafenib|Solid tumours|RAF1 fusion|8|0|0|.6|.6|.3|IV-A
closed|sunitinib|Solid tumours, non-renal|VHL inactivation|8|0|0|.6|.6|.3|IV-A
closed|talazoparib|Solid tumours|PALB2 inactivation|8|0|0|.4|.6|.3|IV-A
closed|erdafitinib|Soft-tissue sarcoma|FGFR1-3 alteration|8|0|0|1|.6|.3|IV-A
closed|everolimus|Solid tumours|AKT1 p.E17K|8|0|0|.4|.6|.3|IV-A
stage2|selpercatinib|Solid tumours, non-lung/thyroid|RET fusion|12|4|1|1|1.1|.6|I-C
stage2|encorafenib + binimetinib|Solid tumours|BRAF class II/III mutation|17|1|0|.4|.7|.3|IV-A
stage2|capmatinib|Solid tumours, non-lung|MET exon 14 skipping|14|2|1|.5|.9|.4|III-A
stage2|alpelisib|Solid tumours|PIK3CA amplification|21|2|0|.3|.6|.2|IV-A
stage2|sotorasib|Solid tumours, non-lung|KRAS p.G12C|15|3|1|.3|.8|.35|III-A
stage2|lorlatinib|Solid tumours, non-lung|ALK fusion|19|3|1|1|1|.5|III-A
stage1|entrectinib|Solid tumours|NTRK1-3 fusion|5|2|1|1|1.2|.6|I-C
stage1|sotorasib|Pancreatic cancer|KRAS p.G12C|4|1|0|0|.8|.3|III-A
stage1|capmatinib|Solid tumours|MET amplification|3|1|0|.5|.8|.3|III-B
stage1|olaparib|Solid tumours|RAD51C/RAD51D inactivation|6|2|0|.4|.8|.4|III-A
stage1|durvalumab|Solid tumours|POLE/POLD1 mutation|6|2|1|.4|1.1|.6|III-A
stage1|nivolumab|Solid tumours|CD274 amplification|7|3|0|.5|1|.5|III-B
stage1|trastuzumab + pertuzumab|Biliary tract cancer|ERBB2 amplification|4|1|0|1|1|.5|III-A
stage1|everolimus|Solid tumours|MTOR activating mutation|5|1|0|.5|.8|.3|III-A
stage1|abemaciclib|Solid tumours|CDK4 amplification, non-liposarcoma|3|0|0|.4|.6|.2|IV-A
stage1|gefitinib|Solid tumours, non-lung|EGFR kinase domain duplication|2|0|0|.5|.7|.3|III-B
"""
_FIELDS = ("kind", "drug", "tumour", "alteration", "size", "cb", "orr", "rare", "strength",
           "sd24", "escat")
_TEMPLATE = pd.read_csv(io.StringIO(_COHORTS), sep="|", names=list(_FIELDS),
                        dtype={"escat": str, "rare": float})
_TEMPLATE["ema"] = np.where(_TEMPLATE["drug"] == "entrectinib", "conditional", "not_approved")
_EVALUABLE = int(_TEMPLATE["size"].sum())  # 1,363
_CB, _ORR = int(_TEMPLATE["cb"].sum()), int(_TEMPLATE["orr"].sum())  # 476, 214
_KINDS = ("expanded", "passed", "failed", "closed", "stage2", "stage1")
# Enrolment windows as fractions of July 2016 - May 2024: (open from, open to, close after).
_WINDOWS = {"expanded": (0.0, 0.2, None), "passed": (0.0, 0.45, (0.25, 0.45)),
            "failed": (0.0, 0.5, (0.2, 0.4)), "closed": (0.0, 0.7, (0.08, 0.25)),
            "stage2": (0.35, 0.65, None), "stage1": (0.7, 0.9, None)}
_CB_RANGE = {"expanded": (0.25, 0.75), "passed": (0.2, 0.67), "failed": (0, 1), "closed": (0, 0),
             "stage2": (0, 1), "stage1": (0.0, 0.6)}  # share of evaluable with benefit

# Outcome classes of a patient.
NONEVAL, NE, PD, SD_SHORT, UPR, SD16, SD24, PR, CR = range(9)
_PPS_MEDIAN = np.array([45, 60, 110, 150, 170, 190, 240, 300, 1000], float)  # days, by class
_DEATH_BEFORE_PROGRESSION = np.array([.35, .4, 0, .04, 0, .03, .03, .02, .02])




def _plan(n_eval: int, n_treated: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per cohort: archetype, size and exact counts, adjusted to the pooled targets."""
    blocks, rest = divmod(n_eval, _EVALUABLE)
    rows = [(b, i, int(_TEMPLATE.at[i, "size"])) for b in range(blocks)
            for i in range(len(_TEMPLATE))]
    rows += _partial_block(rest, blocks)
    plan = _TEMPLATE.iloc[[i for _, i, _ in rows]].reset_index(drop=True)
    plan["block"] = [b for b, _, _ in rows]
    size = np.array([s for _, _, s in rows], np.int64)
    scale = size / plan["size"].to_numpy()
    plan["size"] = size
    kind = plan["kind"].to_numpy()
    lo = np.ceil(np.array([_CB_RANGE[k][0] for k in kind]) * size - 1e-9).astype(np.int64)
    hi = np.floor(np.array([_CB_RANGE[k][1] for k in kind]) * size + 1e-9).astype(np.int64)
    lo = np.where(np.isin(kind, ["expanded", "passed"]), np.maximum(lo, 5), lo)
    staged = np.isin(kind, ["failed", "stage2"])  # stage 2 reached, at most 4 of 24 with benefit
    lo, hi = np.where(staged, np.minimum(1, size), lo), np.where(staged, np.minimum(4, size), hi)
    cb = np.rint(plan["cb"].to_numpy() * scale)
    cb = adjust(cb, half_up(n_eval * _CB / _EVALUABLE), lo, hi, size)
    orr = np.minimum(np.rint(plan["orr"].to_numpy() * scale), cb)
    orr = adjust(orr, half_up(n_eval * _ORR / _EVALUABLE), np.zeros_like(cb), cb, cb + 0.01)
    plan["cb"], plan["orr"] = cb, orr
    share = plan["rare"].to_numpy()
    mixed = (share > 0) & (share < 1)
    rare = np.rint(share * size).astype(np.int64)
    target = half_up(n_eval * _RARE / _EVALUABLE) - int(rare[~mixed].sum())
    rare[mixed] = adjust(rare[mixed], target, np.zeros(mixed.sum(), np.int64), size[mixed],
                          size[mixed] * share[mixed] * (1 - share[mixed]))
    plan["n_rare"] = rare
    # Clinical benefit among rare cancers: as frequent as among common cancers.
    cb_rare = np.where(share >= 1, cb, 0)
    lo_r, hi_r = np.maximum(0, cb - (size - rare)), np.minimum(cb, rare)
    want = half_up(int(cb.sum()) * int(rare.sum()) / max(n_eval, 1)) - int(cb_rare.sum())
    cb_rare[mixed] = adjust(np.rint(cb * rare / size)[mixed], want, lo_r[mixed], hi_r[mixed],
                             (cb * rare / size)[mixed] + 0.01)
    plan["cb_rare"] = cb_rare
    weights = size * rng.uniform(0.5, 1.5, len(plan))
    plan["n_ne"] = apportion(n_treated - n_eval, weights, size)
    suffix = np.where(plan["block"] > 0, " (series " + (plan["block"] + 1).astype(str) + ")", "")
    plan["tumour"] = plan["tumour"] + suffix
    plan["cohort_id"] = [default_cohort_id(d, t, a) for d, t, a in
                         zip(plan["drug"], plan["tumour"], plan["alteration"], strict=True)]
    return plan


def _partial_block(rest: int, block: int) -> list[tuple[int, int, int]]:
    """Cohorts for ``rest`` evaluable patients: every kind in proportion, expansions absorb."""
    if rest == 0:
        return []
    frac = rest / _EVALUABLE
    chosen: list[int] = []
    for kind in _KINDS:
        members = list(np.flatnonzero(_TEMPLATE["kind"].to_numpy() == kind))
        chosen += members[: half_up(len(members) * frac)]
    sizes = _TEMPLATE["size"].to_numpy()
    fixed = [i for i in chosen if _TEMPLATE.at[i, "kind"] != "expanded"]
    expansions = [i for i in chosen if _TEMPLATE.at[i, "kind"] == "expanded"]
    while fixed and sum(sizes[fixed]) > rest:
        fixed.pop()
    left = rest - int(sum(sizes[fixed]))
    rows = [(block, i, int(sizes[i])) for i in fixed]
    if expansions and left >= 25 * len(expansions):
        extra = apportion(left - 25 * len(expansions), sizes[expansions], np.full(
            len(expansions), left))
        return rows + [(block, i, 25 + int(e)) for i, e in zip(expansions, extra, strict=True)]
    pending = list(np.flatnonzero(_TEMPLATE["kind"].to_numpy() == "stage1"))
    spare = [(block, i) for i in pending if i not in fixed]
    spare += [(b, i) for b in range(block + 1, block + 2 + left // 70) for i in pending]
    for (b, i) in spare:
        if left == 0:
            break
        take = min(7, left)
        rows.append((b, i, take))
        left -= take
    return rows


def _enrol(plan: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Place every patient: cohort, enrolment order, evaluable, benefit, response, rare, start."""
    n = int((plan["size"] + plan["n_ne"]).sum())
    out = {k: np.zeros(n, t) for k, t in (("cohort", np.int64), ("seq", np.int64),
                                          ("count", np.int64), ("evaluable", bool), ("cb", bool),
                                          ("orr", bool), ("rare", bool), ("day", np.int64))}
    span = (LAST_START - FIRST_START).days
    at = 0
    for c, row in enumerate(plan.itertuples(index=False)):
        size, n_ne, kind = int(row.size), int(row.n_ne), row.kind
        cb = np.zeros(size, bool)
        if row.cb:
            cb[rng.integers(min(8, size))] = True
            if kind in ("passed", "expanded"):
                pool = np.flatnonzero(~cb[:24])
                cb[rng.choice(pool, min(row.cb, 5) - 1, replace=False)] = True
            pool = np.flatnonzero(~cb)
            cb[rng.choice(pool, row.cb - cb.sum(), replace=False)] = True
        yes, no = np.flatnonzero(cb), np.flatnonzero(~cb)
        orr = np.zeros(size, bool)
        orr[rng.choice(yes, row.orr, replace=False)] = True
        rare = np.zeros(size, bool)
        rare[rng.choice(yes, row.cb_rare, replace=False)] = True
        rare[rng.choice(no, row.n_rare - row.cb_rare, replace=False)] = True
        # Enrolment sequence: non-evaluable patients interleaved, an evaluable patient last.
        seq = np.concatenate([rng.permutation(np.r_[np.ones(size - 1, bool),
                                                    np.zeros(n_ne, bool)]), [True]])
        m = size + n_ne
        opened_lo, opened_hi, duration = _WINDOWS[kind]
        start = rng.uniform(opened_lo, opened_hi)
        end = min(1.0, start + rng.uniform(*duration)) if duration else rng.uniform(0.93, 1.0)
        first, last = int(start * span), max(int(end * span), int(start * span) + m)
        if last > span:
            first, last = max(0, span - max(m, last - first)), span
        days = np.sort(rng.choice(last - first + 1, m, replace=False)) + first
        sl = slice(at, at + m)
        out["cohort"][sl], out["seq"][sl], out["day"][sl] = c, np.arange(m), days
        out["evaluable"][sl] = seq
        out["count"][sl] = np.cumsum(seq) - seq  # evaluable patients enrolled before
        for key, values in (("cb", cb), ("orr", orr), ("rare", rare)):
            out[key][at:at + m][seq] = values
        ne_rare = rng.random(n_ne) < row.rare if 0 < row.rare < 1 else row.rare >= 1
        out["rare"][at:at + m][~seq] = ne_rare
        at += m
    out["day"][np.argmin(out["day"])] = 0
    out["day"][np.argmax(out["day"])] = span
    return out


def _outcomes(p: dict[str, np.ndarray], plan: pd.DataFrame,
              rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Best response, PFS, OS and response times, calibrated to the pooled targets."""
    n = len(p["cohort"])
    ev, cb, orr = p["evaluable"], p["cb"], p["orr"]
    strength = plan["strength"].to_numpy()[p["cohort"]]
    sd24 = plan["sd24"].to_numpy()[p["cohort"]]
    n_eval, n_cb, n_orr = int(ev.sum()), int(cb.sum()), int(orr.sum())
    fu = (DATA_CUTOFF - FIRST_START).days - p["day"]
    cls = np.full(n, NONEVAL)
    cls[orr] = PR
    cls[pick(rng, orr, strength, half_up(n_orr * _CR_OF_RESPONDERS))] = CR
    cls[cb & ~orr] = SD16
    cls[pick(rng, cb & ~orr, sd24 / (1 - sd24), half_up((n_cb - n_orr) / 2))] = SD24
    rest = ev & ~cb
    cls[rest] = PD
    cls[pick(rng, rest, strength, half_up(n_eval * _UPR / _EVALUABLE))] = UPR
    cls[pick(rng, cls == PD, 1.0, half_up(n_eval * _NE_EVALUABLE / _EVALUABLE))] = NE
    # As many short SD as the stable-disease distribution has below 16 weeks.
    n_short = half_up((n_cb - n_orr) * _SD_PFS.mass(_SD_FIRST, _SD16) / _SD_PFS.mass(_SD16))
    cls[pick(rng, cls == PD, 1.0, n_short)] = SD_SHORT
    eligible = ((cls == PR) | (cls == SD24)) & (fu >= _MIN_EXCEPTIONAL_FOLLOWUP)
    n_long = half_up(n_eval * _EXCEPTIONAL) - int((cls == CR).sum())
    long_pfs = pick(rng, eligible, strength, n_long)

    # PFS, drawn by class. Stable disease of all three lengths comes from one smooth
    # distribution (_SD_PFS), split at 16 and 24 weeks in proportion to its own mass there, so
    # the pooled histogram has no step at either threshold; durable SD goes to strong cohorts.
    pfs = np.zeros(n, float)
    short, sd_16, sd_24 = cls == SD_SHORT, cls == SD16, (cls == SD24) & ~long_pfs
    pfs[short] = _SD_PFS.draw(rng, int(short.sum()), _SD_FIRST, _SD16)
    pfs[sd_16] = _SD_PFS.draw(rng, int(sd_16.sum()), _SD16, _SD24)
    durable = np.sort(_SD_PFS.draw(rng, int(sd_24.sum()), _SD24, _CAP))
    by_strength = np.argsort(pick_keys(rng, strength[sd_24]), kind="stable")
    pfs[np.flatnonzero(sd_24)[by_strength]] = durable
    # Progressive disease is found at the first assessment (~8 weeks, at most 12) or, for a
    # quarter, clinically before it; a non-evaluable assessment (NE) leaves PFS open.
    at_scan = rng.random(n) < 0.75
    pd_days = np.where(at_scan, np.clip(rng.normal(57, 8, n), 42, _PD_LAST), rng.uniform(14, 49, n))
    pfs[cls == PD] = np.floor(pd_days)[cls == PD]
    pfs[cls == NE] = np.floor(trunc_lognormal(rng, np.full(n, 70.0), 0.6, 14, 400))[cls == NE]
    # Responses are seen at an assessment; an unconfirmed one is followed by progression at
    # the confirmation scan, a confirmed one lasts at least until the next assessment.
    scan = rng.choice([56, 112, 168], n, p=[0.7, 0.25, 0.05]) + rng.integers(-7, 8, n)
    response = np.where(cls == UPR, 56 + rng.integers(-7, 8, n), scan).astype(float)
    pfs = np.where(cls == UPR, np.minimum(response + rng.integers(21, 50, n), _SD16 - 1), pfs)
    gap_lo = np.maximum(56, _SD16 - response)
    pr_days = response + trunc_lognormal(rng, 230 * strength, 0.75, gap_lo, _CAP - response)
    cr_days = response + trunc_lognormal(rng, np.full(n, 650.0), 0.8, gap_lo, 2600 - response)
    long_days = trunc_lognormal(rng, np.full(n, 1000.0), 0.5, _LONG_PFS, 2600)
    pfs = np.select([long_pfs, cls == PR, cls == CR], [long_days, pr_days, cr_days], pfs)
    pfs = np.floor(pfs)
    # Patients without a response assessment (stopped early for toxicity or decline, or no
    # measurable disease) progress or die at any time; their median PFS is the one free scale,
    # set by bisection so that the Kaplan-Meier median PFS of all treated is PFS_MEDIAN_DAYS.
    noneval, u_ne = cls == NONEVAL, rng.random(n)

    def with_noneval(median: float) -> np.ndarray:
        days = lognormal_quantile(u_ne, np.full(n, median), 0.8, 7, _CAP)
        return np.where(noneval, np.floor(days), pfs)

    def pfs_median(median: float) -> tuple[float, bool]:
        trial = with_noneval(median)
        return km_median(np.minimum(trial, fu), trial <= fu)

    lo_m, hi_m = _NONEVAL_PFS_RANGE
    while hi_m - lo_m > 0.01:
        mid = (lo_m + hi_m) / 2
        lo_m, hi_m = (mid, hi_m) if pfs_median(mid)[0] < PFS_MEDIAN_DAYS else (lo_m, mid)
    for _ in range(20):  # avoid an exact 0.5 plateau, where conventions for the median differ
        if not pfs_median(hi_m)[1]:
            break
        hi_m *= 1.001
    pfs = with_noneval(hi_m)
    response = np.where(np.isin(cls, [UPR, PR, CR]), response, np.nan)

    # OS: progression, then post-progression survival scaled to the Kaplan-Meier median.
    death_first = rng.random(n) < _DEATH_BEFORE_PROGRESSION[cls]
    pps = trunc_lognormal(rng, np.where(long_pfs, 700.0, _PPS_MEDIAN[cls] * np.sqrt(
        np.where(cb, strength, 1.0))), 1.0, 1, 3650)
    lost = (rng.random(n) < 0.03) & ~death_first
    lost_at = np.where(lost, pfs + rng.integers(30, 900, n), np.inf)

    def observe(scale: float) -> tuple[np.ndarray, np.ndarray]:
        os_true = pfs + np.where(death_first, 0, np.maximum(1, np.rint(scale * pps)))
        stop = np.minimum(fu, lost_at)
        return np.minimum(os_true, stop), (os_true <= stop).astype(np.int64)

    lo_s, hi_s = 0.05, 20.0
    for _ in range(40):
        mid = (lo_s + hi_s) / 2
        median, _ = km_median(*observe(mid))
        lo_s, hi_s = (mid, hi_s) if median < OS_MEDIAN_DAYS else (lo_s, mid)
    scale = hi_s
    for _ in range(20):  # avoid an exact 0.5 plateau, where conventions for the median differ
        if not km_median(*observe(scale))[1]:
            break
        scale *= 1.001
    os_days, os_event = observe(scale)
    return {"cls": cls, "response": response, "pfs": np.minimum(pfs, fu),
            "pfs_event": (pfs <= fu).astype(np.int64), "os": os_days, "os_event": os_event,
            "death_first": death_first, "fu": fu}


def _history(p: dict[str, np.ndarray], o: dict[str, np.ndarray],
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Worst treatment-related AE grade, prior lines and prior PFS."""
    n, cb = len(p["cohort"]), p["cb"]
    n_g3 = half_up(_G3_TRAE * n)
    fatal = (o["death_first"] & (o["os_event"] == 1) & (o["os"] <= 150) & ~cb)
    g5 = pick(rng, fatal, 1.0, min(half_up(_G5_TRAE * n), n_g3))
    g34 = pick(rng, ~g5, np.where(p["evaluable"], 1.0, 2.0), n_g3 - int(g5.sum()))
    g4 = pick(rng, g34, 1.0, half_up(_G4_SHARE * n))
    grade = rng.choice([0, 1, 2], n, p=[0.18, 0.40, 0.42])
    grade = np.select([g5, g4, g34], [5, 4, 3], grade)
    lines = np.where(cb, rng.choice(7, n, p=[.16, .33, .26, .14, .07, .03, .01]),
                     rng.choice(7, n, p=[.07, .22, .28, .21, .12, .06, .04]))
    prior = np.rint(trunc_lognormal(rng, np.full(n, 150.0), 0.8, 14, 1800))
    missing = lines == 0
    missing |= pick(rng, ~missing, 1.0, half_up(0.15 * n) - int(missing.sum()))
    return {"grade": grade, "lines": lines, "prior_pfs": np.where(missing, np.nan, prior)}


def demo_registry(n_patients: int = _TREATED,
                  seed: int = DEMO_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The synthetic DRUP-like registry: (patients, cohorts) in dossier's input schema.

    Patients have one row per treated patient with the columns of a user's file (patient_id,
    cohort_id, drug, tumour_type, alteration, rare_cancer, stage, treatment_start,
    response_evaluable, best_response, response_confirmed, response_days, pfs_days, pfs_event,
    os_days, os_event, worst_ae_grade, prior_lines, prior_pfs_days); days are whole days, flags
    0/1, blanks NA. Cohorts has the COHORT_COLUMNS of schema.py: title, ESCAT tier, setting,
    EMA status, rare indication and unmet need; quality of life, well-being toxicity, phase-4
    evidence and comparators are blank because the demo has none. The same (n_patients, seed)
    always gives the same tables.
    """
    if isinstance(n_patients, bool) or not isinstance(n_patients, (int, np.integer)) \
            or n_patients < 1:
        raise ValueError(f"n_patients must be a whole number >= 1, got {n_patients!r}")
    rng = np.random.default_rng(seed)
    n_eval = max(1, half_up(n_patients * _EVALUABLE / _TREATED))
    plan = _plan(n_eval, int(n_patients), rng)
    p = _enrol(plan, rng)
    o = _outcomes(p, plan, rng)
    h = _history(p, o, rng)
    order = np.lexsort((p["seq"], p["cohort"], p["day"]))
    c = p["cohort"][order]
    cls = o["cls"][order]
    count = p["count"][order]
    width = max(4, len(str(n_patients)))
    bor = np.array([None, "NE", "PD", "SD", "PR", "SD", "SD", "PR", "CR"], object)[cls]
    confirmed = np.where(np.isin(cls, [PR, CR]), 1, np.where(cls == UPR, 0, -1))
    start = (np.datetime64(FIRST_START) + p["day"][order].astype("timedelta64[D]")).astype(object)
    patients = pd.DataFrame({
        "patient_id": [f"DRUP-{i:0{width}d}" for i in range(1, len(order) + 1)],
        "cohort_id": plan["cohort_id"].to_numpy()[c],
        "drug": plan["drug"].to_numpy()[c],
        "tumour_type": plan["tumour"].to_numpy()[c],
        "alteration": plan["alteration"].to_numpy()[c],
        "rare_cancer": p["rare"][order].astype(np.int64),
        "stage": np.where(count < 8, "1", np.where(count < 24, "2", "expansion")).astype(object),
        "treatment_start": start,
        "response_evaluable": p["evaluable"][order].astype(np.int64),
        "best_response": bor,
        "response_confirmed": pd.array(np.where(confirmed < 0, None, confirmed), dtype="Int64"),
        "response_days": pd.array(o["response"][order], dtype="Int64"),
        "pfs_days": o["pfs"][order].astype(np.int64),
        "pfs_event": o["pfs_event"][order],
        "os_days": o["os"][order].astype(np.int64),
        "os_event": o["os_event"][order],
        "worst_ae_grade": h["grade"][order].astype(np.int64),
        "prior_lines": h["lines"][order].astype(np.int64),
        "prior_pfs_days": pd.array(h["prior_pfs"][order], dtype="Int64"),
    })
    patients = add_baseline(patients, seed)  # own random stream: the columns above stay as they are
    return patients, _cohort_table(plan, patients)


def _cohort_table(plan: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Cohort metadata in COHORT_COLUMNS order, one row per cohort, sorted by cohort_id."""
    rare = patients.groupby("cohort_id")["rare_cancer"].mean()
    table = pd.DataFrame({col.name: pd.Series([None] * len(plan), dtype=object)
                          for col in COHORT_COLUMNS})
    ids = plan["cohort_id"]
    table["cohort_id"] = ids
    table["title"] = [f"{d[0].upper()}{d[1:]} in {t[0].lower()}{t[1:]} with {a}" for d, t, a in
                      zip(plan["drug"], plan["tumour"], plan["alteration"], strict=True)]
    table["escat_tier"] = plan["escat"]
    table["setting"] = "palliative"
    table["ema_status"] = plan["ema"]
    table["rare_indication"] = [demo_context.rare_indication(t, rare[i])
                                for t, i in zip(plan["tumour"], ids, strict=True)]
    table["no_effective_treatment"] = [demo_context.no_effective_treatment(t)
                                       for t in plan["tumour"]]
    table["form3_justification"] = [demo_context.form3_justification(i) for i in ids]
    for col in COHORT_COLUMNS:
        if col.kind == "number":
            table[col.name] = pd.to_numeric(table[col.name]).astype("float64")
    return table.sort_values("cohort_id", kind="stable").reset_index(drop=True)


def _cohorts_yaml(cohorts: pd.DataFrame, n_patients: int, seed: int) -> bytes:
    entries = []
    for row in cohorts.to_dict("records"):
        entries.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()
                        if v is not None and not (isinstance(v, float) and np.isnan(v))})
    head = (f"# Cohort metadata of the dossier demo registry (synthetic; {n_patients} patients, "
            f"seed {seed}).\n")
    body = yaml.safe_dump({"cohorts": entries}, sort_keys=False, allow_unicode=True, width=100)
    return (head + body).encode("utf-8")


def _csv_bytes(patients: pd.DataFrame) -> bytes:
    return patients.to_csv(index=False, lineterminator="\n").encode("utf-8")


_FIXED_TIME = (2016, 7, 1, 0, 0, 0)


def _xlsx_bytes(patients: pd.DataFrame) -> bytes:
    """An .xlsx with fixed document timestamps and zip entry dates, so equal data -> equal bytes."""
    raw = io.BytesIO()
    with pd.ExcelWriter(raw, engine="openpyxl", date_format="YYYY-MM-DD") as writer:
        patients.to_excel(writer, sheet_name="patients", index=False)
        writer.book.properties.creator = "dossier"
    stamp = dt.datetime(*_FIXED_TIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" +
                              stamp.encode(), data)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    return out.getvalue()


def _parquet_bytes(patients: pd.DataFrame) -> bytes:
    raw = io.BytesIO()
    patients.to_parquet(raw, index=False)
    return raw.getvalue()


_WRITERS = {".csv": _csv_bytes, ".xlsx": _xlsx_bytes, ".parquet": _parquet_bytes}


def events_path_of(path: Path | str) -> Path:
    """Where write_demo puts the adverse events of the demo patient file ``path``."""
    path = Path(path)
    return path.with_name(path.stem + ".adverse_events.csv")


def write_demo(path: Path | str, n_patients: int = _TREATED,
               seed: int = DEMO_SEED, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write the demo patients (CSV, XLSX or Parquet, by suffix), ``<stem>.cohorts.yaml`` and
    the adverse events per event, ``<stem>.adverse_events.csv`` (read beside the patients).

    The files are written atomically (see :func:`dossier.atomic.write_files_atomic`): none is
    written when any exists, unless ``overwrite``, and a failure never leaves a half-written
    file. Returns (patients_path, cohorts_path); the events file is :func:`events_path_of`.
    """
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        kind = f"a {path.suffix!r} file" if path.suffix else "a file without suffix"
        raise ValueError(f"{path}: cannot write the demo registry as {kind}; "
                         "use .csv, .xlsx or .parquet")
    cohorts_path = path.with_name(path.stem + ".cohorts.yaml")
    events_path = events_path_of(path)
    check_targets([path, cohorts_path, events_path], overwrite=overwrite)  # before the work
    patients, cohorts = demo_registry(n_patients, seed)
    events = demo_adverse_events(patients, seed)  # own random stream, see its module
    write_files_atomic([(path, writer(patients)),
                        (cohorts_path, _cohorts_yaml(cohorts, n_patients, seed)),
                        (events_path, _csv_bytes(events))],
                       overwrite=overwrite)
    return path, cohorts_path
