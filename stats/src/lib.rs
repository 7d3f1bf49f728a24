//! vibariant-stats: turns per-variant counts and sums into a decision a non-statistician can
//! trust.
//!
//! Pure functions, no I/O, no global randomness: the same input always gives the same output.
//! Everything is reached through one function, [`analyze`]:
//!
//! ```
//! use vibariant_stats::{analyze, AnalysisConfig, Decision, ExperimentData, ProjectHistory,
//!     VariantData};
//!
//! let experiment = ExperimentData {
//!     variants: vec![
//!         VariantData { key: "control".into(), visitors: 4000, conversions: 120, proxy: None },
//!         VariantData { key: "bold".into(), visitors: 4000, conversions: 190, proxy: None },
//!     ],
//!     prior: None,
//! };
//! let analysis = analyze(&experiment, &ProjectHistory::default(), &AnalysisConfig::default())
//!     .expect("valid input");
//! assert_eq!(analysis.decision, Decision::ReadyToShip);
//! assert_eq!(analysis.leader, "bold");
//! println!("{}", analysis.recommendation);
//! // "Ship bold: >99% likely to be best; if it is not, you lose about 0.00 points ..."
//! ```
//!
//! # What the numbers are
//! - **Posteriors**: Beta-Binomial conjugate updates of the prior (see [`choose_prior`]: the
//!   user's, else empirical Bayes from the project's history with a capped weight, else
//!   Beta(1, 19)); mean, equal-tailed and highest-density 95% intervals.
//! - **P(best)** and **expected loss** (module [`best`]): exact. Closed forms (Evan Miller,
//!   Chris Stucchio) for two variants with whole-number parameters up to 4 000 conversions,
//!   deterministic quadrature otherwise (its cost does not grow with the counts), accurate to
//!   better than 1e-6 absolute (tests compare with independent fixtures made by
//!   `scripts/gen-stats-fixtures.py`).
//! - **Difference from control** (module [`difference`]): 95% HDI of the difference of rates
//!   and the ROPE rule.
//! - **Decision**: `collecting_data` below the minimum-data rule (every variant 30 visitors and
//!   5 conversions in total, configurable), `practically_equivalent` when every difference's HDI
//!   is inside the ROPE (default +/-0.5 points), `ready_to_ship` when the leader's expected
//!   loss is below epsilon (default 0.5 points), `keep_testing` otherwise, with a visitors
//!   forecast. With too few conversions but enough engagement data the decision is
//!   `keep_testing` on engagement as a leading indicator, and says so.
//! - **Shrinkage** ([`james_stein`]), **bandit weights** ([`bandit_weights`]) and **engagement
//!   proxies** (module [`proxy`], which documents exactly which running sums the backend keeps).

pub mod analysis;
pub mod bandit;
pub mod best;
pub mod difference;
pub mod error;
pub mod monte_carlo;
pub mod posterior;
pub mod prior;
pub mod proxy;
pub(crate) mod quadrature;
pub mod shrinkage;

pub use analysis::{
    Analysis, AnalysisConfig, BanditAllocation, ControlComparison, Decision, DecisionBasis,
    ExperimentData, Forecast, MAX_VARIANTS, VariantData, VariantResult, VariantWeight, analyze,
};
pub use bandit::{BanditConfig, BanditMode, bandit_weights};
pub use best::{BestArm, ComputationMethod, best_arm, best_arm_quadrature};
pub use difference::difference_hdi;
pub use error::StatsError;
pub use monte_carlo::{MonteCarloEstimate, monte_carlo_best};
pub use posterior::{BetaPosterior, Interval, PosteriorSummary};
pub use prior::{
    BetaPrior, EffectEstimate, PastExperiment, PriorChoice, PriorConfig, PriorTier, ProjectHistory,
    VariantCounts, choose_prior,
};
pub use proxy::{
    CalibrationSums, CovariateSums, EngagementFeatures, ProxyAnalysis, ProxySummary, ProxyVariant,
    ProxyWeights, WeightCalibration, WeightSource, WinsorCaps, calibrate_weights, engagement_score,
    winsor_caps,
};
pub use shrinkage::{Shrunk, james_stein};
