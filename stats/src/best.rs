//! Probability that each variant is best, and the expected loss of choosing each.
//!
//! With p_i the unknown conversion rates:
//! - `P(i best) = integral of f_i(x) * prod_{j != i} F_j(x) dx`
//! - `E[max_j p_j] = integral of (1 - prod_j F_j(x)) dx`, and the expected loss of choosing
//!   `i` is `E[max_j p_j] - E[p_i]`: how much conversion rate is given up, on average, if `i`
//!   is chosen and it is not in fact the best.
//!
//! Two variants with whole-number parameters and the smaller alpha up to 4 000 use the closed
//! forms of Evan Miller (P(B > A)) and Chris Stucchio (expected loss), summed in scaled
//! arithmetic so that large counts neither overflow nor underflow. Everything else uses the
//! deterministic quadrature of [`crate::quadrature`], accurate to about 1e-10 (the fixtures
//! check 1e-6 and better).

use statrs::function::beta::ln_beta;

use crate::posterior::BetaPosterior;
use crate::quadrature::{Density, Grid};

/// How the probabilities were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ComputationMethod {
    /// Evan Miller / Chris Stucchio sums (two variants, whole-number parameters).
    ClosedForm,
    /// Composite Gauss-Legendre quadrature over the posteriors' mass.
    Quadrature,
}

/// P(best) and expected loss per variant, in the input order.
#[derive(Debug, Clone, PartialEq)]
pub struct BestArm {
    pub prob_best: Vec<f64>,
    pub expected_loss: Vec<f64>,
    pub method: ComputationMethod,
}

/// The closed-form sums loop once per unit of the smaller alpha, while the quadrature costs the
/// same at any count (about 85 µs for two arms). They cross near alpha = 3 500 and agree to
/// 1e-10 there, so past this bound the quadrature keeps results flat as experiments grow.
const CLOSED_FORM_MAX_ALPHA: f64 = 4_000.0;

/// P(best) and expected loss for two or more Beta posteriors (one posterior is trivially best).
pub fn best_arm(posteriors: &[BetaPosterior]) -> BestArm {
    if posteriors.len() == 2 {
        let (a, b) = (&posteriors[0], &posteriors[1]);
        if a.is_integral() && b.is_integral() && a.alpha.min(b.alpha) <= CLOSED_FORM_MAX_ALPHA {
            return closed_form_pair(a, b);
        }
    }
    best_arm_quadrature(posteriors)
}

/// The quadrature path for any Beta posteriors (exposed so that tests can compare it with the
/// closed form).
pub fn best_arm_quadrature(posteriors: &[BetaPosterior]) -> BestArm {
    let densities: Vec<_> = posteriors.iter().map(BetaPosterior::density).collect();
    let (prob_best, expected_loss) = integrate_best(&densities);
    BestArm { prob_best, expected_loss, method: ComputationMethod::Quadrature }
}

/// `P(p_b > p_a)` by Evan Miller's sum over `b.alpha` (a whole number):
/// `sum_{i<alpha_b} B(alpha_a + i, beta_a + beta_b) / ((beta_b + i) B(1 + i, beta_b) B(alpha_a,
/// beta_a))`. Consecutive terms differ by the factor
/// `(alpha_a + i)(beta_b + i) / ((alpha_a + beta_a + beta_b + i)(1 + i))`, so only the first
/// term needs special functions; the running sum is rescaled so that it never overflows.
fn prob_greater(a: &BetaPosterior, b: &BetaPosterior) -> f64 {
    let n = b.alpha as u64;
    let ln_first = ln_beta(a.alpha, a.beta + b.beta) - ln_beta(a.alpha, a.beta);
    let c = a.alpha + a.beta + b.beta;
    let (mut term, mut sum, mut ln_scale) = (1.0_f64, 0.0_f64, ln_first);
    const BIG: f64 = 1e250;
    for i in 0..n {
        sum += term;
        let i = i as f64;
        term *= (a.alpha + i) * (b.beta + i) / ((c + i) * (1.0 + i));
        if sum > BIG {
            sum /= BIG;
            term /= BIG;
            ln_scale += BIG.ln();
        }
    }
    if sum <= 0.0 {
        return 0.0;
    }
    (ln_scale + sum.ln()).exp().clamp(0.0, 1.0)
}

