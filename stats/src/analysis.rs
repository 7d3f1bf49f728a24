//! The one entry point, [`analyze`]: an experiment's aggregates in, the whole analysis out.

use statrs::function::erf::erfc;

use crate::bandit::{BanditConfig, BanditMode, bandit_weights};
use crate::best::{ComputationMethod, best_arm};
use crate::difference::difference_hdi;
use crate::error::StatsError;
use crate::posterior::{BetaPosterior, Interval, PosteriorSummary};
use crate::prior::{
    BetaPrior, EffectEstimate, PriorChoice, PriorConfig, ProjectHistory, choose_prior,
};
use crate::proxy::{ProxyAnalysis, ProxySummary, analyze_proxy, validate_all};
use crate::shrinkage::james_stein;

/// Most variants one analysis accepts.
pub const MAX_VARIANTS: usize = 10;

/// One variant's aggregates, as the backend keeps them.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VariantData {
    pub key: String,
    pub visitors: u64,
    pub conversions: u64,
    pub proxy: Option<ProxySummary>,
}

/// The experiment to analyse; the first variant is the control.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExperimentData {
    pub variants: Vec<VariantData>,
    /// The user's prior for every variant's rate, if they gave one.
    pub prior: Option<BetaPrior>,
}

/// Every tunable of the analysis, with defaults explained.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AnalysisConfig {
    /// "Ready to ship" when the leader's expected loss is below this (absolute rate; 0.005 is
    /// half a percentage point).
    pub epsilon: f64,
    /// Half-width of the region of practical equivalence (absolute rate). Default 0.005: a
    /// difference smaller than the loss one is willing to accept is not worth acting on.
    pub rope_half_width: f64,
    /// Minimum-data rule, part 1: every variant needs this many visitors.
    pub min_visitors_per_variant: u64,
    /// Minimum-data rule, part 2: the experiment needs this many conversions in total.
    pub min_total_conversions: u64,
    /// Scored visitors per variant before engagement is compared.
    pub min_proxy_visitors: u64,
    /// Percentile at which the backend should winsorize engagement features (see
    /// [`crate::winsor_caps`]); the analysis itself receives sums of scores.
    pub winsorize_percentile: f64,
    pub prior: PriorConfig,
    pub bandit: BanditConfig,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            epsilon: 0.005,
            rope_half_width: 0.005,
            min_visitors_per_variant: 30,
            min_total_conversions: 5,
            min_proxy_visitors: 30,
            winsorize_percentile: 0.99,
            prior: PriorConfig::default(),
            bandit: BanditConfig::default(),
        }
    }
}

impl AnalysisConfig {
    fn validate(&self) -> Result<(), StatsError> {
        let checks: [(&'static str, f64, bool, &'static str); 5] = [
            ("epsilon", self.epsilon, self.epsilon > 0.0 && self.epsilon < 1.0, "in (0, 1)"),
            (
                "rope_half_width",
                self.rope_half_width,
                self.rope_half_width >= 0.0 && self.rope_half_width < 1.0,
                "in [0, 1)",
            ),
            (
                "winsorize_percentile",
                self.winsorize_percentile,
                (0.5..=1.0).contains(&self.winsorize_percentile),
                "in [0.5, 1]",
            ),
            (
                "bandit.floor",
                self.bandit.floor,
                (0.0..=1.0).contains(&self.bandit.floor),
                "in [0, 1]",
            ),
            (
                "bandit.top_two_beta",
                self.bandit.top_two_beta,
                (0.0..=1.0).contains(&self.bandit.top_two_beta),
                "in [0, 1]",
            ),
        ];
        for (name, value, ok, expected) in checks {
            if !ok || value.is_nan() {
                return Err(StatsError::InvalidConfig { name, value, expected });
            }
        }
        Ok(())
    }
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Decision {
    /// Below the minimum-data rule: the numbers do not mean anything yet.
    CollectingData,
    /// There is a leader, but choosing it now could still cost more than epsilon.
    KeepTesting,
    /// The leader's expected loss is below epsilon.
    ReadyToShip,
    /// Every variant's difference from control lies inside the ROPE.
    PracticallyEquivalent,
}

/// What the decision rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DecisionBasis {
    /// Conversions (the goal itself).
    Conversions,
    /// Conversions are too sparse; engagement serves as a leading indicator.
    ProxyLeadingIndicator,
    /// Neither is sufficient yet.
    NotEnoughData,
}

