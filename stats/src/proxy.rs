//! Engagement as a leading indicator: a per-visitor score from scroll depth, time on page,
//! clicks and form engagement, and the comparison of variants on its mean.
//!
//! # What the backend keeps
//! Everything here works from sums, so results cost O(variants) to read:
//! - per variant, a [`ProxySummary`]: `n` (scored visitors), `sum` and `sum_sq` of the score,
//!   and, when a pre-period covariate exists for CUPED (for example the same visitor's score
//!   before the experiment), `sum_x`, `sum_x2` and `sum_xy`;
//! - per project, for calibrating weights, a [`CalibrationSums`]: the count, the conversions,
//!   and the cross-products `X'X` and `X'y` of the normalised features (with an intercept)
//!   against converted (1) or not (0), updated with [`CalibrationSums::add`].
//!
//! # The score
//! Each feature is winsorized at a cap (by default the 99th percentile of a sample of past
//! visitors, see [`winsor_caps`]; [`WinsorCaps::default`] otherwise) and divided by it, so it
//! lies in [0, 1]. The score is the weighted sum. The default weights (0.2 scroll depth, 0.3
//! time on page, 0.2 clicks, 0.3 form engagement) sum to 1 and lean on the two signals that
//! most often precede a sign-up. With at least [`MIN_CALIBRATION_VISITORS`] visitors and
//! [`MIN_CALIBRATION_CONVERSIONS`] conversions of history the weights are instead the least
//! squares fit of conversion on the features: the score then estimates the chance to convert.
//!
//! # The comparison
//! With CUPED, `theta = cov(Y, X) / var(X)` is pooled within variants and each variant's mean
//! becomes `mean(Y) - theta (mean(X) - grand mean(X))`, with the variance of `Y - theta X`. The
//! posterior of each mean is normal (flat prior, central limit: hence a minimum of 30 scored
//! visitors per variant), the difference against control has the exact normal 95% interval,
//! and the probability that each variant leads comes from the same quadrature as P(best).

use crate::best::integrate_best;
use crate::error::StatsError;
use crate::posterior::{Interval, NormalPosterior};

/// Number of engagement features.
pub const FEATURES: usize = 4;
/// History needed before least-squares weights replace the defaults.
pub const MIN_CALIBRATION_VISITORS: u64 = 500;
/// Conversions needed before least-squares weights replace the defaults.
pub const MIN_CALIBRATION_CONVERSIONS: u64 = 20;

/// One visitor's engagement.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EngagementFeatures {
    /// Deepest scroll, 0 to 1.
    pub scroll_depth: f64,
    pub time_on_page_secs: f64,
    pub clicks: f64,
    /// Form fields touched or forms started.
    pub form_engagement: f64,
}

impl EngagementFeatures {
    fn values(&self) -> [f64; FEATURES] {
        [self.scroll_depth, self.time_on_page_secs, self.clicks, self.form_engagement]
    }
}

/// Upper caps for winsorizing each feature (also the scale each is divided by).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WinsorCaps {
    pub scroll_depth: f64,
    pub time_on_page_secs: f64,
    pub clicks: f64,
    pub form_engagement: f64,
}

impl Default for WinsorCaps {
    /// Full scroll, five minutes, 20 clicks, 5 form interactions: beyond these a visitor is not
    /// meaningfully more engaged, and outliers (a tab left open) would dominate the mean.
    fn default() -> Self {
        Self { scroll_depth: 1.0, time_on_page_secs: 300.0, clicks: 20.0, form_engagement: 5.0 }
    }
}

impl WinsorCaps {
    fn values(&self) -> [f64; FEATURES] {
        [self.scroll_depth, self.time_on_page_secs, self.clicks, self.form_engagement]
    }
}

/// Weight of each normalised feature in the score.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProxyWeights {
    pub scroll_depth: f64,
    pub time_on_page: f64,
    pub clicks: f64,
    pub form_engagement: f64,
}

