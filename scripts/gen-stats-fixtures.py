#!/usr/bin/env python3
"""Reference values for vibariant-stats, computed independently of the Rust code.

Small whole-number cases are exact: with integer parameters every Beta density and CDF is a
polynomial, so P(best) and E[max] are integrals of polynomials, done in Python fractions.
Other cases use mpmath quadrature at 20 significant digits, with a different formula for the
expected loss than the Rust code uses (E[max] = sum_i E[p_i 1(i best)], not the integral of
1 - prod F), and mpmath's own incomplete beta. Intervals are solved with mpmath.findroot.

Usage (from the repository root): python3 scripts/gen-stats-fixtures.py
Writes stats/tests/fixtures/{best,intervals,difference}.json. Needs mpmath (pip install mpmath).
"""

import json
import os
from fractions import Fraction
from math import comb

import mpmath as mp

mp.mp.dps = 20
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stats", "tests", "fixtures")


# ---------- exact polynomial arithmetic (coefficient lists, lowest degree first) ----------

def pmul(p, q):
    out = [Fraction(0)] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        if a:
            for j, b in enumerate(q):
                out[i + j] += a * b
    return out


def ppow_one_minus(n):
    # (1 - x)^n
    return [Fraction(comb(n, k) * (-1) ** k) for k in range(n + 1)]


def xpow(n):
    return [Fraction(0)] * n + [Fraction(1)]


def padd(p, q):
    n = max(len(p), len(q))
    return [(p[i] if i < len(p) else 0) + (q[i] if i < len(q) else 0) for i in range(n)]


def beta_fn(a, b):
    # B(a, b) for whole numbers
    return Fraction(_fact(a - 1) * _fact(b - 1), _fact(a + b - 1))


def _fact(n):
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


def pdf_poly(a, b):
    p = pmul(xpow(a - 1), ppow_one_minus(b - 1))
    norm = beta_fn(a, b)
    return [c / norm for c in p]


def cdf_poly(a, b):
    # F(x) = sum_{j=a}^{n} C(n, j) x^j (1 - x)^(n - j), n = a + b - 1
    n = a + b - 1
    out = [Fraction(0)]
    for j in range(a, n + 1):
        out = padd(out, [c * comb(n, j) for c in pmul(xpow(j), ppow_one_minus(n - j))])
    return out


def pint01(p):
    return sum(c / (i + 1) for i, c in enumerate(p))


def exact_best(params):
    cdfs = [cdf_poly(a, b) for a, b in params]
    pdfs = [pdf_poly(a, b) for a, b in params]
    probs, weighted = [], []
    for i in range(len(params)):
        prod = pdfs[i]
        for j in range(len(params)):
            if j != i:
                prod = pmul(prod, cdfs[j])
        probs.append(pint01(prod))
        weighted.append(pint01(pmul(xpow(1), prod)))
    emax = sum(weighted)
    losses = [emax - Fraction(a, a + b) for a, b in params]
    return probs, losses


# ---------- mpmath quadrature ----------

