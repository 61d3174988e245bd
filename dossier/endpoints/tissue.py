"""Whether tissue matters inside a basket: one drug x alteration tested in several tumour types.

Two answers per basket and rate (clinical benefit, objective response):

* an exact test of heterogeneity on the k x 2 table (successes / failures per tumour type):
  the Fisher-Freeman-Halton test, which conditions on both margins and sums the probabilities
  of every table no more probable than the one observed (:func:`exact_heterogeneity_test`; the
  same p-value as R's ``fisher.test``);
* a hierarchical estimate per tumour type that borrows strength across the basket
  (:func:`hierarchical_rates`). The model: the true rate of tumour type i is
  p_i ~ Beta(m k, (1 - m) k), x_i ~ Binomial(n_i, p_i), with the basket's mean rate m and the
  intra-class correlation rho = 1 / (1 + k) (the share of the variance that lies between
  tumour types: 0 = tissue does not matter, 1 = types unrelated), both with uniform priors on
  (0, 1). Given (m, rho) each p_i has the conjugate posterior Beta(m k + x_i, (1 - m) k + n_i -
  x_i), and the type's likelihood is beta-binomial in closed form; (m, rho) are integrated out
  by a fixed tensor Gauss-Legendre rule (composite, :data:`PANELS` x :data:`NODES` points on
  each axis). Deterministic: no sampling. The amount of shrinkage of type i is the posterior
  mean of k / (k + n_i), the weight its estimate gives to the basket's mean rather than to its
  own patients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln, logit, ndtri, polygamma

__all__ = [
    "HierarchicalFit",
    "TypeEstimate",
    "exact_heterogeneity_test",
    "hierarchical_rates",
    "quadrature_grid",
]

P_TOLERANCE = 1e-7
"""Tables whose probability is within this (relative) of the observed one count as no more
probable, as R's fisher.test does."""

MAX_TABLES = 20_000_000
"""Above this many tables with the observed margins the exact test is not attempted."""

PANELS, NODES = 8, 12
"""Composite Gauss-Legendre rule: PANELS equal panels of NODES points on (0, 1), per axis."""

LEVEL = 0.95
NEGLIGIBLE_MASS = 1e-10
"""The interval search drops the least probable quadrature points that together hold at most
this much posterior mass (they cannot move a 2.5% quantile by more than that)."""

BISECTIONS = 32
"""Bisection steps for a credible limit: an interval of 2**-32, far below the digits shown."""