impl Default for ProxyWeights {
    fn default() -> Self {
        Self { scroll_depth: 0.2, time_on_page: 0.3, clicks: 0.2, form_engagement: 0.3 }
    }
}

impl ProxyWeights {
    fn values(&self) -> [f64; FEATURES] {
        [self.scroll_depth, self.time_on_page, self.clicks, self.form_engagement]
    }
}

/// Features winsorized at their caps and scaled to [0, 1]; non-finite or negative values
/// count as 0.
pub fn normalised_features(features: &EngagementFeatures, caps: &WinsorCaps) -> [f64; FEATURES] {
    let mut out = [0.0; FEATURES];
    for ((o, x), cap) in out.iter_mut().zip(features.values()).zip(caps.values()) {
        let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
        *o = if cap > 0.0 { x.min(cap) / cap } else { 0.0 };
    }
    out
}

/// One visitor's engagement score.
pub fn engagement_score(
    features: &EngagementFeatures,
    weights: &ProxyWeights,
    caps: &WinsorCaps,
) -> f64 {
    normalised_features(features, caps).iter().zip(weights.values()).map(|(z, w)| z * w).sum()
}

/// Caps at the given percentile (0 to 1, linear interpolation) of a sample of visitors; the
/// default caps for an empty sample, and never below a small positive value.
pub fn winsor_caps(sample: &[EngagementFeatures], percentile: f64) -> WinsorCaps {
    if sample.is_empty() {
        return WinsorCaps::default();
    }
    let q = percentile.clamp(0.0, 1.0);
    let defaults = WinsorCaps::default().values();
    let mut caps = [0.0; FEATURES];
    for (f, cap) in caps.iter_mut().enumerate() {
        let mut column: Vec<f64> =
            sample.iter().map(|s| s.values()[f]).filter(|v| v.is_finite()).collect();
        if column.is_empty() {
            *cap = defaults[f];
            continue;
        }
        column.sort_by(f64::total_cmp);
        let pos = q * (column.len() - 1) as f64;
        let (i, frac) = (pos.floor() as usize, pos.fract());
        let upper = column[(i + 1).min(column.len() - 1)];
        let value = column[i] + frac * (upper - column[i]);
        // A zero cap (most visitors never touch a form) would make the feature useless.
        *cap = if value > 0.0 { value } else { defaults[f] };
    }
    WinsorCaps {
        scroll_depth: caps[0],
        time_on_page_secs: caps[1],
        clicks: caps[2],
        form_engagement: caps[3],
    }
}

/// Aggregatable least-squares inputs: features with an intercept column against conversion.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CalibrationSums {
    pub visitors: u64,
    pub conversions: u64,
    /// `X'X` for rows `[1, z_1, .., z_4]`.
    pub xtx: [[f64; FEATURES + 1]; FEATURES + 1],
    /// `X'y` with `y` = 1 for a converted visitor.
    pub xty: [f64; FEATURES + 1],
}

impl CalibrationSums {
    /// Adds one visitor (features normalised with the same caps used for scoring).
    pub fn add(&mut self, features: &EngagementFeatures, caps: &WinsorCaps, converted: bool) {
        let z = normalised_features(features, caps);
        let row = [1.0, z[0], z[1], z[2], z[3]];
        let y = if converted { 1.0 } else { 0.0 };
        for i in 0..=FEATURES {
            for j in 0..=FEATURES {
                self.xtx[i][j] += row[i] * row[j];
            }
            self.xty[i] += row[i] * y;
        }
        self.visitors += 1;
        self.conversions += u64::from(converted);
    }

    /// Combines sums kept separately (per experiment, per day, ...).
    pub fn merge(&mut self, other: &CalibrationSums) {
        for i in 0..=FEATURES {
            for j in 0..=FEATURES {
                self.xtx[i][j] += other.xtx[i][j];
            }
            self.xty[i] += other.xty[i];
        }
        self.visitors += other.visitors;
        self.conversions += other.conversions;
    }
}

/// Where the score weights came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum WeightSource {
    Calibrated,
    Default,
}

