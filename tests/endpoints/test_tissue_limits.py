"""The credible limits found by the Newton search on the bisection grid are exactly the limits
plain bisection gives, including limits within one grid step of 0 or 1."""

from __future__ import annotations

import numpy as np
import pytest

from dossier.endpoints import tissue


def _mixtures(x: tuple[int, ...], n: tuple[int, ...]):
    xs, ns = tissue._check_table(x, n)
    m, k, post = tissue._posterior_weights(xs, ns, tissue.PANELS, tissue.NODES)
    for xi, ni in zip(xs, ns, strict=True):
        yield m * k + xi, (1 - m) * k + ni - xi, post


@pytest.mark.parametrize(("x", "n"), [
    ((3, 0, 5), (10, 4, 12)),      # a type with no success: lower limit near 0
    ((5, 5), (5, 5)),              # all successes: upper limit within 2**-32 of 1
    ((0, 0, 0), (3, 4, 5)),
    ((0, 7, 1, 9), (12, 14, 3, 20)),
    ((30, 1), (40, 30)),
    ((1, 0), (1, 1)),
])
def test_limits_equal_bisection(x: tuple[int, ...], n: tuple[int, ...]) -> None:
    for a, b, w in _mixtures(x, n):
        found = tissue._mixture_limits(a, b, w, (0.025, 0.975))
        assert found == [tissue._bisection_quantile(a, b, w, q) for q in (0.025, 0.975)]


def test_limits_equal_bisection_random_tables() -> None:
    rng = np.random.default_rng(20261205)
    for _ in range(4):
        n = tuple(int(v) for v in rng.integers(1, 30, size=int(rng.integers(2, 5))))
        x = tuple(int(rng.integers(0, v + 1)) for v in n)
        for a, b, w in _mixtures(x, n):
            for q in (0.025, 0.975):
                assert tissue._mixture_limits(a, b, w, (q,)) == [
                    tissue._bisection_quantile(a, b, w, q)]
