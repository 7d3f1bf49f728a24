//! James-Stein (positive-part) shrinkage of effect estimates toward the project's grand mean.
//!
//! With estimates `y_i` of standard errors `s_i` (unequal), the spread of true effects is
//! estimated by moments, `tau^2 = max(0, sum (y_i - ybar)^2 / (k - 1) - mean(s_i^2))`, and each
//! estimate moves toward the grand mean `ybar` by the factor
//! `B_i = min(1, (k - 3) / (k - 1) * s_i^2 / (s_i^2 + tau^2))`. With equal standard errors this
//! is exactly the positive-part James-Stein estimator with an estimated mean,
//! `B = (k - 3) s^2 / sum (y_i - ybar)^2`. Noisy estimates move more than precise ones, and
//! `min(1, ...)` is the positive part: no estimate is pushed past the mean. At least four
//! estimates are needed (k - 3 > 0).

use crate::prior::EffectEstimate;

/// Shrunk estimates in input order, with the grand mean they were pulled toward.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrunk {
    pub grand_mean: f64,
    pub estimates: Vec<f64>,
}

/// Fewest estimates for which shrinkage improves on the raw values.
pub const MIN_ESTIMATES: usize = 4;

/// Positive-part James-Stein; `None` with fewer than four usable estimates.
pub fn james_stein(estimates: &[EffectEstimate]) -> Option<Shrunk> {
    let usable = estimates
        .iter()
        .all(|e| e.effect.is_finite() && e.std_error.is_finite() && e.std_error > 0.0);
    let k = estimates.len();
    if !usable || k < MIN_ESTIMATES {
        return None;
    }
    let kf = k as f64;
    let grand_mean = estimates.iter().map(|e| e.effect).sum::<f64>() / kf;
    let spread = estimates.iter().map(|e| (e.effect - grand_mean).powi(2)).sum::<f64>();
    let mean_variance = estimates.iter().map(|e| e.std_error.powi(2)).sum::<f64>() / kf;
    let tau2 = (spread / (kf - 1.0) - mean_variance).max(0.0);
    let shrunk = estimates
        .iter()
        .map(|e| {
            let v = e.std_error.powi(2);
            let factor = ((kf - 3.0) / (kf - 1.0) * v / (v + tau2)).min(1.0);
            grand_mean + (1.0 - factor) * (e.effect - grand_mean)
        })
        .collect();
    Some(Shrunk { grand_mean, estimates: shrunk })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_errors_reduce_to_classic_james_stein() {
        let ys = [0.02, -0.01, 0.03, 0.0, 0.01];
        let s = 0.01;
        let input: Vec<_> =
            ys.iter().map(|&effect| EffectEstimate { effect, std_error: s }).collect();
        let out = james_stein(&input).unwrap();
        let mean = ys.iter().sum::<f64>() / 5.0;
        let ss: f64 = ys.iter().map(|y| (y - mean).powi(2)).sum();
        let factor = (2.0 * s * s / ss).min(1.0);
        for (y, got) in ys.iter().zip(&out.estimates) {
            assert!((got - (mean + (1.0 - factor) * (y - mean))).abs() < 1e-15);
        }
    }

    #[test]
    fn noisier_estimates_move_further_and_none_crosses_the_mean() {
        let input = [
            EffectEstimate { effect: 0.05, std_error: 0.04 },
            EffectEstimate { effect: 0.05, std_error: 0.005 },
            EffectEstimate { effect: -0.01, std_error: 0.01 },
            EffectEstimate { effect: 0.0, std_error: 0.01 },
            EffectEstimate { effect: 0.01, std_error: 0.02 },
        ];
        let out = james_stein(&input).unwrap();
        let moved = |i: usize| (input[i].effect - out.estimates[i]).abs();
        assert!(moved(0) > moved(1));
        for (e, s) in input.iter().zip(&out.estimates) {
            assert!((e.effect - out.grand_mean) * (s - out.grand_mean) >= 0.0);
        }
        assert!(james_stein(&input[..3]).is_none());
    }
}