/// The weights to score with, and why.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeightCalibration {
    pub weights: ProxyWeights,
    pub source: WeightSource,
    pub reason: String,
}

/// Least-squares weights from history when there is enough of it, the defaults otherwise.
pub fn calibrate_weights(sums: &CalibrationSums) -> WeightCalibration {
    let fallback = |reason: String| WeightCalibration {
        weights: ProxyWeights::default(),
        source: WeightSource::Default,
        reason,
    };
    if sums.visitors < MIN_CALIBRATION_VISITORS || sums.conversions < MIN_CALIBRATION_CONVERSIONS {
        return fallback(format!(
            "default weights: calibration needs {MIN_CALIBRATION_VISITORS} visitors and \
             {MIN_CALIBRATION_CONVERSIONS} conversions of history, there are {} and {}",
            sums.visitors, sums.conversions
        ));
    }
    match solve_symmetric(&sums.xtx, &sums.xty) {
        Some(beta) if beta.iter().all(|b| b.is_finite()) => WeightCalibration {
            weights: ProxyWeights {
                scroll_depth: beta[1],
                time_on_page: beta[2],
                clicks: beta[3],
                form_engagement: beta[4],
            },
            source: WeightSource::Calibrated,
            reason: format!(
                "weights fitted by least squares on {} visitors and {} conversions",
                sums.visitors, sums.conversions
            ),
        },
        _ => fallback(
            "default weights: the history does not separate the features (a feature never \
             varies), so least squares has no unique answer"
                .to_string(),
        ),
    }
}

/// Solves `A x = b` for symmetric positive-definite `A` by Cholesky; `None` when singular.
fn solve_symmetric<const N: usize>(a: &[[f64; N]; N], b: &[f64; N]) -> Option<[f64; N]> {
    let mut l = [[0.0; N]; N];
    let scale = (0..N).map(|i| a[i][i].abs()).fold(0.0, f64::max).max(1e-300);
    for i in 0..N {
        for j in 0..=i {
            let sum: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if sum <= 1e-10 * scale {
                    return None;
                }
                l[i][i] = sum.sqrt();
            } else {
                l[i][j] = sum / l[j][j];
            }
        }
    }
    let mut y = [0.0; N];
    for i in 0..N {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = [0.0; N];
    for i in (0..N).rev() {
        x[i] = (y[i] - (i + 1..N).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    Some(x)
}

/// Running sums of a pre-period covariate for CUPED.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CovariateSums {
    pub sum_x: f64,
    pub sum_x2: f64,
    pub sum_xy: f64,
}

/// Per-variant running sums of the engagement score.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProxySummary {
    /// Visitors with a score.
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
    /// Same visitors' pre-period covariate, when known for all of them.
    pub covariate: Option<CovariateSums>,
}

impl ProxySummary {
    /// Adds one visitor's score (and covariate, which must be given for every visitor or none).
    pub fn add(&mut self, score: f64, covariate: Option<f64>) {
        self.n += 1;
        self.sum += score;
        self.sum_sq += score * score;
        if let Some(x) = covariate {
            let c = self.covariate.get_or_insert_with(CovariateSums::default);
            c.sum_x += x;
            c.sum_x2 += x * x;
            c.sum_xy += x * score;
        }
    }

    fn validate(&self, key: &str) -> Result<(), StatsError> {
        let mut fields = vec![("sum", self.sum), ("sum_sq", self.sum_sq)];
        if let Some(c) = &self.covariate {
            fields.extend([("sum_x", c.sum_x), ("sum_x2", c.sum_x2), ("sum_xy", c.sum_xy)]);
        }
        for (field, value) in fields {
            if !value.is_finite() {
                return Err(StatsError::NonFiniteProxy { key: key.to_string(), field, value });
            }
        }
        if self.n > 0 {
            let n = self.n as f64;
            let centred = self.sum_sq - self.sum * self.sum / n;
            if centred < -1e-9 * self.sum_sq.abs().max(1.0) {
                return Err(StatsError::InconsistentProxy {
                    key: key.to_string(),
                    reason: format!("sum of squares {} is below sum^2 / n", self.sum_sq),
                });
            }
        }
        Ok(())
    }
}

