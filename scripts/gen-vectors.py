#!/usr/bin/env python3
"""Writes sdk-core/tests/vectors/assignment.json: assignment test vectors for every runtime.

This is an independent implementation of the rule in sdk-core/src/assignment.rs (plain
Python 3, standard library only), so the vectors check the Rust code rather than echo it:
  bucket  = FNV-1a 64 over UTF-8 "visitor_id:experiment_key", mod 10 000;
  variant i owns [round(cum_i * 10000), round((cum_i + w_i * coverage) * 10000)),
  cum_i the left-to-right running sum of the weights before i, round = half up;
  forced, then sticky (variant names; unknown names are ignored), then hashed.
The Rust tests (sdk-core/tests/vectors.rs) and the WebAssembly test under Node
(sdk-core/tests/wasm/vectors.test.mjs) check every case. Run: python3 scripts/gen-vectors.py
"""

import json
import math
import pathlib
import random

BUCKETS = 10_000
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
TOLERANCE = 1e-6
OUT = pathlib.Path(__file__).resolve().parent.parent / "sdk-core/tests/vectors/assignment.json"


def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for byte in data:
        h ^= byte
        h = (h * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def bucket(visitor: str, experiment: str) -> int:
    return fnv1a64(f"{visitor}:{experiment}".encode("utf-8")) % BUCKETS


def round_half_up(value: float) -> int:
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def error_kind(visitor, experiment, weights, coverage):
    if visitor == "":
        return "empty_visitor_id"
    if experiment == "":
        return "empty_experiment_key"
    if not weights:
        return "no_variants"
    if any(not math.isfinite(w) or w < 0 for w in weights):
        return "invalid_weight"
    total = 0.0
    for w in weights:  # left to right, as Rust does (Python 3.12's sum() compensates)
        total += w
    if abs(total - 1.0) > TOLERANCE:
        return "weights_do_not_sum_to_one"
    if not (0.0 <= coverage <= 1.0):
        return "coverage_out_of_range"
    return None


def hashed_variant(b, weights, coverage):
    cumulative = 0.0
    for index, weight in enumerate(weights):
        start = round_half_up(cumulative * BUCKETS)
        end = round_half_up((cumulative + weight * coverage) * BUCKETS)
        if start <= b < end:
            return index
        cumulative += weight
    return None


def expected(case):
    variants, weights = case["variants"], case["weights"]
    kind = error_kind(case["visitor"], case["experiment"], weights, case["coverage"])
    if kind:
        return {"error": kind}
    b = bucket(case["visitor"], case["experiment"])
    for source in ("forced", "sticky"):
        name = case[source]
        if name is not None and name in variants:
            return {"bucket": b, "variant": name, "source": source}
    index = hashed_variant(b, weights, case["coverage"])
    if index is None:
        return {"bucket": b, "variant": None, "source": "not_in_experiment"}
    return {"bucket": b, "variant": variants[index], "source": "hashed"}


def number(x):
    """JSON has no NaN or infinities: they travel as strings the tests turn back into floats."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


NAMES = ["control", "bold", "calm", "loud", "minimal"]
WEIGHTS = [
    [0.5, 0.5],
    [0.2, 0.3, 0.5],
    [1 / 3, 1 / 3, 1 / 3],
    [0.1, 0.9],
    [0.25, 0.25, 0.25, 0.25],
    [1.0],
    [0.0, 1.0],
    [0.7, 0.0, 0.3],
    [0.05, 0.15, 0.8],
    [0.45, 0.55],
    [0.2, 0.2, 0.2, 0.2, 0.2],
]
COVERAGES = [1.0, 1.0, 1.0, 0.5, 0.33, 0.1, 0.999, 0.0, 0.75]
EXPERIMENTS = ["hero-cta", "pricing", "checkout-flow", "über-test", "onboarding_v2", "価格"]
VISITORS_FIXED = [
    "visiteur-é", "访客-1", "🙂-visitor", "Ørsted", "ñandú", "Привет", "a", "0", "a:b",
    "visitor with spaces", "x" * 128, "\u00e9t\u00e9", "e\u0301te\u0301",
]


def make_cases():
    rng = random.Random(20241203)  # fixed seed: the file is reproducible
    cases = []

    def add(visitor, experiment, n_or_weights, coverage, forced=None, sticky=None, note=None):
        weights = n_or_weights
        variants = NAMES[: len(weights)] if weights else []
        case = {
            "visitor": visitor,
            "experiment": experiment,
            "variants": variants,
            "weights": weights,
            "coverage": coverage,
            "forced": forced,
            "sticky": sticky,
        }
        if note:
            case["note"] = note
        cases.append(case)

    # Hashed assignment over many visitors, weights and coverages.
    for n in range(180):
        visitor = "%08x-%04x-4%03x-%04x-%012x" % (
            rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
            rng.getrandbits(16), rng.getrandbits(48))
        add(visitor, EXPERIMENTS[n % len(EXPERIMENTS)], WEIGHTS[n % len(WEIGHTS)],
            COVERAGES[n % len(COVERAGES)])
    # Non-ASCII and odd visitor ids.
    for n, visitor in enumerate(VISITORS_FIXED):
        add(visitor, EXPERIMENTS[n % len(EXPERIMENTS)], WEIGHTS[n % len(WEIGHTS)],
            COVERAGES[n % 4], note="non-ASCII or odd visitor id")
    # Forced and sticky overrides, including names the experiment does not have.
    for n in range(24):
        visitor = "override-%d" % n
        weights = WEIGHTS[n % 3]
        names = NAMES[: len(weights)]
        forced = [None, names[-1], "nonexistent"][n % 3]
        sticky = [names[0], None, names[-1], "removed-variant"][n % 4]
        add(visitor, "hero-cta", weights, [1.0, 0.0, 0.5][n % 3], forced, sticky,
            note="overrides")
    # Range edges: visitors whose bucket sits on a boundary of [0.5, 0.5] at coverage 1 or 0.5.
    wanted = {0, 2499, 2500, 4999, 5000, 5001, 9999}
    n = 0
    while wanted:
        visitor = "edge-%d" % n
        b = bucket(visitor, "edges")
        if b in wanted:
            wanted.discard(b)
            add(visitor, "edges", [0.5, 0.5], 1.0, note="bucket %d" % b)
            add(visitor, "edges", [0.5, 0.5], 0.5, note="bucket %d" % b)
        n += 1
    # Invalid input: each gets an error kind, never a panic.
    nan, inf = float("nan"), float("inf")
    add("", "hero-cta", [0.5, 0.5], 1.0, note="empty visitor")
    add("v", "", [0.5, 0.5], 1.0, note="empty experiment")
    add("v", "hero-cta", [], 1.0, note="no variants")
    add("v", "hero-cta", [1.5, -0.5], 1.0, note="negative weight")
    add("v", "hero-cta", [nan, 1.0], 1.0, note="NaN weight")
    add("v", "hero-cta", [inf, 0.0], 1.0, note="infinite weight")
    add("v", "hero-cta", [0.5, 0.4], 1.0, note="weights sum to 0.9")
    add("v", "hero-cta", [0.6, 0.6], 1.0, note="weights sum to 1.2")
    add("v", "hero-cta", [0.333, 0.333, 0.333], 1.0, note="sum 0.999, outside tolerance")
    add("v", "hero-cta", [0.5, 0.5], 1.5, note="coverage above 1")
    add("v", "hero-cta", [0.5, 0.5], -0.1, note="coverage below 0")
    add("v", "hero-cta", [0.5, 0.5], nan, note="NaN coverage")
    add("", "", [], nan, note="everything wrong: the first check wins")
    add("v", "hero-cta", [0.5, 0.5], 1.0, forced="control", note="forced cannot hide valid")
    add("v", "hero-cta", [0.5, 0.6], 1.0, forced="control", note="forced does not hide errors")

    for case in cases:
        case["expected"] = expected(case)
        case["weights"] = [number(w) for w in case["weights"]]
        case["coverage"] = number(case["coverage"])
    return cases


def main():
    cases = make_cases()
    document = {
        "about": "Assignment vectors generated by scripts/gen-vectors.py; do not edit by hand. "
        "Weights and coverage may be the strings NaN, Infinity, -Infinity. forced and sticky "
        "are variant names (unknown names are ignored). expected is either "
        "{bucket, variant (null when not in the experiment), source} or {error: kind}.",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # One case per line keeps the file reviewable and its diffs small.
    dump = lambda value: json.dumps(value, ensure_ascii=False, allow_nan=False)
    lines = ",\n  ".join(dump(case) for case in cases)
    text = '{\n "about": %s,\n "cases": [\n  %s\n ]\n}\n' % (dump(document["about"]), lines)
    json.loads(text)  # the hand-built layout must still be valid JSON
    OUT.write_text(text, encoding="utf-8")
    errors = sum("error" in c["expected"] for c in cases)
    print(f"wrote {len(cases)} cases ({errors} invalid inputs) to {OUT.relative_to(OUT.parents[3])}")


if __name__ == "__main__":
    main()