/// `E[max(p_b - p_a, 0)]` by Stucchio's formula
/// `mean_b P(Beta(alpha_b + 1, beta_b) > p_a) - mean_a P(p_b > Beta(alpha_a + 1, beta_a))`.
fn loss_of_a(a: &BetaPosterior, b: &BetaPosterior) -> f64 {
    let b_up = BetaPosterior { alpha: b.alpha + 1.0, beta: b.beta };
    let a_up = BetaPosterior { alpha: a.alpha + 1.0, beta: a.beta };
    (b.mean() * prob_greater(a, &b_up) - a.mean() * prob_greater(&a_up, b)).max(0.0)
}

fn closed_form_pair(a: &BetaPosterior, b: &BetaPosterior) -> BestArm {
    // Sum over whichever alpha is smaller; the other orientation follows by symmetry:
    // P(A > B) = 1 - P(B > A) and EL(B) = EL(A) - (E[p_B] - E[p_A]).
    let gain = b.mean() - a.mean();
    let (p_b, loss_a) = if b.alpha <= a.alpha {
        let loss_a = loss_of_a(a, b);
        (prob_greater(a, b), loss_a)
    } else {
        let loss_b = loss_of_a(b, a);
        (1.0 - prob_greater(b, a), loss_b + gain)
    };
    let loss_b = (loss_a - gain).max(0.0);
    BestArm {
        prob_best: vec![1.0 - p_b, p_b],
        expected_loss: vec![loss_a.max(0.0), loss_b],
        method: ComputationMethod::ClosedForm,
    }
}

/// P(best) and expected loss for any densities the quadrature can lay panels for.
pub(crate) fn integrate_best<D: Density>(densities: &[D]) -> (Vec<f64>, Vec<f64>) {
    let k = densities.len();
    if k == 1 {
        return (vec![1.0], vec![0.0]);
    }
    let grid = Grid::for_densities(densities);
    let tables: Vec<(Vec<f64>, Vec<f64>)> = densities.iter().map(|d| grid.tabulate(d)).collect();

    let mut prob = vec![0.0; k];
    let mut above_product = 0.0;
    let mut prefix = vec![1.0; k + 1];
    let mut suffix = vec![1.0; k + 1];
    for (n, w) in grid.weights.iter().enumerate() {
        for j in 0..k {
            prefix[j + 1] = prefix[j] * tables[j].1[n];
        }
        for j in (0..k).rev() {
            suffix[j] = suffix[j + 1] * tables[j].1[n];
        }
        for i in 0..k {
            prob[i] += w * tables[i].0[n] * prefix[i] * suffix[i + 1];
        }
        above_product += w * (1.0 - prefix[k]);
    }

    // Below the grid every CDF is zero to within 1e-12, so 1 - prod F is 1 there.
    let expected_max = grid.lower + above_product;
    let total: f64 = prob.iter().sum();
    if total > 0.0 {
        prob.iter_mut().for_each(|p| *p /= total);
    }
    let loss = densities.iter().map(|d| (expected_max - d.mean()).max(0.0)).collect();
    (prob, loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beta(alpha: f64, beta: f64) -> BetaPosterior {
        BetaPosterior { alpha, beta }
    }

    #[test]
    fn uniform_against_triangular_matches_exact_fractions() {
        // Beta(1,1) vs Beta(2,1): P = 2/3, EL = 1/4 and 1/12, whichever path computes it.
        for result in [
            best_arm(&[beta(1., 1.), beta(2., 1.)]),
            best_arm_quadrature(&[beta(1., 1.), beta(2., 1.)]),
        ] {
            assert!((result.prob_best[1] - 2.0 / 3.0).abs() < 1e-10, "{result:?}");
            assert!((result.expected_loss[0] - 0.25).abs() < 1e-10, "{result:?}");
            assert!((result.expected_loss[1] - 1.0 / 12.0).abs() < 1e-10, "{result:?}");
        }
    }
}