/// One variant on the engagement score.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProxyVariant {
    pub key: String,
    pub n: u64,
    /// Raw mean score.
    pub mean_score: f64,
    /// CUPED-adjusted mean (equal to the raw mean without a covariate).
    pub adjusted_mean: f64,
    pub std_error: f64,
    /// Probability this variant has the highest mean score.
    pub prob_leads: f64,
    /// 95% interval of (this variant - control) in mean score; `None` for the control.
    pub difference_vs_control_95: Option<Interval>,
}

/// The proxy comparison.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProxyAnalysis {
    /// The CUPED coefficient, when a covariate was supplied for every variant.
    pub cuped_theta: Option<f64>,
    pub variants: Vec<ProxyVariant>,
}

impl ProxyAnalysis {
    /// The variant most likely to lead on engagement.
    pub fn leader(&self) -> Option<&ProxyVariant> {
        self.variants.iter().max_by(|a, b| a.prob_leads.total_cmp(&b.prob_leads))
    }
}

/// Validates the sums of every variant that has them.
pub(crate) fn validate_all(
    keys: &[&str],
    summaries: &[Option<ProxySummary>],
) -> Result<(), StatsError> {
    for (key, s) in keys.iter().zip(summaries) {
        if let Some(s) = s {
            s.validate(key)?;
        }
    }
    Ok(())
}