/// A variant against the control.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ControlComparison {
    /// Difference of posterior means (variant - control), absolute rate.
    pub raw_effect: f64,
    /// Posterior standard deviation of that difference.
    pub std_error: f64,
    /// James-Stein estimate toward the project's grand mean, when enough effects exist.
    pub shrunk_effect: Option<f64>,
    /// P(variant rate > control rate).
    pub prob_better: f64,
    /// 95% highest-density interval of the difference.
    pub difference_hdi_95: Interval,
    /// Whether that interval lies inside the ROPE.
    pub practically_equivalent: bool,
}

/// Everything about one variant.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VariantResult {
    pub key: String,
    pub visitors: u64,
    pub conversions: u64,
    pub posterior: PosteriorSummary,
    pub prob_best: f64,
    /// Expected loss of choosing this variant (absolute rate).
    pub expected_loss: f64,
    /// `None` for the control (the first variant).
    pub vs_control: Option<ControlComparison>,
}

/// How many more visitors the test likely needs.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Forecast {
    /// Total additional visitors across variants; `None` when more than 1000 times the
    /// current traffic would be needed (in practice: the variants are too close to call).
    pub additional_visitors: Option<u64>,
    /// Which outcome the forecast expects first.
    pub expected_decision: Decision,
    /// How the number was obtained.
    pub method: String,
}

/// Recommended traffic split.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BanditAllocation {
    pub mode: BanditMode,
    pub floor: f64,
    /// One entry per variant, in variant order, summing to 1.
    pub weights: Vec<VariantWeight>,
}

/// One variant's traffic share.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VariantWeight {
    pub key: String,
    pub weight: f64,
}

/// The whole analysis, as plain data.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Analysis {
    pub variants: Vec<VariantResult>,
    /// How P(best) and expected loss were computed.
    pub method: ComputationMethod,
    pub prior: PriorChoice,
    pub decision: Decision,
    pub decision_basis: DecisionBasis,
    /// Key of the variant with the lowest expected loss.
    pub leader: String,
    pub recommendation: String,
    /// Present when the decision is `keep_testing` on conversions.
    pub forecast: Option<Forecast>,
    pub bandit: BanditAllocation,
    pub proxy: Option<ProxyAnalysis>,
    /// Plain-English notes and warnings.
    pub notes: Vec<String>,
}

fn validate(experiment: &ExperimentData) -> Result<(), StatsError> {
    let count = experiment.variants.len();
    if count < 2 {
        return Err(StatsError::TooFewVariants { count });
    }
    if count > MAX_VARIANTS {
        return Err(StatsError::TooManyVariants { count, max: MAX_VARIANTS });
    }
    for (i, v) in experiment.variants.iter().enumerate() {
        if v.conversions > v.visitors {
            return Err(StatsError::ConversionsExceedVisitors {
                key: v.key.clone(),
                conversions: v.conversions,
                visitors: v.visitors,
            });
        }
        if experiment.variants[..i].iter().any(|w| w.key == v.key) {
            return Err(StatsError::DuplicateVariant { key: v.key.clone() });
        }
    }
    Ok(())
}

