//! `GET /v1/experiments/{id}/results`: the stats engine's analysis, read from aggregates only.
//!
//! The cost is O(variants) for the experiment plus O(past experiments) for the project's
//! history (capped at [`HISTORY_LIMIT`]), never a scan of raw events. The history of completed
//! experiments (their primary-goal counts) feeds the engine's empirical-Bayes prior and its
//! James-Stein shrinkage.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row as _};
use vibariant_stats::{
    AnalysisConfig, BanditMode, ExperimentData, PastExperiment, ProjectHistory, ProxySummary,
    VariantCounts, VariantData,
};

use crate::auth::ApiKey;
use crate::config::{GoalCounts, goal_counts};
use crate::error::{ApiError, ApiResult};
use crate::experiments::{self, Allocation, Experiment, Status};
use crate::ingest::ENGAGEMENT_SCORE;
use crate::state::AppState;

/// Most recent completed experiments used as history.
pub const HISTORY_LIMIT: i64 = 50;

fn analysis_config(allocation: Allocation) -> AnalysisConfig {
    let mut config = AnalysisConfig::default();
    config.bandit.mode = match allocation {
        Allocation::Thompson => BanditMode::Thompson,
        Allocation::TopTwo | Allocation::Fixed => BanditMode::TopTwoThompson,
    };
    config
}

fn variant_data(experiment: &Experiment, counts: &GoalCounts) -> Vec<VariantData> {
    experiment
        .variants
        .iter()
        .enumerate()
        .map(|(i, variant)| VariantData {
            key: variant.name.clone(),
            visitors: counts.visitors[i],
            // Conversions can only come from exposed visitors, but a clamp keeps a hand-edited
            // database from turning into an error page.
            conversions: counts.conversions[i].min(counts.visitors[i]),
            proxy: None,
        })
        .collect()
}

/// Bandit weights for an allocation mode from primary-goal counts, in variant order.
pub fn bandit_weights(
    experiment: &Experiment,
    counts: &GoalCounts,
) -> Result<Vec<f64>, vibariant_stats::StatsError> {
    let data = ExperimentData { variants: variant_data(experiment, counts), prior: None };
    let analysis = vibariant_stats::analyze(
        &data,
        &ProjectHistory::default(),
        &analysis_config(experiment.allocation),
    )?;
    let by_key: HashMap<&str, f64> =
        analysis.bandit.weights.iter().map(|w| (w.key.as_str(), w.weight)).collect();
    Ok(experiment
        .variants
        .iter()
        .map(|variant| by_key.get(variant.name.as_str()).copied().unwrap_or(0.0))
        .collect())
}

/// The primary-goal counts of the project's recently completed experiments.
async fn project_history(
    conn: &mut AnyConnection,
    project_id: &str,
    exclude: &str,
) -> ApiResult<ProjectHistory> {
    let past: Vec<(String, Option<String>)> = sqlx::query(
        "SELECT id, primary_goal FROM experiments \
         WHERE project_id = $1 AND status = 'completed' AND id <> $2 \
         ORDER BY completed_at DESC LIMIT $3",
    )
    .bind(project_id)
    .bind(exclude)
    .bind(HISTORY_LIMIT)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    let mut history = ProjectHistory::default();
    for (id, goal) in past {
        let experiment = experiments::load(conn, project_id, &id).await?;
        let counts = goal_counts(conn, &experiment, goal.as_deref()).await?;
        history.experiments.push(PastExperiment {
            variants: counts
                .visitors
                .iter()
                .zip(&counts.conversions)
                .map(|(&visitors, &conversions)| VariantCounts {
                    visitors,
                    conversions: conversions.min(visitors),
                })
                .collect(),
        });
    }
    Ok(history)
}

/// Per-variant sums of one metric.
async fn metric_sums(
    conn: &mut AnyConnection,
    experiment_id: &str,
    metric: &str,
) -> ApiResult<HashMap<String, (i64, f64, f64)>> {
    Ok(sqlx::query(
        "SELECT variant, n, value_sum, value_sum_sq FROM metric_stats \
         WHERE experiment_id = $1 AND metric = $2",
    )
    .bind(experiment_id)
    .bind(metric)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3))))
    .collect())
}

/// `GET /v1/experiments/{id}/results`.
pub async fn results(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut conn = state.store().pool().acquire().await?;
    let experiment = experiments::load(&mut conn, &key.project_id, &id).await?;
    let goal = experiment.primary_goal.clone();
    let counts = goal_counts(&mut conn, &experiment, goal.as_deref()).await?;
    let mut variants = variant_data(&experiment, &counts);

    // Every exposed visitor has a score; those with no engagement score 0, so n is the
    // visitor count and the stored sums (over visitors with engagement) are complete.
    let uses_score = experiment.proxy_metrics.iter().any(|metric| metric == ENGAGEMENT_SCORE);
    if uses_score {
        let sums = metric_sums(&mut conn, &experiment.id, ENGAGEMENT_SCORE).await?;
        for variant in &mut variants {
            let (_, sum, sum_sq) = sums.get(&variant.key).copied().unwrap_or_default();
            variant.proxy = Some(ProxySummary {
                n: variant.visitors,
                sum: sum.max(0.0),
                sum_sq: sum_sq.max(0.0),
                covariate: None,
            });
        }
    }

    let mut metrics = serde_json::Map::new();
    for metric in experiment.proxy_metrics.iter().filter(|m| m.as_str() != ENGAGEMENT_SCORE) {
        let sums = metric_sums(&mut conn, &experiment.id, metric).await?;
        let per_variant: Vec<Value> = experiment
            .variants
            .iter()
            .zip(&counts.visitors)
            .map(|(variant, &visitors)| {
                let (_, sum, _) = sums.get(&variant.name).copied().unwrap_or_default();
                let mean = if visitors > 0 { sum / visitors as f64 } else { 0.0 };
                json!({ "variant": variant.name, "visitors": visitors, "sum": sum,
                        "mean_per_visitor": mean })
            })
            .collect();
        metrics.insert(metric.clone(), Value::Array(per_variant));
    }

    let history = project_history(&mut conn, &key.project_id, &experiment.id).await?;
    let data = ExperimentData { variants, prior: None };
    let analysis =
        vibariant_stats::analyze(&data, &history, &analysis_config(experiment.allocation))
            .map_err(|error| ApiError::Unprocessable(format!("cannot analyse: {error}")))?;
    let status = match experiment.status {
        Status::Draft => "draft",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Completed => "completed",
    };
    Ok(Json(json!({
        "experiment": { "id": experiment.id, "key": experiment.key, "status": status,
                        "primary_goal": goal, "allocation": experiment.allocation,
                        "shipped_variant": experiment.shipped_variant },
        "history_experiments": history.experiments.len(),
        "analysis": analysis,
        "metrics": metrics,
    })))
}
