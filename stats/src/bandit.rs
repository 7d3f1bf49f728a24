//! Traffic weights for the next visitors: Top-Two Thompson Sampling or plain Thompson
//! Sampling, computed exactly from P(best) instead of by drawing.
//!
//! Top-two sampling draws rates from the posteriors and takes the best arm `I`; with
//! probability `beta` it plays `I`, otherwise it redraws until a different arm `J` comes out on
//! top and plays `J`. Redrawing until the best differs from `j` makes `J = i` with probability
//! `P_i / (1 - P_j)`, so the probability of playing arm `i` is
//!
//! `pi_i = beta P_i + (1 - beta) sum_{j != i} P_j P_i / (1 - P_j)
//!       = P_i (beta + (1 - beta) sum_{j != i} P_j / (1 - P_j))`.
//!
//! With two arms, `pi_1 = beta P_1 + (1 - beta) P_2 = 1/2` whenever `beta = 1/2`, whatever the
//! data: top-two with two arms is a 50/50 split. That is by design (it keeps measuring the
//! runner-up, which is what identifies the winner fastest); "plain Thompson" mode (`pi_i = P_i`)
//! is the "earn more while testing" choice. Either way an additive floor `f` per arm keeps
//! every variant measured: `w_i = (pi_i + f) / (1 + k f)`, so with the default `f = 0.1` an arm
//! never gets less than `0.1 / (1 + 0.1 k)` of the traffic.

/// How traffic follows the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum BanditMode {
    /// Top-Two Thompson Sampling: best for finding the winner.
    TopTwoThompson,
    /// Thompson Sampling: traffic in proportion to P(best), to earn more while testing.
    Thompson,
}

/// Bandit settings.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BanditConfig {
    pub mode: BanditMode,
    /// Probability top-two plays the leader (0.5 is the standard choice).
    pub top_two_beta: f64,
    /// Additive floor per variant before renormalising.
    pub floor: f64,
}

impl Default for BanditConfig {
    fn default() -> Self {
        Self { mode: BanditMode::TopTwoThompson, top_two_beta: 0.5, floor: 0.1 }
    }
}

/// Traffic fractions (summing to 1) from the probabilities of being best.
pub fn bandit_weights(prob_best: &[f64], config: &BanditConfig) -> Vec<f64> {
    let k = prob_best.len();
    if k == 0 {
        return Vec::new();
    }
    let raw: Vec<f64> = match config.mode {
        BanditMode::Thompson => prob_best.to_vec(),
        BanditMode::TopTwoThompson => {
            let beta = config.top_two_beta;
            let total: f64 = prob_best.iter().sum();
            (0..k)
                .map(|i| {
                    let others: f64 = (0..k)
                        .filter(|&j| j != i)
                        .map(|j| {
                            // 1 - P_j computed as the sum of the others, which stays accurate
                            // when P_j rounds to 1.
                            let rest = total - prob_best[j];
                            if rest > 0.0 {
                                prob_best[j] * prob_best[i] / rest
                            } else {
                                // Every other arm has P = 0 in floating point: the redraw is
                                // equally likely to land on any of them.
                                prob_best[j] / (k - 1) as f64
                            }
                        })
                        .sum();
                    beta * prob_best[i] + (1.0 - beta) * others
                })
                .collect()
        }
    };
    let floor = config.floor.max(0.0);
    let floored: Vec<f64> = raw.iter().map(|p| p.max(0.0) + floor).collect();
    let total: f64 = floored.iter().sum();
    if total > 0.0 { floored.iter().map(|w| w / total).collect() } else { vec![1.0 / k as f64; k] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_arms_under_top_two_split_evenly() {
        for p in [0.5, 0.9, 0.999, 1.0] {
            let w = bandit_weights(&[1.0 - p, p], &BanditConfig::default());
            assert!((w[0] - 0.5).abs() < 1e-12 && (w[1] - 0.5).abs() < 1e-12, "{p}: {w:?}");
        }
    }

    #[test]
    fn thompson_follows_prob_best_with_the_floor() {
        let config = BanditConfig { mode: BanditMode::Thompson, ..Default::default() };
        let w = bandit_weights(&[0.1, 0.9], &config);
        assert!((w[1] - 1.0 / 1.2).abs() < 1e-12);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn top_two_weights_sum_to_one_and_favour_the_contenders() {
        let w = bandit_weights(&[0.6, 0.3, 0.1], &BanditConfig::default());
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(w[0] > w[1] && w[1] > w[2]);
        // Exact top-two probabilities before the floor.
        let pi0 = 0.6 * (0.5 + 0.5 * (0.3 / 0.7 + 0.1 / 0.9));
        assert!((w[0] - (pi0 + 0.1) / 1.3).abs() < 1e-12);
    }
}
