//! Statistical properties of assignment over 100 000 visitors: each variant's share matches
//! its weight (chi-square goodness of fit), and two experiments assign independently
//! (chi-square test of independence).
//!
//! The visitors are fixed (`visitor-0` … `visitor-99999`), so the tests are deterministic: they
//! fail only if the hash or the range rule is biased. Critical values are for p = 0.001, so a
//! fair hash passes with room to spare and a biased one cannot hide.

use vibariant_core::assign;

const VISITORS: usize = 100_000;

/// Chi-square critical values at p = 0.001, indexed by degrees of freedom.
const CRITICAL_0_001: [f64; 7] = [f64::NAN, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458];

fn visitor(n: usize) -> String {
    format!("visitor-{n}")
}

fn chi_square(observed: &[u64], expected: &[f64]) -> f64 {
    observed.iter().zip(expected).map(|(o, e)| (*o as f64 - e).powi(2) / e).sum()
}

fn assert_shares_match(experiment: &str, weights: &[f64], coverage: f64) {
    let mut counts = vec![0u64; weights.len() + 1];
    for n in 0..VISITORS {
        let index = assign(&visitor(n), experiment, weights, coverage).unwrap();
        counts[index.unwrap_or(weights.len())] += 1;
    }
    let mut expected: Vec<f64> = weights.iter().map(|w| w * coverage * VISITORS as f64).collect();
    expected.push((1.0 - coverage) * VISITORS as f64);
    // A zero expectation (full coverage) is a cell the test must not divide by; its count must
    // be exactly zero instead.
    let (mut observed_cells, mut expected_cells) = (Vec::new(), Vec::new());
    for (o, e) in counts.iter().zip(&expected) {
        if *e == 0.0 {
            assert_eq!(*o, 0, "{experiment}: visitors in a cell of weight zero");
        } else {
            observed_cells.push(*o);
            expected_cells.push(*e);
        }
    }
    let statistic = chi_square(&observed_cells, &expected_cells);
    let critical = CRITICAL_0_001[observed_cells.len() - 1];
    assert!(
        statistic < critical,
        "{experiment}: chi-square {statistic:.2} >= {critical} for counts {counts:?}"
    );
}

#[test]
fn shares_follow_the_weights() {
    assert_shares_match("hero-cta", &[0.5, 0.5], 1.0);
    assert_shares_match("pricing", &[0.2, 0.3, 0.5], 1.0);
    assert_shares_match("onboarding", &[0.1, 0.1, 0.1, 0.7], 1.0);
    assert_shares_match("checkout", &[0.5, 0.5], 0.3);
    assert_shares_match("über-test", &[0.25, 0.25, 0.25, 0.25], 0.8);
}

#[test]
fn two_experiments_assign_independently() {
    // A 2 x 3 contingency table of (variant in A, variant in B) over the same visitors.
    let (weights_a, weights_b) = ([0.5, 0.5], [0.2, 0.3, 0.5]);
    let mut table = [[0u64; 3]; 2];
    for n in 0..VISITORS {
        let id = visitor(n);
        let a = assign(&id, "hero-cta", &weights_a, 1.0).unwrap().unwrap();
        let b = assign(&id, "pricing", &weights_b, 1.0).unwrap().unwrap();
        table[a][b] += 1;
    }
    let rows: Vec<u64> = table.iter().map(|row| row.iter().sum()).collect();
    let columns: Vec<u64> = (0..3).map(|b| table.iter().map(|row| row[b]).sum()).collect();
    let total = VISITORS as f64;
    let mut statistic = 0.0;
    for (a, row) in table.iter().enumerate() {
        for (b, observed) in row.iter().enumerate() {
            let expected = rows[a] as f64 * columns[b] as f64 / total;
            statistic += (*observed as f64 - expected).powi(2) / expected;
        }
    }
    // (rows - 1) * (columns - 1) = 1 * 2 degrees of freedom.
    let critical = CRITICAL_0_001[2];
    assert!(statistic < critical, "chi-square {statistic:.2} >= {critical}: {table:?}");
}

#[test]
fn a_biased_assignment_would_fail_the_test() {
    // Guards the test itself: counts skewed by one percentage point over 100 000 visitors
    // must exceed the critical value, or the bound above would be too loose to mean anything.
    let observed = [51_000, 49_000];
    let statistic = chi_square(&observed, &[50_000.0, 50_000.0]);
    assert!(statistic > CRITICAL_0_001[1], "{statistic}");
}
