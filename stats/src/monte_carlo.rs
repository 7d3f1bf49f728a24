//! The Monte Carlo estimate most A/B tools use, kept as a baseline for benchmarks and as an
//! independent cross-check in tests. Its answers carry sampling noise; the headline numbers
//! never come from here.

use rand::Rng;
use rand_distr::{Beta, Distribution};

use crate::posterior::BetaPosterior;

/// A sampled estimate of P(best) and expected loss.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarloEstimate {
    pub prob_best: Vec<f64>,
    pub expected_loss: Vec<f64>,
    pub draws: usize,
}

/// Draws `draws` joint samples of the rates and counts how often each is the largest, and the
/// average shortfall `max_j p_j - p_i`. Deterministic for a seeded `rng`.
pub fn monte_carlo_best<R: Rng + ?Sized>(
    posteriors: &[BetaPosterior],
    draws: usize,
    rng: &mut R,
) -> MonteCarloEstimate {
    let k = posteriors.len();
    let samplers: Vec<Option<Beta<f64>>> =
        posteriors.iter().map(|p| Beta::new(p.alpha, p.beta).ok()).collect();
    let mut wins = vec![0_usize; k];
    let mut shortfall = vec![0.0; k];
    let mut sample = vec![0.0; k];
    for _ in 0..draws {
        let mut best = 0;
        for i in 0..k {
            sample[i] = samplers[i].as_ref().map_or(posteriors[i].mean(), |s| s.sample(rng));
            if sample[i] > sample[best] {
                best = i;
            }
        }
        wins[best] += 1;
        for i in 0..k {
            shortfall[i] += sample[best] - sample[i];
        }
    }
    let n = draws.max(1) as f64;
    MonteCarloEstimate {
        prob_best: wins.iter().map(|&w| w as f64 / n).collect(),
        expected_loss: shortfall.iter().map(|s| s / n).collect(),
        draws,
    }
}
