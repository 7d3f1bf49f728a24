//! Properties every answer must have, checked on seeded random experiments, plus the
//! Monte Carlo cross-check and large-count stability.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vibariant_stats::{
    BetaPosterior, ComputationMethod, best_arm, best_arm_quadrature, monte_carlo_best,
};

fn random_posteriors(rng: &mut StdRng, k: usize) -> Vec<BetaPosterior> {
    let visitors = rng.gen_range(0..5000u64);
    (0..k)
        .map(|_| {
            let rate = rng.gen_range(0.01..0.2);
            let n = visitors + rng.gen_range(0..200u64);
            let c = ((n as f64) * rate).round() as u64;
            BetaPosterior::update(1.0, 19.0, n, c.min(n))
        })
        .collect()
}

#[test]
fn probabilities_of_being_best_sum_to_one() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..60 {
        let k = rng.gen_range(2..=10);
        let best = best_arm(&random_posteriors(&mut rng, k));
        let total: f64 = best.prob_best.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert!(best.prob_best.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(best.expected_loss.iter().all(|l| *l >= 0.0 && l.is_finite()));
    }
}

#[test]
fn loss_differences_equal_mean_differences() {
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..60 {
        let k = rng.gen_range(2..=10);
        let posteriors = random_posteriors(&mut rng, k);
        let best = best_arm(&posteriors);
        for i in 0..k {
            for j in 0..k {
                let lhs = best.expected_loss[i] - best.expected_loss[j];
                let rhs = posteriors[j].mean() - posteriors[i].mean();
                assert!((lhs - rhs).abs() < 1e-9, "{i} {j}: {lhs} vs {rhs}");
            }
        }
    }
}

#[test]
fn relabelling_permutes_the_answer() {
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..30 {
        let k = rng.gen_range(2..=6);
        let posteriors = random_posteriors(&mut rng, k);
        let reversed: Vec<_> = posteriors.iter().rev().copied().collect();
        let (a, b) = (best_arm(&posteriors), best_arm(&reversed));
        for i in 0..k {
            assert!((a.prob_best[i] - b.prob_best[k - 1 - i]).abs() < 1e-9);
            assert!((a.expected_loss[i] - b.expected_loss[k - 1 - i]).abs() < 1e-9);
        }
    }
}

#[test]
fn one_more_conversion_raises_prob_best() {
    let mut rng = StdRng::seed_from_u64(4);
    for _ in 0..30 {
        let k = rng.gen_range(2..=5);
        let posteriors = random_posteriors(&mut rng, k);
        let before = best_arm(&posteriors);
        let mut better = posteriors.clone();
        // A failure turned into a conversion: same visitors, one more success.
        better[0].alpha += 1.0;
        better[0].beta -= 1.0;
        if better[0].beta <= 0.0 {
            continue;
        }
        let after = best_arm(&better);
        assert!(after.prob_best[0] >= before.prob_best[0] - 1e-12);
        assert!(after.expected_loss[0] <= before.expected_loss[0] + 1e-12);
    }
}

#[test]
fn closed_form_and_quadrature_agree_on_whole_numbers() {
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..40 {
        let posteriors = random_posteriors(&mut rng, 2);
        let closed = best_arm(&posteriors);
        assert_eq!(closed.method, ComputationMethod::ClosedForm);
        let quad = best_arm_quadrature(&posteriors);
        for i in 0..2 {
            assert!((closed.prob_best[i] - quad.prob_best[i]).abs() < 1e-9, "{posteriors:?}");
            assert!((closed.expected_loss[i] - quad.expected_loss[i]).abs() < 1e-9);
        }
    }
}

#[test]
fn large_counts_stay_finite_and_exact() {
    for visitors in [100_000u64, 1_000_000, 10_000_000] {
        let a = BetaPosterior::update(1.0, 19.0, visitors, visitors * 3 / 100);
        let b = BetaPosterior::update(1.0, 19.0, visitors, visitors * 3 / 100 + visitors / 5000);
        let c = BetaPosterior::update(1.0, 19.0, visitors, visitors * 3 / 100 - visitors / 7000);
        let pair = best_arm(&[a, b]);
        let pair_quad = best_arm_quadrature(&[a, b]);
        let three = best_arm(&[a, b, c]);
        for r in [&pair, &pair_quad, &three] {
            assert!(r.prob_best.iter().chain(&r.expected_loss).all(|v| v.is_finite()));
            assert!((r.prob_best.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        for i in 0..2 {
            assert!((pair.prob_best[i] - pair_quad.prob_best[i]).abs() < 1e-8, "{visitors}");
            assert!((pair.expected_loss[i] - pair_quad.expected_loss[i]).abs() < 1e-9);
        }
    }
}

#[test]
fn monte_carlo_agrees_within_its_standard_error() {
    let posteriors = [
        BetaPosterior::update(1.0, 19.0, 400, 14),
        BetaPosterior::update(1.0, 19.0, 400, 19),
        BetaPosterior::update(1.0, 19.0, 400, 17),
    ];
    let exact = best_arm(&posteriors);
    let draws = 200_000;
    let mc = monte_carlo_best(&posteriors, draws, &mut StdRng::seed_from_u64(11));
    for i in 0..3 {
        let p = exact.prob_best[i];
        let se = (p * (1.0 - p) / draws as f64).sqrt();
        assert!((mc.prob_best[i] - p).abs() < 5.0 * se, "{i}: {} vs {p}", mc.prob_best[i]);
        // The loss per draw is bounded by the spread of the rates; 5e-4 is about five
        // standard errors at this size.
        assert!((mc.expected_loss[i] - exact.expected_loss[i]).abs() < 5e-4);
    }
}

#[test]
fn same_input_same_output() {
    let mut rng = StdRng::seed_from_u64(6);
    let posteriors = random_posteriors(&mut rng, 7);
    assert_eq!(best_arm(&posteriors), best_arm(&posteriors));
}