def beta_pdf(a, b):
    lnb = mp.log(mp.beta(a, b))
    def f(x):
        if not 0 < x < 1:
            return mp.mpf(0)
        return mp.exp((a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - lnb)
    return f


def beta_cdf(a, b):
    cache = {}
    mean = a / (a + b)

    def f(x):
        if x <= 0:
            return mp.mpf(0)
        if x >= 1:
            return mp.mpf(1)
        if x not in cache:
            try:
                cache[x] = mp.betainc(a, b, 0, x, regularized=True)
            except ValueError:
                # mpmath's series gives up only far in a tail, where the CDF is 0 or 1 to
                # far more digits than the fixtures keep.
                cache[x] = mp.mpf(0) if x < mean else mp.mpf(1)
        return cache[x]
    return f


def breakpoints(params, width=12):
    pts = {mp.mpf(0), mp.mpf(1)}
    for a, b in params:
        a, b = mp.mpf(a), mp.mpf(b)
        m = a / (a + b)
        s = mp.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        for t in range(-width, width + 1):
            x = m + t * s
            if 0 < x < 1:
                pts.add(x)
    return sorted(pts)


def quad_best(params):
    pdfs = [beta_pdf(mp.mpf(a), mp.mpf(b)) for a, b in params]
    cdfs = [beta_cdf(mp.mpf(a), mp.mpf(b)) for a, b in params]
    pts = breakpoints(params)
    probs, weighted = [], []
    for i in range(len(params)):
        def integrand(x, i=i):
            v = pdfs[i](x)
            if v == 0:
                return v
            for j in range(len(params)):
                if j != i:
                    v *= cdfs[j](x)
            return v
        probs.append(mp.quad(integrand, pts))
        weighted.append(mp.quad(lambda x: x * integrand(x), pts))
    emax = sum(weighted)
    losses = [emax - mp.mpf(a) / (mp.mpf(a) + mp.mpf(b)) for a, b in params]
    return probs, losses


def miller_prob(aa, ba, ab, bb):
    """P(p_b > p_a), summing exp(log term) at 30 digits; ab is a whole number."""
    total = mp.mpf(0)
    for i in range(int(ab)):
        total += mp.exp(mp.log(mp.beta(aa + i, ba + bb)) - mp.log(bb + i)
                        - mp.log(mp.beta(1 + i, bb)) - mp.log(mp.beta(aa, ba)))
    return total


def miller_pair(params):
    mp.mp.dps = 30
    (aa, ba), (ab, bb) = [(mp.mpf(x), mp.mpf(y)) for x, y in params]
    p_b = miller_prob(aa, ba, ab, bb)
    mean_a, mean_b = aa / (aa + ba), ab / (ab + bb)
    loss_a = mean_b * miller_prob(aa, ba, ab + 1, bb) - mean_a * miller_prob(aa + 1, ba, ab, bb)
    loss_b = loss_a - (mean_b - mean_a)
    mp.mp.dps = 20
    return [1 - p_b, p_b], [loss_a, loss_b]


def interval_case(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    cdf = beta_cdf(a, b)
    pdf = beta_pdf(a, b)
    m = a / (a + b)

    def quantile(q):
        lo, hi = mp.mpf(0), mp.mpf(1)
        for _ in range(120):
            mid = (lo + hi) / 2
            if cdf(mid) < q:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    et = (quantile(mp.mpf("0.025")), quantile(mp.mpf("0.975")))
    # HDI: bisect on the lower tail mass t in (0, 0.05) for equal densities at the ends.
    lo, hi = mp.mpf(0), mp.mpf("0.05")
    for _ in range(60):
        t = (lo + hi) / 2
        left, right = quantile(t), quantile(t + mp.mpf("0.95"))
        if pdf(left) < pdf(right):
            lo = t
        else:
            hi = t
    t = (lo + hi) / 2
    hdi = (quantile(t), quantile(t + mp.mpf("0.95")))
    return {"alpha": float(a), "beta": float(b), "mean": float(m),
            "equal_tailed_95": [float(et[0]), float(et[1])],
            "hdi_95": [float(hdi[0]), float(hdi[1])]}


def difference_case(pa, pb):
    """95% HDI of p_b - p_a."""
    (aa, ba), (ab, bb) = [(mp.mpf(x), mp.mpf(y)) for x, y in (pa, pb)]
    fa, fb, Fb = beta_pdf(aa, ba), beta_pdf(ab, bb), beta_cdf(ab, bb)
    pts = breakpoints([pa])

    def dens(t):
        return mp.quad(lambda x: fa(x) * fb(x + t), pts)

    def dist(t):
        return mp.quad(lambda x: fa(x) * Fb(x + t), pts)

    mean = ab / (ab + bb) - aa / (aa + ba)
    def var(a, b):
        return a * b / ((a + b) ** 2 * (a + b + 1))
    sd = mp.sqrt(var(aa, ba) + var(ab, bb))

    # The HDI's ends have equal density and hold 95% between them. For a lower end `l`, the
    # upper end is the root of dens(u) = dens(l) right of the mean; then `l` is the root of
    # mass(l) = 0.95. Bracketed root-finding (Illinois) needs a few dozen integrals where
    # bisection needed thousands.
    def upper_for(level):
        return mp.findroot(lambda u: dens(u) - level, (mean, mean + 8 * sd),
                           solver="illinois", tol=1e-20, verify=False)

    def mass_minus(l):
        return dist(upper_for(dens(l))) - dist(l) - mp.mpf("0.95")

    l = mp.findroot(mass_minus, (mean - 6 * sd, mean - sd / 2), solver="illinois", tol=1e-20,
                    verify=False)
    u = upper_for(dens(l))
    return {"control": [float(aa), float(ba)], "variant": [float(ab), float(bb)],
            "hdi_95": [float(l), float(u)], "prob_variant_better": float(1 - dist(0))}


def main():
    os.makedirs(OUT, exist_ok=True)
    best = []
    exact_cases = [
        ("uniform_vs_triangular", [(1, 1), (2, 1)]),
        ("default_prior_one_vs_none", [(2, 118), (1, 119)]),
        ("small_pair", [(4, 20), (7, 18)]),
        ("three_small", [(3, 30), (5, 28), (4, 31)]),
        ("ten_small", [(1 + k % 4, 8 + (3 * k) % 7) for k in range(10)]),
    ]
    for name, params in exact_cases:
        probs, losses = exact_best(params)
        best.append({
            "name": name, "method": "exact_fractions", "posteriors": [list(p) for p in params],
            "prob_best": [float(p) for p in probs], "expected_loss": [float(x) for x in losses],
        })
        print(name, flush=True)
    quad_cases = [
        ("fractional_pair", [(2.7, 40.3), (4.1, 38.9)]),
        ("fractional_three", [(3.5, 60.5), (6.25, 57.75), (4.0, 61.5)]),
        ("sub_one_shape", [(0.5, 30.5), (1.5, 29.5)]),
        ("ten_moderate", [(30 + 2 * k, 970 - 2 * k) for k in range(10)]),
    ]
    for name, params in quad_cases:
        probs, losses = quad_best(params)
        best.append({
            "name": name, "method": "mpmath_quad", "posteriors": [list(p) for p in params],
            "prob_best": [float(p) for p in probs], "expected_loss": [float(x) for x in losses],
        })
        print(name, [float(p) for p in probs], flush=True)
    # Large counts: mpmath's incomplete beta gives up far in the tails there, so these use
    # Evan Miller's and Stucchio's sums evaluated term by term at 30 digits instead.
    for name, params in [("large_pair_100k", [(3001, 97019), (3101, 96919)]),
                         ("large_close_pair", [(12001, 388019), (12051, 387969)])]:
        probs, losses = miller_pair(params)
        best.append({
            "name": name, "method": "mpmath_evan_miller", "posteriors": [list(p) for p in params],
            "prob_best": [float(p) for p in probs], "expected_loss": [float(x) for x in losses],
        })
        print(name, [float(p) for p in probs], flush=True)
    with open(os.path.join(OUT, "best.json"), "w") as fh:
        json.dump({"generator": "scripts/gen-stats-fixtures.py", "cases": best}, fh, indent=1)

    interval_cases = [(3, 47), (1, 19), (12.5, 300.25), (301, 9719), (0.5, 20.5)]
    intervals = [interval_case(a, b) for a, b in interval_cases]
    with open(os.path.join(OUT, "intervals.json"), "w") as fh:
        json.dump({"generator": "scripts/gen-stats-fixtures.py", "cases": intervals}, fh, indent=1)

    diffs = [difference_case(a, b) for a, b in [((4, 116), (9, 111)), ((31, 989), (45, 975))]]
    with open(os.path.join(OUT, "difference.json"), "w") as fh:
        json.dump({"generator": "scripts/gen-stats-fixtures.py", "cases": diffs}, fh, indent=1)


if __name__ == "__main__":
    main()
