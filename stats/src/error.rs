//! The ways an analysis can be refused. Each variant names the offending input so that the
//! backend can show it to the user as is.

use thiserror::Error;

/// Why `analyze` (or one of the building blocks) could not produce an answer.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// Comparing needs at least two variants.
    #[error("an experiment needs at least 2 variants to compare, got {count}")]
    TooFewVariants { count: usize },
    /// The exact computations are tuned for small experiments.
    #[error("at most {max} variants are supported, got {count}")]
    TooManyVariants { count: usize, max: usize },
    /// Two variants share a key, so their results could not be told apart.
    #[error("variant key {key:?} appears more than once")]
    DuplicateVariant { key: String },
    /// A variant reports more conversions than visitors (double-counted goals, usually).
    #[error("variant {key:?} has {conversions} conversions but only {visitors} visitors")]
    ConversionsExceedVisitors { key: String, conversions: u64, visitors: u64 },
    /// A Beta prior needs two positive, finite parameters.
    #[error("prior Beta({alpha}, {beta}) is invalid: both parameters must be positive and finite")]
    InvalidPrior { alpha: f64, beta: f64 },
    /// A proxy (engagement) aggregate contains NaN or infinity.
    #[error("proxy sums of variant {key:?} are not finite ({field} = {value})")]
    NonFiniteProxy { key: String, field: &'static str, value: f64 },
    /// A proxy aggregate that cannot come from real data (for example a negative variance).
    #[error("proxy sums of variant {key:?} are inconsistent: {reason}")]
    InconsistentProxy { key: String, reason: String },
    /// A configuration value outside its meaningful range.
    #[error("configuration value {name} = {value} is out of range: {expected}")]
    InvalidConfig { name: &'static str, value: f64, expected: &'static str },
}
