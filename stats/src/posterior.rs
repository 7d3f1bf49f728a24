//! Beta posteriors of conversion rates, and their credible intervals.

use statrs::function::beta::ln_beta;

use crate::quadrature::{Density, Tabulated};

/// Beta(alpha, beta): the posterior of a conversion rate after a Beta prior and binomial data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaPosterior {
    pub alpha: f64,
    pub beta: f64,
}

/// A closed interval of rates (or of differences of rates).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    /// Whether the whole interval lies inside `[-half_width, half_width]`.
    pub fn inside_symmetric(&self, half_width: f64) -> bool {
        self.lower >= -half_width && self.upper <= half_width
    }
}

/// What a user sees about one variant's posterior.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PosteriorSummary {
    pub alpha: f64,
    pub beta: f64,
    /// Posterior mean conversion rate.
    pub mean: f64,
    /// The 2.5% and 97.5% quantiles.
    pub equal_tailed_95: Interval,
    /// The narrowest interval holding 95% of the posterior mass.
    pub hdi_95: Interval,
}

impl BetaPosterior {
    /// The conjugate update of a Beta(prior_alpha, prior_beta) prior with binomial data.
    pub fn update(prior_alpha: f64, prior_beta: f64, visitors: u64, conversions: u64) -> Self {
        let failures = visitors.saturating_sub(conversions);
        Self { alpha: prior_alpha + conversions as f64, beta: prior_beta + failures as f64 }
    }

    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    pub fn variance(&self) -> f64 {
        let n = self.alpha + self.beta;
        self.alpha * self.beta / (n * n * (n + 1.0))
    }

    /// Whether both parameters are whole numbers, which enables the closed forms.
    pub fn is_integral(&self) -> bool {
        self.alpha.fract() == 0.0 && self.beta.fract() == 0.0
    }

    /// Mean, equal-tailed and highest-density 95% intervals.
    pub fn summary(&self) -> PosteriorSummary {
        let table = Tabulated::of(&self.density());
        let (lower, upper) = table.hdi(0.95);
        PosteriorSummary {
            alpha: self.alpha,
            beta: self.beta,
            mean: self.mean(),
            equal_tailed_95: Interval {
                lower: table.quantile(0.025),
                upper: table.quantile(0.975),
            },
            hdi_95: Interval { lower, upper },
        }
    }
}

impl BetaPosterior {
    /// The density with its normalising constant computed once; `ln_beta` costs three
    /// log-gamma evaluations, too many to repeat at every quadrature node.
    pub(crate) fn density(&self) -> BetaDensity {
        BetaDensity { alpha: self.alpha, beta: self.beta, ln_norm: ln_beta(self.alpha, self.beta) }
    }
}

/// A Beta density ready for the quadrature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BetaDensity {
    alpha: f64,
    beta: f64,
    ln_norm: f64,
}

impl Density for BetaDensity {
    fn ln_pdf(&self, x: f64) -> f64 {
        if !(0.0..=1.0).contains(&x) {
            return f64::NEG_INFINITY;
        }
        // A unit exponent contributes nothing; writing it out would give 0 * ln(0) = NaN at
        // the ends of the support.
        let left = if self.alpha == 1.0 { 0.0 } else { (self.alpha - 1.0) * x.ln() };
        let right = if self.beta == 1.0 { 0.0 } else { (self.beta - 1.0) * (-x).ln_1p() };
        left + right - self.ln_norm
    }

    fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    fn std_dev(&self) -> f64 {
        let n = self.alpha + self.beta;
        (self.alpha * self.beta / (n * n * (n + 1.0))).sqrt()
    }

    fn support(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn grading(&self) -> (u32, u32) {
        // x^(a-1) is singular below a = 1 and has unbounded derivatives for other fractional
        // exponents: a polynomial rule needs geometrically shrinking panels there.
        let levels = |shape: f64| {
            if shape < 1.0 {
                48
            } else if shape.fract() != 0.0 {
                12
            } else {
                0
            }
        };
        (levels(self.alpha), levels(self.beta))
    }
}

/// A normal posterior, used for mean engagement scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NormalPosterior {
    pub mean: f64,
    pub std_dev: f64,
}

impl Density for NormalPosterior {
    fn ln_pdf(&self, x: f64) -> f64 {
        let z = (x - self.mean) / self.std_dev;
        -0.5 * z * z - self.std_dev.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    }

    fn mean(&self) -> f64 {
        self.mean
    }

    fn std_dev(&self) -> f64 {
        self.std_dev
    }

    fn support(&self) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_posterior_intervals_are_exact() {
        let s = BetaPosterior { alpha: 1.0, beta: 1.0 }.summary();
        assert!((s.equal_tailed_95.lower - 0.025).abs() < 1e-9);
        assert!((s.equal_tailed_95.upper - 0.975).abs() < 1e-9);
        let width = s.hdi_95.upper - s.hdi_95.lower;
        assert!((width - 0.95).abs() < 1e-6, "{:?}", s.hdi_95);
    }

    #[test]
    fn decreasing_density_hdi_starts_at_zero() {
        // Beta(1, 19): density 19 (1 - x)^18, so the HDI is [0, 1 - 0.05^(1/19)].
        let s = BetaPosterior { alpha: 1.0, beta: 19.0 }.summary();
        assert_eq!(s.hdi_95.lower, 0.0);
        let expected = 1.0 - 0.05_f64.powf(1.0 / 19.0);
        assert!((s.hdi_95.upper - expected).abs() < 1e-8, "{:?} vs {expected}", s.hdi_95);
    }

    #[test]
    fn triangular_density_intervals_are_exact() {
        // Beta(2, 1): F(x) = x^2, so quantiles are square roots and the HDI is [sqrt(.05), 1].
        let s = BetaPosterior { alpha: 2.0, beta: 1.0 }.summary();
        assert!((s.equal_tailed_95.lower - 0.025_f64.sqrt()).abs() < 1e-8);
        assert!((s.hdi_95.lower - 0.05_f64.sqrt()).abs() < 1e-7, "{:?}", s.hdi_95);
        assert!((s.hdi_95.upper - 1.0).abs() < 1e-12);
    }
}