def _check_table(x: Sequence[int], n: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    xs, ns = np.asarray(x), np.asarray(n)
    if xs.shape != ns.shape or xs.ndim != 1 or len(xs) < 2:
        raise ValueError("give successes and patients of at least two tumour types, "
                         "in two lists of the same length")
    if not (np.issubdtype(xs.dtype, np.integer) and np.issubdtype(ns.dtype, np.integer)):
        raise ValueError("successes and patients must be whole numbers")
    if (xs < 0).any() or (xs > ns).any():
        raise ValueError("each tumour type needs 0 <= successes <= patients")
    return xs.astype(np.int64), ns.astype(np.int64)


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def exact_heterogeneity_test(x: Sequence[int], n: Sequence[int]) -> float | None:
    """The Fisher-Freeman-Halton exact p-value that the rate is the same in every tumour type.

    Every table with the observed margins (patients per type, successes in all) is enumerated;
    its probability is multivariate hypergeometric. None when there are more than
    :data:`MAX_TABLES` such tables, or when some type has no patients.
    """
    xs, ns = _check_table(x, n)
    if (ns == 0).any():
        return None
    total = int(xs.sum())
    if float(np.prod([min(int(k), total) + 1 for k in ns], dtype=float)) > MAX_TABLES:
        return None
    observed = float(_log_choose(ns, xs).sum())
    # partial tables: successes so far -> log weights of every way to reach them
    sums, logs = np.zeros(1, np.int64), np.zeros(1)
    for size in ns:
        take = np.arange(int(size) + 1)
        sums = (sums[:, None] + take[None, :]).ravel()
        logs = (logs[:, None] + _log_choose(np.full(len(take), size), take)[None, :]).ravel()
        keep = sums <= total
        sums, logs = sums[keep], logs[keep]
    logs = logs[sums == total]
    denominator = float(_log_choose(np.array(ns.sum()), np.array(total)))
    probabilities = np.exp(logs - denominator)
    bound = np.exp(observed - denominator) * (1 + P_TOLERANCE)
    return float(min(1.0, probabilities[probabilities <= bound].sum()))


def quadrature_grid(panels: int = PANELS, nodes: int = NODES) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on (0, 1)."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    edges = np.linspace(0.0, 1.0, panels + 1)
    half = np.diff(edges) / 2
    points = (edges[:-1, None] + half[:, None] * (t[None, :] + 1)).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    return points, weights


@dataclass(frozen=True)
class TypeEstimate:
    """One tumour type: observed rate and its hierarchical estimate with 95% credible limits."""

    x: int
    n: int
    observed: float
    mean: float
    lower: float
    upper: float
    shrinkage: float
    """Posterior mean of k / (k + n): the weight given to the basket's mean rate."""

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON and the workbook."""
        return {"x": self.x, "n": self.n, "observed": self.observed, "mean": self.mean,
                "lower": self.lower, "upper": self.upper, "shrinkage": self.shrinkage}


@dataclass(frozen=True)
class HierarchicalFit:
    """The basket's hierarchical estimates: per type, plus the mean rate and the between-type
    share of variance."""

    types: tuple[TypeEstimate, ...]
    basket_mean: float
    rho_mean: float
    method: str


def _posterior_weights(xs: np.ndarray, ns: np.ndarray, panels: int, nodes: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points, weights = quadrature_grid(panels, nodes)
    m, rho = np.meshgrid(points, points, indexing="ij")
    m, rho = m.ravel(), rho.ravel()
    w = np.outer(weights, weights).ravel()
    k = (1 - rho) / rho
    a, b = m * k, (1 - m) * k
    log_like = np.zeros_like(m)
    for xi, ni in zip(xs, ns, strict=True):
        log_like += betaln(a + xi, b + ni - xi) - betaln(a, b)
    log_post = np.log(w) + log_like
    post = np.exp(log_post - log_post.max())
    post /= post.sum()
    return m, k, post


def _mixture_cdf(a: np.ndarray, b: np.ndarray, w: np.ndarray, x: float) -> float:
    return float(np.dot(w, betainc(a, b, x)))


def _bisection_quantile(a: np.ndarray, b: np.ndarray, w: np.ndarray, q: float) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        if _mixture_cdf(a, b, w, mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _middle(low: int, high: int, scale: int) -> int:
    """A grid point inside (low, high), halfway on the log-odds scale (a limit may lie within
    2**-32 of 0 or 1), else halfway."""
    if high - low <= 2:
        return low + 1
    ends = (max(low, 0.5) / scale, min(high, scale - 0.5) / scale)
    point = int(np.floor(float(expit((logit(ends[0]) + logit(ends[1])) / 2)) * scale))
    return point if low < point < high else (low + high) // 2


def _mixture_limits(a: np.ndarray, b: np.ndarray, w: np.ndarray,
                    quantiles: Sequence[float]) -> list[float]:
    """The quantiles of the mixture sum(w Beta(a, b)) that :data:`BISECTIONS` bisection
    steps on (0, 1) give (:func:`_bisection_quantile`), found in a few steps.

    Bisection ends on the cell [j, j + 1] / 2**BISECTIONS whose left end has CDF < q and right
    end not (0 and 1 count as such without being computed); the CDF being increasing, that
    cell is unique, so a safeguarded Halley search over the same grid points (start: a normal
    approximation of the mixture's log-odds) ends on it too, comparing the very same CDF
    values, in about five CDF evaluations instead of 32. Each costs one incomplete beta
    function per quadrature point: this was most of the time of a build's baskets.
    """
    log_beta = betaln(a, b)
    centres = digamma(a) - digamma(b)
    centre = float(np.dot(w, centres))
    spread = float(np.dot(w, polygamma(1, a) + polygamma(1, b) + centres ** 2)) - centre ** 2
    starts = [float(expit(centre + float(ndtri(q)) * max(spread, 0.0) ** 0.5))
              for q in quantiles]
    return [_grid_newton(a, b, w, q, start, log_beta)
            for q, start in zip(quantiles, starts, strict=True)]


def _grid_newton(a: np.ndarray, b: np.ndarray, w: np.ndarray, q: float, start: float,
                 log_beta: np.ndarray) -> float:
    scale = 2 ** BISECTIONS
    low, high = 0, scale  # known: CDF(low / scale) < q (or low = 0), CDF(high / scale) >= q
    j, last_step = int(min(max(start, 0.0), 1.0) * scale), scale
    for _ in range(4 * BISECTIONS):  # far more than needed; the bisection below if not done
        if not low < j < high:
            j = _middle(low, high, scale)
        x = j / scale
        cdf = _mixture_cdf(a, b, w, x)
        if cdf < q:
            low = j
        else:
            high = j
        if high - low <= 1:
            return (low / scale + high / scale) / 2
        with np.errstate(all="ignore"):
            parts = w * np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - log_beta)
            density = float(parts.sum())
            slope = float(np.dot(parts, (a - 1) / x - (b - 1) / (1 - x)))
            newton = (cdf - q) / density if density > 0 else float("nan")
            halley = 1 - newton * slope / (2 * density) if density > 0 else float("nan")
            # Halley's step (cubic convergence) where it is sane, else Newton's
            target = x - (newton / halley if 0.5 < halley < 2 else newton)
        # that step on the grid; bisection when it leaves the bracket or does not halve
        proposal = int(np.floor(target * scale)) if np.isfinite(target) else low
        step = abs(proposal - j)
        if proposal == low:
            proposal = low + 1
        if not low < proposal < high or (step > 1 and 2 * step > last_step):
            proposal = _middle(low, high, scale)
            step = min(proposal - low, high - proposal)
        j, last_step = proposal, step
    return _bisection_quantile(a, b, w, q)


def hierarchical_rates(x: Sequence[int], n: Sequence[int], *, panels: int = PANELS,
                       nodes: int = NODES, level: float = LEVEL) -> HierarchicalFit:
    """Posterior mean, equal-tailed credible interval and shrinkage of each type's rate.

    The model and the quadrature are in this module's docstring; the interval limits solve
    the posterior mixture's CDF (a weighted sum of regularised incomplete beta functions) to
    the 2**-32 of :data:`BISECTIONS` bisection steps (found by a Halley search on that grid).
    """
    xs, ns = _check_table(x, n)
    m, k, post = _posterior_weights(xs, ns, panels, nodes)
    order = np.argsort(post, kind="stable")
    keep = order[np.cumsum(post[order]) > NEGLIGIBLE_MASS]
    mk, kk, wk = m[keep], k[keep], post[keep] / post[keep].sum()
    tail = (1 - level) / 2
    types = []
    for xi, ni in zip(xs, ns, strict=True):
        a, b = mk * kk + xi, (1 - mk) * kk + ni - xi
        mean = float(np.dot(post, (m * k + xi) / (k + ni)))
        lower, upper = _mixture_limits(a, b, wk, (tail, 1 - tail))
        types.append(TypeEstimate(
            int(xi), int(ni), float(xi / ni) if ni else float("nan"), mean, lower, upper,
            float(np.dot(post, k / (k + ni)))))
    rho = 1 / (1 + k)
    method = ("beta-binomial random-effects model: rate of each tumour type ~ Beta with the "
              "basket's mean rate and intra-class correlation (share of variance between tumour "
              "types), both uniform on (0, 1); integrated by a "
              f"{panels * nodes} x {panels * nodes}-point Gauss-Legendre rule")
    return HierarchicalFit(tuple(types), float(np.dot(post, m)), float(np.dot(post, rho)),
                           method)
