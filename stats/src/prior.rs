//! Choosing the prior: the user's, else an empirical-Bayes prior from the project's past
//! experiments, else the default Beta(1, 19).
//!
//! The empirical-Bayes prior matches the mean and the between-variant variance of past
//! conversion rates (method of moments for the beta-binomial): the observed variance of the
//! rates minus the binomial noise expected at each variant's size is the spread of true rates,
//! and a Beta with that mean and spread is worth `mean (1 - mean) / spread - 1` visitors. That
//! worth is capped (default 30 visitors) so that history can steady a new experiment but never
//! outvote it: at 100 visitors per variant the new data already carry three quarters of the
//! weight.

use crate::error::StatsError;

/// A Beta(alpha, beta) prior on a conversion rate.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BetaPrior {
    pub alpha: f64,
    pub beta: f64,
}

impl BetaPrior {
    /// Beta(1, 19): a mean of 5% and the weight of 20 visitors. Small-site conversion rates are
    /// mostly between 1% and 10%; this prior says so without overruling a few dozen visitors.
    pub const DEFAULT: BetaPrior = BetaPrior { alpha: 1.0, beta: 19.0 };

    pub(crate) fn validate(&self) -> Result<(), StatsError> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if ok(self.alpha) && ok(self.beta) {
            Ok(())
        } else {
            Err(StatsError::InvalidPrior { alpha: self.alpha, beta: self.beta })
        }
    }
}

/// Which source the prior came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum PriorTier {
    /// Given by the user for this experiment.
    User,
    /// Empirical Bayes from the project's past experiments.
    ProjectHistory,
    /// The built-in Beta(1, 19).
    Default,
}

/// The prior used, and why.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PriorChoice {
    pub alpha: f64,
    pub beta: f64,
    pub tier: PriorTier,
    /// One plain-English sentence.
    pub reason: String,
}

/// Visitors and conversions of one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VariantCounts {
    pub visitors: u64,
    pub conversions: u64,
}

/// A finished experiment of the same project; the first variant is its control.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PastExperiment {
    pub variants: Vec<VariantCounts>,
}

/// An effect estimate (difference in conversion rate against control) and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EffectEstimate {
    pub effect: f64,
    pub std_error: f64,
}

/// What the project learned before this experiment.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProjectHistory {
    pub experiments: Vec<PastExperiment>,
    /// Past effect estimates for shrinkage. When empty they are derived from `experiments`
    /// (each non-control variant against its control).
    pub effects: Vec<EffectEstimate>,
}

/// When history is trusted, and how much.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PriorConfig {
    /// Past experiments (with at least one usable variant) needed before history is used.
    pub min_history_experiments: usize,
    /// A past variant counts only with at least this many visitors.
    pub min_visitors_per_past_variant: u64,
    /// The most visitors' worth of weight (alpha + beta) an empirical prior may carry.
    pub weight_cap: f64,
}

impl Default for PriorConfig {
    fn default() -> Self {
        Self { min_history_experiments: 3, min_visitors_per_past_variant: 30, weight_cap: 30.0 }
    }
}

/// Smallest weight an empirical prior gets: anything flatter than Beta with 2 visitors' worth is
/// less informative than the default.
const MIN_EMPIRICAL_WEIGHT: f64 = 2.0;