/// Analyses an experiment: posteriors, P(best), expected loss, comparisons with control, the
/// decision and its plain-English recommendation, a forecast, bandit weights and engagement.
///
/// Deterministic: the same input always gives the same output. See the crate documentation
/// for an example.
pub fn analyze(
    experiment: &ExperimentData,
    history: &ProjectHistory,
    config: &AnalysisConfig,
) -> Result<Analysis, StatsError> {
    validate(experiment)?;
    config.validate()?;
    let keys: Vec<&str> = experiment.variants.iter().map(|v| v.key.as_str()).collect();
    let proxies: Vec<Option<ProxySummary>> = experiment.variants.iter().map(|v| v.proxy).collect();
    validate_all(&keys, &proxies)?;
    let prior = choose_prior(experiment.prior, history, &config.prior)?;
    let mut notes = vec![prior.reason.clone()];

    let posteriors: Vec<BetaPosterior> = experiment
        .variants
        .iter()
        .map(|v| BetaPosterior::update(prior.alpha, prior.beta, v.visitors, v.conversions))
        .collect();
    let best = best_arm(&posteriors);
    let control = posteriors[0];

    let mut comparisons: Vec<Option<ControlComparison>> = vec![None];
    for p in &posteriors[1..] {
        let pair = best_arm(&[control, *p]);
        let hdi = difference_hdi(&control, p, 0.95);
        comparisons.push(Some(ControlComparison {
            raw_effect: p.mean() - control.mean(),
            std_error: (p.variance() + control.variance()).sqrt(),
            shrunk_effect: None,
            prob_better: pair.prob_best[1],
            difference_hdi_95: hdi,
            practically_equivalent: hdi.inside_symmetric(config.rope_half_width),
        }));
    }
    apply_shrinkage(&mut comparisons, history, &mut notes);

    let variants: Vec<VariantResult> = experiment
        .variants
        .iter()
        .zip(&posteriors)
        .zip(comparisons)
        .enumerate()
        .map(|(i, ((v, p), vs_control))| VariantResult {
            key: v.key.clone(),
            visitors: v.visitors,
            conversions: v.conversions,
            posterior: p.summary(),
            prob_best: best.prob_best[i],
            expected_loss: best.expected_loss[i],
            vs_control,
        })
        .collect();

    let leader_index = (0..variants.len())
        .min_by(|&a, &b| {
            variants[a].expected_loss.total_cmp(&variants[b].expected_loss).then(a.cmp(&b))
        })
        .unwrap_or(0);
    let proxy = analyze_proxy(&keys, &proxies, config.min_proxy_visitors);
    if proxies.iter().any(Option::is_some) && proxy.is_none() {
        notes.push(format!(
            "Engagement is not compared yet: every variant needs {} scored visitors.",
            config.min_proxy_visitors
        ));
    }

    let weights = bandit_weights(&best.prob_best, &config.bandit);
    if config.bandit.mode == BanditMode::TopTwoThompson && variants.len() == 2 {
        notes.push(
            "With two variants, top-two Thompson sampling splits traffic 50/50 by design; \
             choose plain Thompson mode to send more visitors to the leader while testing."
                .to_string(),
        );
    }
    let bandit = BanditAllocation {
        mode: config.bandit.mode,
        floor: config.bandit.floor,
        weights: variants
            .iter()
            .zip(weights)
            .map(|(v, weight)| VariantWeight { key: v.key.clone(), weight })
            .collect(),
    };

    let verdict = decide(&variants, &posteriors, leader_index, proxy.as_ref(), config);
    notes.extend(verdict.notes);
    Ok(Analysis {
        leader: variants[leader_index].key.clone(),
        variants,
        method: best.method,
        prior,
        decision: verdict.decision,
        decision_basis: verdict.basis,
        recommendation: verdict.recommendation,
        forecast: verdict.forecast,
        bandit,
        proxy,
        notes,
    })
}

/// Shrinks this experiment's effects together with the project's past ones.
fn apply_shrinkage(
    comparisons: &mut [Option<ControlComparison>],
    history: &ProjectHistory,
    notes: &mut Vec<String>,
) {
    let mut estimates: Vec<EffectEstimate> =
        if history.effects.is_empty() { derived_effects(history) } else { history.effects.clone() };
    let past = estimates.len();
    estimates.extend(
        comparisons
            .iter()
            .flatten()
            .map(|c| EffectEstimate { effect: c.raw_effect, std_error: c.std_error }),
    );
    match james_stein(&estimates) {
        Some(shrunk) => {
            for (c, s) in comparisons.iter_mut().flatten().zip(&shrunk.estimates[past..]) {
                c.shrunk_effect = Some(*s);
            }
            notes.push(format!(
                "Shrunk effects pull each raw effect toward the project's average effect \
                 ({:+.2} points) in proportion to its noise ({} effects considered).",
                shrunk.grand_mean * 100.0,
                estimates.len()
            ));
        }
        None => notes.push(format!(
            "No shrunk effects: James-Stein needs at least {} effect estimates, there are {}.",
            crate::shrinkage::MIN_ESTIMATES,
            estimates.len()
        )),
    }
}