/// Compares variants on the score; `None` unless every variant has `min_n` scored visitors.
pub(crate) fn analyze_proxy(
    keys: &[&str],
    summaries: &[Option<ProxySummary>],
    min_n: u64,
) -> Option<ProxyAnalysis> {
    let all: Vec<&ProxySummary> = summaries.iter().flatten().collect();
    if all.len() != keys.len() || all.iter().any(|s| s.n < min_n.max(2)) {
        return None;
    }

    let moments = |s: &ProxySummary| {
        let n = s.n as f64;
        let mean = s.sum / n;
        let var = ((s.sum_sq - s.sum * s.sum / n) / (n - 1.0)).max(0.0);
        (n, mean, var)
    };

    // CUPED only when every variant carries the covariate; theta is pooled within variants.
    let covariates: Vec<&CovariateSums> = all.iter().filter_map(|s| s.covariate.as_ref()).collect();
    let theta = if covariates.len() == all.len() {
        let (mut sxx, mut sxy, mut total_x, mut total_n) = (0.0, 0.0, 0.0, 0.0);
        for (s, c) in all.iter().zip(&covariates) {
            let n = s.n as f64;
            sxx += c.sum_x2 - c.sum_x * c.sum_x / n;
            sxy += c.sum_xy - c.sum_x * s.sum / n;
            total_x += c.sum_x;
            total_n += n;
        }
        (sxx > 0.0).then(|| (sxy / sxx, total_x / total_n))
    } else {
        None
    };

    let mut variants = Vec::new();
    let mut posteriors = Vec::new();
    for (i, s) in all.iter().enumerate() {
        let (n, mean, var) = moments(s);
        let (adjusted, var_adjusted) = match (theta, s.covariate.as_ref()) {
            (Some((theta, grand_x)), Some(c)) => {
                let mean_x = c.sum_x / n;
                let var_x = ((c.sum_x2 - c.sum_x * c.sum_x / n) / (n - 1.0)).max(0.0);
                let cov = (c.sum_xy - c.sum_x * s.sum / n) / (n - 1.0);
                let v = (var - 2.0 * theta * cov + theta * theta * var_x).max(0.0);
                (mean - theta * (mean_x - grand_x), v)
            }
            _ => (mean, var),
        };
        // A variant whose every visitor scored the same still has some uncertainty; a floor
        // keeps the normal posterior proper.
        let std_error = (var_adjusted / n).sqrt().max(1e-9 * (1.0 + adjusted.abs()));
        posteriors.push(NormalPosterior { mean: adjusted, std_dev: std_error });
        variants.push(ProxyVariant {
            key: keys[i].to_string(),
            n: s.n,
            mean_score: mean,
            adjusted_mean: adjusted,
            std_error,
            prob_leads: 0.0,
            difference_vs_control_95: None,
        });
    }
    let (prob, _) = integrate_best(&posteriors);
    let control = posteriors[0];
    for (i, v) in variants.iter_mut().enumerate() {
        v.prob_leads = prob[i];
        if i > 0 {
            let mean = posteriors[i].mean - control.mean;
            let sd = (posteriors[i].std_dev.powi(2) + control.std_dev.powi(2)).sqrt();
            v.difference_vs_control_95 = Some(Interval {
                lower: mean - 1.959_963_984_540_054 * sd,
                upper: mean + 1.959_963_984_540_054 * sd,
            });
        }
    }
    Some(ProxyAnalysis { cuped_theta: theta.map(|t| t.0), variants })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_winsorized_and_weighted() {
        let f = EngagementFeatures {
            scroll_depth: 0.5,
            time_on_page_secs: 3000.0,
            clicks: 2.0,
            form_engagement: 0.0,
        };
        let score = engagement_score(&f, &ProxyWeights::default(), &WinsorCaps::default());
        assert!((score - (0.2 * 0.5 + 0.3 * 1.0 + 0.2 * 0.1)).abs() < 1e-12);
    }

    #[test]
    fn caps_come_from_the_percentile() {
        let sample: Vec<_> = (0..=100)
            .map(|i| EngagementFeatures {
                scroll_depth: i as f64 / 100.0,
                time_on_page_secs: i as f64,
                clicks: 0.0,
                form_engagement: 0.0,
            })
            .collect();
        let caps = winsor_caps(&sample, 0.99);
        assert!((caps.time_on_page_secs - 99.0).abs() < 1e-9);
        assert_eq!(caps.clicks, WinsorCaps::default().clicks);
    }

    #[test]
    fn calibration_recovers_a_linear_relationship() {
        // Conversion happens exactly when form engagement is high: least squares on a
        // noiseless design must find weight on that feature alone.
        let caps = WinsorCaps::default();
        let mut sums = CalibrationSums::default();
        for i in 0..1000 {
            let f = EngagementFeatures {
                scroll_depth: (i % 7) as f64 / 7.0,
                time_on_page_secs: (i % 11) as f64 * 20.0,
                clicks: (i % 5) as f64,
                form_engagement: if i % 10 == 0 { 5.0 } else { 0.0 },
            };
            sums.add(&f, &caps, i % 10 == 0);
        }
        let fit = calibrate_weights(&sums);
        assert_eq!(fit.source, WeightSource::Calibrated);
        assert!((fit.weights.form_engagement - 1.0).abs() < 1e-9, "{fit:?}");
        assert!(fit.weights.clicks.abs() < 1e-9);
        assert_eq!(calibrate_weights(&CalibrationSums::default()).source, WeightSource::Default);
    }

    #[test]
    fn cuped_removes_pre_period_noise() {
        // Scores equal the covariate plus a variant effect: after CUPED the variance is gone
        // and theta is exactly 1.
        let mut a = ProxySummary::default();
        let mut b = ProxySummary::default();
        for i in 0..200 {
            let x = (i % 13) as f64 / 13.0;
            a.add(x, Some(x));
            b.add(x + 0.1, Some(x));
        }
        let out = analyze_proxy(&["a", "b"], &[Some(a), Some(b)], 30).unwrap();
        assert!((out.cuped_theta.unwrap() - 1.0).abs() < 1e-9);
        let diff = out.variants[1].difference_vs_control_95.unwrap();
        assert!((diff.lower - 0.1).abs() < 1e-6 && (diff.upper - 0.1).abs() < 1e-6, "{diff:?}");
        assert!(out.variants[1].prob_leads > 0.999);
    }
}