/// Picks the prior tier by tier and says why.
pub fn choose_prior(
    user: Option<BetaPrior>,
    history: &ProjectHistory,
    config: &PriorConfig,
) -> Result<PriorChoice, StatsError> {
    if let Some(prior) = user {
        prior.validate()?;
        return Ok(PriorChoice {
            alpha: prior.alpha,
            beta: prior.beta,
            tier: PriorTier::User,
            reason: format!("Using your prior Beta({}, {}).", prior.alpha, prior.beta),
        });
    }
    let fallback = |why: String| PriorChoice {
        alpha: BetaPrior::DEFAULT.alpha,
        beta: BetaPrior::DEFAULT.beta,
        tier: PriorTier::Default,
        reason: format!(
            "Using the default prior Beta(1, 19) (about 5%, worth 20 visitors): {why}."
        ),
    };

    let mut rates = Vec::new();
    let mut inverse_sizes = Vec::new();
    let mut experiments_used = 0;
    for experiment in &history.experiments {
        let before = rates.len();
        for v in &experiment.variants {
            if v.visitors >= config.min_visitors_per_past_variant && v.conversions <= v.visitors {
                rates.push(v.conversions as f64 / v.visitors as f64);
                inverse_sizes.push(1.0 / v.visitors as f64);
            }
        }
        if rates.len() > before {
            experiments_used += 1;
        }
    }
    if experiments_used < config.min_history_experiments.max(1) || rates.len() < 2 {
        return Ok(fallback(format!(
            "the project has {experiments_used} usable past experiments and {} are needed",
            config.min_history_experiments
        )));
    }

    let count = rates.len() as f64;
    let mean = rates.iter().sum::<f64>() / count;
    if mean <= 0.0 || mean >= 1.0 {
        return Ok(fallback("past experiments have no conversions to learn from".to_string()));
    }
    let observed = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (count - 1.0);
    let noise = mean * (1.0 - mean) * inverse_sizes.iter().sum::<f64>() / count;
    let spread = observed - noise;
    let cap = config.weight_cap.max(MIN_EMPIRICAL_WEIGHT);
    let (weight, capped) = if spread <= 0.0 {
        // Past rates agree more closely than sampling noise allows: as strong as permitted.
        (cap, true)
    } else {
        let matched = mean * (1.0 - mean) / spread - 1.0;
        (matched.clamp(MIN_EMPIRICAL_WEIGHT, cap), matched > cap)
    };
    let alpha = mean * weight;
    let beta = (1.0 - mean) * weight;
    Ok(PriorChoice {
        alpha,
        beta,
        tier: PriorTier::ProjectHistory,
        reason: format!(
            "Using a prior learned from {experiments_used} past experiments ({} variants): \
             Beta({alpha:.3}, {beta:.3}), centred on {:.2}% and worth {weight:.1} visitors{}.",
            rates.len(),
            mean * 100.0,
            if capped { " (capped so it cannot outweigh this experiment)" } else { "" }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(pairs: &[(u64, u64)]) -> PastExperiment {
        PastExperiment {
            variants: pairs
                .iter()
                .map(|&(visitors, conversions)| VariantCounts { visitors, conversions })
                .collect(),
        }
    }

    #[test]
    fn user_prior_wins_and_is_validated() {
        let history = ProjectHistory::default();
        let chosen =
            choose_prior(Some(BetaPrior { alpha: 2.0, beta: 8.0 }), &history, &Default::default())
                .unwrap();
        assert_eq!(chosen.tier, PriorTier::User);
        let bad =
            choose_prior(Some(BetaPrior { alpha: 0.0, beta: 8.0 }), &history, &Default::default());
        assert!(matches!(bad, Err(StatsError::InvalidPrior { .. })));
    }

    #[test]
    fn short_history_falls_back_to_default() {
        let history = ProjectHistory {
            experiments: vec![experiment(&[(500, 20), (500, 25)])],
            effects: vec![],
        };
        let chosen = choose_prior(None, &history, &Default::default()).unwrap();
        assert_eq!(chosen.tier, PriorTier::Default);
        assert_eq!((chosen.alpha, chosen.beta), (1.0, 19.0));
    }

    #[test]
    fn empirical_prior_matches_the_mean_and_is_capped() {
        let history = ProjectHistory {
            experiments: vec![
                experiment(&[(1000, 30), (1000, 34)]),
                experiment(&[(2000, 80), (2000, 70)]),
                experiment(&[(800, 24), (800, 40)]),
            ],
            effects: vec![],
        };
        let config = PriorConfig::default();
        let chosen = choose_prior(None, &history, &config).unwrap();
        assert_eq!(chosen.tier, PriorTier::ProjectHistory);
        let mean = chosen.alpha / (chosen.alpha + chosen.beta);
        let rates = [0.030, 0.034, 0.040, 0.035, 0.030, 0.050];
        let expected = rates.iter().sum::<f64>() / rates.len() as f64;
        assert!((mean - expected).abs() < 1e-12);
        assert!(chosen.alpha + chosen.beta <= config.weight_cap + 1e-9);
    }
}