/// Effects of past experiments from their counts (uniform-prior posterior means).
fn derived_effects(history: &ProjectHistory) -> Vec<EffectEstimate> {
    let mut out = Vec::new();
    for e in &history.experiments {
        let Some((first, rest)) = e.variants.split_first() else { continue };
        if first.conversions > first.visitors {
            continue;
        }
        let control = BetaPosterior::update(1.0, 1.0, first.visitors, first.conversions);
        for v in rest.iter().filter(|v| v.conversions <= v.visitors) {
            let p = BetaPosterior::update(1.0, 1.0, v.visitors, v.conversions);
            out.push(EffectEstimate {
                effect: p.mean() - control.mean(),
                std_error: (p.variance() + control.variance()).sqrt(),
            });
        }
    }
    out
}

struct Verdict {
    decision: Decision,
    basis: DecisionBasis,
    recommendation: String,
    forecast: Option<Forecast>,
    notes: Vec<String>,
}

fn percent(p: f64) -> String {
    if p > 0.995 {
        ">99%".to_string()
    } else if p < 0.005 {
        "<1%".to_string()
    } else {
        format!("{:.0}%", p * 100.0)
    }
}

fn points(rate: f64) -> String {
    let p = rate * 100.0;
    if p >= 0.095 { format!("{p:.1}") } else { format!("{p:.2}") }
}

fn decide(
    variants: &[VariantResult],
    posteriors: &[BetaPosterior],
    leader: usize,
    proxy: Option<&ProxyAnalysis>,
    config: &AnalysisConfig,
) -> Verdict {
    let fewest = variants.iter().map(|v| v.visitors).min().unwrap_or(0);
    let conversions: u64 = variants.iter().map(|v| v.conversions).sum();
    let enough_visitors = fewest >= config.min_visitors_per_variant;
    let enough_conversions = conversions >= config.min_total_conversions;
    let rule = format!(
        "every variant needs {} visitors and the test {} conversions (now: {} visitors in the \
         smallest variant, {} conversions)",
        config.min_visitors_per_variant, config.min_total_conversions, fewest, conversions
    );
    let mut notes = Vec::new();

    if !(enough_visitors && enough_conversions) {
        if let (true, Some(proxy)) = (enough_visitors, proxy) {
            let lead = proxy.leader().map(|v| (v.key.clone(), v.prob_leads));
            let (key, p) = lead.unwrap_or_default();
            notes.push(
                "Decision based on engagement as a leading indicator: conversions are too \
                 sparse to decide on."
                    .to_string(),
            );
            return Verdict {
                decision: Decision::KeepTesting,
                basis: DecisionBasis::ProxyLeadingIndicator,
                recommendation: format!(
                    "Keep testing: too few conversions to call it yet ({rule}). Early signal: \
                     {key} leads on engagement ({} likely to have the highest engagement \
                     score), which often precedes conversions but is not proof.",
                    percent(p)
                ),
                forecast: None,
                notes,
            };
        }
        return Verdict {
            decision: Decision::CollectingData,
            basis: DecisionBasis::NotEnoughData,
            recommendation: format!("Collecting data: {rule}."),
            forecast: None,
            notes,
        };
    }

    let lead = &variants[leader];
    let others_equivalent =
        variants[1..].iter().flat_map(|v| &v.vs_control).all(|c| c.practically_equivalent);
    if others_equivalent {
        return Verdict {
            decision: Decision::PracticallyEquivalent,
            basis: DecisionBasis::Conversions,
            recommendation: format!(
                "No practical difference: every variant is within {} points of {} (95% \
                 interval of the difference). Keep whichever is simplest to maintain.",
                points(config.rope_half_width),
                variants[0].key
            ),
            forecast: None,
            notes,
        };
    }
    let verb = if leader == 0 { "Keep" } else { "Ship" };
    if lead.expected_loss < config.epsilon {
        return Verdict {
            decision: Decision::ReadyToShip,
            basis: DecisionBasis::Conversions,
            recommendation: format!(
                "{verb} {}: {} likely to be best; if it is not, you lose about {} points of \
                 conversion on average.",
                lead.key,
                percent(lead.prob_best),
                points(lead.expected_loss)
            ),
            forecast: None,
            notes,
        };
    }
    let forecast = forecast_visitors(variants, posteriors, leader, config);
    let more = match forecast.additional_visitors {
        Some(n) => format!("About {n} more visitors are likely needed."),
        None => "The variants are so close that no realistic amount of traffic will separate \
                 them; consider stopping and keeping the simplest."
            .to_string(),
    };
    Verdict {
        decision: Decision::KeepTesting,
        basis: DecisionBasis::Conversions,
        recommendation: format!(
            "Keep testing: {} leads ({} likely to be best), but choosing it now could cost \
             about {} points of conversion on average; the stop rule is {}. {more}",
            lead.key,
            percent(lead.prob_best),
            points(lead.expected_loss),
            points(config.epsilon)
        ),
        forecast: Some(forecast),
        notes,
    }
}

fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Expected positive part of N(-gap, sd^2): the loss of the leader against one rival.
fn normal_loss(gap: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return 0.0;
    }
    let z = gap / sd;
    sd * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt() - gap * normal_cdf(-z)
}

/// Largest traffic multiple the forecast looks at.
const FORECAST_MAX_MULTIPLE: f64 = 1000.0;

/// Plug-in forecast: assume the posterior means are the true rates and that traffic keeps its
/// current split; each posterior variance then shrinks as `alpha + beta` grows. The leader's
/// expected loss is approximated as the sum over rivals of the normal loss
/// `sd phi(gap/sd) - gap Phi(-gap/sd)`, scaled so that it equals the exact expected loss today,
/// and the ROPE rule as `|gap| + 1.96 sd < rope` for every variant against control. Bisection
/// on the traffic multiple finds when either is first met.
fn forecast_visitors(
    variants: &[VariantResult],
    posteriors: &[BetaPosterior],
    leader: usize,
    config: &AnalysisConfig,
) -> Forecast {
    let total: u64 = variants.iter().map(|v| v.visitors).sum();
    let variance_at = |i: usize, multiple: f64| {
        let p = &posteriors[i];
        let weight = p.alpha + p.beta;
        let added = (multiple - 1.0) * variants[i].visitors.max(1) as f64;
        p.variance() * weight / (weight + added)
    };
    let loss_at = |multiple: f64| {
        (0..posteriors.len())
            .filter(|&j| j != leader)
            .map(|j| {
                let gap = posteriors[leader].mean() - posteriors[j].mean();
                normal_loss(gap, (variance_at(leader, multiple) + variance_at(j, multiple)).sqrt())
            })
            .sum::<f64>()
    };
    let today = loss_at(1.0);
    let scale = if today > 0.0 { variants[leader].expected_loss / today } else { 1.0 };
    let ships = |m: f64| scale * loss_at(m) < config.epsilon;
    let equivalent = |m: f64| {
        (1..posteriors.len()).all(|j| {
            let gap = (posteriors[j].mean() - posteriors[0].mean()).abs();
            let sd = (variance_at(j, m) + variance_at(0, m)).sqrt();
            gap + 1.959_963_984_540_054 * sd < config.rope_half_width
        })
    };
    let first_multiple = |rule: &dyn Fn(f64) -> bool| {
        if !rule(FORECAST_MAX_MULTIPLE) {
            return None;
        }
        let (mut lo, mut hi) = (1.0, FORECAST_MAX_MULTIPLE);
        for _ in 0..60 {
            let mid = (lo * hi).sqrt();
            if rule(mid) { hi = mid } else { lo = mid }
        }
        Some(hi)
    };
    let candidates = [
        (first_multiple(&ships), Decision::ReadyToShip),
        (first_multiple(&equivalent), Decision::PracticallyEquivalent),
    ];
    let best = candidates
        .iter()
        .filter_map(|(m, d)| m.map(|m| (m, *d)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let method = "plug-in normal forecast: assumes today's posterior means are the true rates \
                  and traffic keeps its current split, shrinks each variance as visitors \
                  accrue, and finds the traffic at which the leader's expected loss (calibrated \
                  to today's exact value) falls below epsilon or every difference's 95% \
                  interval fits in the ROPE; an estimate, not a promise"
        .to_string();
    match best {
        Some((multiple, decision)) => Forecast {
            additional_visitors: Some(((multiple - 1.0) * total.max(1) as f64).ceil() as u64),
            expected_decision: decision,
            method,
        },
        None => {
            Forecast { additional_visitors: None, expected_decision: Decision::KeepTesting, method }
        }
    }
}
