//! A recount of the aggregates from the stored rows, for tests and for checking a database
//! after a crash: every per-variant count must equal what the rows beneath it add up to.

use sqlx::Row as _;

use super::Store;

/// Lists every aggregate that differs from its recount; empty when all agree.
///
/// - `variant_stats.visitors` = first exposures stored for the variant, and every first
///   exposure is backed by a raw `exposure` event of the same visitor, variant and time;
/// - `goal_stats.conversions` and `value_sum` = the conversions stored for the variant and goal;
/// - `metric_stats` sums = the per-visitor values (`visitor_engagement`) of exposed visitors.
pub async fn recount(store: &Store) -> Result<Vec<String>, sqlx::Error> {
    let pool = store.pool();
    let mut mismatches = Vec::new();
    let checks = [
        (
            "variant_stats",
            "SELECT s.experiment_id, s.variant, s.visitors, \
             (SELECT COUNT(*) FROM exposures x WHERE x.experiment_id = s.experiment_id \
                 AND x.variant = s.variant) FROM variant_stats s",
        ),
        (
            "goal_stats",
            "SELECT s.experiment_id, s.variant || '/' || s.goal_key, s.conversions, \
             (SELECT COUNT(*) FROM conversions c WHERE c.experiment_id = s.experiment_id \
                 AND c.variant = s.variant AND c.goal_key = s.goal_key) FROM goal_stats s",
        ),
        (
            "exposures without a raw event",
            "SELECT x.experiment_id, x.visitor_id, 1, \
             (SELECT COUNT(*) FROM events ev JOIN experiments e ON e.id = x.experiment_id \
                 WHERE ev.project_id = x.project_id AND ev.visitor_id = x.visitor_id \
                 AND ev.kind = 'exposure' AND ev.experiment_key = e.key \
                 AND ev.variant = x.variant AND ev.ts = x.exposed_ts) FROM exposures x",
        ),
    ];
    for (name, sql) in checks {
        for row in sqlx::query(sql).fetch_all(pool).await? {
            let stored: i64 = row.get(2);
            let counted: i64 = row.get(3);
            let mismatch =
                if name.starts_with("exposures") { counted == 0 } else { stored != counted };
            if mismatch {
                let (experiment, what): (String, String) = (row.get(0), row.get(1));
                mismatches.push(format!(
                    "{name}: experiment {experiment} {what}: stored {stored}, recounted {counted}"
                ));
            }
        }
    }
    // Conversions also add up on value; metric sums on the per-visitor values.
    let sums = [
        (
            "goal_stats value_sum",
            "SELECT s.experiment_id, s.variant || '/' || s.goal_key, s.value_sum, \
             (SELECT COALESCE(SUM(c.value), 0.0) FROM conversions c \
                 WHERE c.experiment_id = s.experiment_id AND c.variant = s.variant \
                 AND c.goal_key = s.goal_key) FROM goal_stats s",
        ),
        (
            "metric_stats value_sum",
            "SELECT s.experiment_id, s.variant || '/' || s.metric, s.value_sum, \
             (SELECT COALESCE(SUM(v.value), 0.0) FROM visitor_engagement v \
                 JOIN exposures x ON x.experiment_id = v.experiment_id \
                     AND x.visitor_id = v.visitor_id \
                 WHERE v.experiment_id = s.experiment_id AND x.variant = s.variant \
                 AND v.metric = s.metric) FROM metric_stats s WHERE s.metric <> 'engagement_score'",
        ),
    ];
    for (name, sql) in sums {
        for row in sqlx::query(sql).fetch_all(pool).await? {
            let stored: f64 = row.get(2);
            let counted: f64 = row.get(3);
            if (stored - counted).abs() > 1e-6 * stored.abs().max(1.0) {
                let (experiment, what): (String, String) = (row.get(0), row.get(1));
                mismatches.push(format!(
                    "{name}: experiment {experiment} {what}: stored {stored}, recounted {counted}"
                ));
            }
        }
    }
    Ok(mismatches)
}
