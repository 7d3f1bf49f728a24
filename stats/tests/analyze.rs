//! The entry point end to end: degenerate input, each decision, the recommendation text and
//! the serialised shape.

use vibariant_stats::{
    AnalysisConfig, BanditMode, Decision, DecisionBasis, ExperimentData, PastExperiment, PriorTier,
    ProjectHistory, ProxySummary, StatsError, VariantCounts, VariantData, analyze,
};

fn variant(key: &str, visitors: u64, conversions: u64) -> VariantData {
    VariantData { key: key.into(), visitors, conversions, proxy: None }
}

fn run(variants: Vec<VariantData>) -> Result<vibariant_stats::Analysis, StatsError> {
    analyze(
        &ExperimentData { variants, prior: None },
        &ProjectHistory::default(),
        &AnalysisConfig::default(),
    )
}

#[test]
fn zero_visitors_is_collecting_data_with_even_answers() {
    let a = run(vec![variant("control", 0, 0), variant("bold", 0, 0)]).unwrap();
    assert_eq!(a.decision, Decision::CollectingData);
    assert_eq!(a.decision_basis, DecisionBasis::NotEnoughData);
    assert!((a.variants[0].prob_best - 0.5).abs() < 1e-12);
    assert!(a.recommendation.contains("30 visitors"), "{}", a.recommendation);
    assert_eq!(a.prior.tier, PriorTier::Default);
}

#[test]
fn zero_conversions_everywhere_is_collecting_data() {
    let a = run(vec![variant("control", 500, 0), variant("bold", 500, 0)]).unwrap();
    assert_eq!(a.decision, Decision::CollectingData);
    assert!(a.variants.iter().all(|v| v.expected_loss.is_finite()));
}

#[test]
fn conversions_above_visitors_is_a_typed_error() {
    let err = run(vec![variant("control", 10, 11), variant("bold", 10, 1)]).unwrap_err();
    assert_eq!(
        err,
        StatsError::ConversionsExceedVisitors {
            key: "control".into(),
            conversions: 11,
            visitors: 10
        }
    );
    assert!(err.to_string().contains("11 conversions but only 10 visitors"));
}

#[test]
fn one_variant_and_duplicates_are_refused() {
    assert_eq!(
        run(vec![variant("only", 10, 1)]).unwrap_err(),
        StatsError::TooFewVariants { count: 1 }
    );
    assert!(matches!(
        run(vec![variant("a", 10, 1), variant("a", 10, 1)]),
        Err(StatsError::DuplicateVariant { .. })
    ));
}

#[test]
fn nan_in_proxy_sums_is_a_typed_error() {
    let mut bold = variant("bold", 100, 3);
    bold.proxy = Some(ProxySummary { n: 100, sum: f64::NAN, sum_sq: 10.0, covariate: None });
    let err = run(vec![variant("control", 100, 2), bold]).unwrap_err();
    assert!(matches!(err, StatsError::NonFiniteProxy { field: "sum", .. }), "{err:?}");
}

#[test]
fn clear_winner_is_ready_to_ship_with_a_plain_sentence() {
    let a = run(vec![variant("Control", 4000, 120), variant("Bold", 4000, 190)]).unwrap();
    assert_eq!(a.decision, Decision::ReadyToShip);
    assert_eq!(a.leader, "Bold");
    assert!(
        a.recommendation.starts_with("Ship Bold: >99% likely to be best"),
        "{}",
        a.recommendation
    );
    let vs = a.variants[1].vs_control.as_ref().unwrap();
    assert!(vs.prob_better > 0.99 && vs.difference_hdi_95.lower > 0.0);
    // Two variants under top-two: an even split, and a note saying why.
    assert!(a.bandit.weights.iter().all(|w| (w.weight - 0.5).abs() < 1e-12));
    assert!(a.notes.iter().any(|n| n.contains("50/50")));
}

#[test]
fn close_race_keeps_testing_with_a_forecast() {
    let a = run(vec![variant("control", 100, 20), variant("bold", 100, 24)]).unwrap();
    assert_eq!(a.decision, Decision::KeepTesting);
    let forecast = a.forecast.as_ref().expect("forecast when keep testing");
    let more = forecast.additional_visitors.expect("a finite forecast");
    assert!(more > 0, "{forecast:?}");
    assert!(
        a.recommendation.contains(&format!("About {more} more visitors")),
        "{}",
        a.recommendation
    );
}

#[test]
fn identical_large_variants_are_practically_equivalent() {
    let a = run(vec![
        variant("control", 200_000, 6000),
        variant("b", 200_000, 6010),
        variant("c", 200_000, 5995),
    ])
    .unwrap();
    assert_eq!(a.decision, Decision::PracticallyEquivalent, "{}", a.recommendation);
    assert!(a.variants[1..].iter().all(|v| v.vs_control.as_ref().unwrap().practically_equivalent));
}

#[test]
fn sparse_conversions_fall_back_on_engagement_and_say_so() {
    let summary = |mean: f64| {
        let mut s = ProxySummary::default();
        for i in 0..200 {
            s.add(mean + ((i % 10) as f64 - 4.5) * 0.02, None);
        }
        s
    };
    let mut control = variant("control", 200, 1);
    control.proxy = Some(summary(0.30));
    let mut bold = variant("bold", 200, 2);
    bold.proxy = Some(summary(0.40));
    let a = run(vec![control, bold]).unwrap();
    assert_eq!(a.decision, Decision::KeepTesting);
    assert_eq!(a.decision_basis, DecisionBasis::ProxyLeadingIndicator);
    assert!(a.recommendation.contains("bold leads on engagement"), "{}", a.recommendation);
    assert!(a.notes.iter().any(|n| n.contains("leading indicator")));
    assert!(a.proxy.unwrap().variants[1].prob_leads > 0.99);
}

#[test]
fn history_gives_an_empirical_prior_and_shrunk_effects() {
    let past = |c: [u64; 2]| PastExperiment {
        variants: vec![
            VariantCounts { visitors: 1000, conversions: c[0] },
            VariantCounts { visitors: 1000, conversions: c[1] },
        ],
    };
    let history = ProjectHistory {
        experiments: vec![past([30, 36]), past([40, 38]), past([25, 33]), past([35, 35])],
        effects: vec![],
    };
    let a = analyze(
        &ExperimentData {
            variants: vec![variant("control", 500, 15), variant("bold", 500, 25)],
            prior: None,
        },
        &history,
        &AnalysisConfig::default(),
    )
    .unwrap();
    assert_eq!(a.prior.tier, PriorTier::ProjectHistory);
    let vs = a.variants[1].vs_control.as_ref().unwrap();
    let shrunk = vs.shrunk_effect.expect("five effects are enough");
    assert!(shrunk.abs() < vs.raw_effect.abs(), "{shrunk} vs {}", vs.raw_effect);
}

#[test]
fn ten_variants_thompson_mode_weights_sum_to_one() {
    let variants = (0..10).map(|i| variant(&format!("v{i}"), 1000, 30 + 2 * i)).collect();
    let mut config = AnalysisConfig::default();
    config.bandit.mode = BanditMode::Thompson;
    let a = analyze(&ExperimentData { variants, prior: None }, &ProjectHistory::default(), &config)
        .unwrap();
    let total: f64 = a.bandit.weights.iter().map(|w| w.weight).sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert!(a.bandit.weights.iter().all(|w| w.weight >= 0.1 / 2.0 - 1e-12));
    assert_eq!(a.leader, "v9");
}

#[cfg(feature = "serde")]
#[test]
fn serialises_decisions_in_snake_case() {
    let a = run(vec![variant("control", 0, 0), variant("bold", 0, 0)]).unwrap();
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["decision"], "collecting_data");
    assert_eq!(json["decision_basis"], "not_enough_data");
    assert_eq!(json["prior"]["tier"], "default");
    assert_eq!(json["bandit"]["mode"], "top_two_thompson");
    let back: vibariant_stats::Analysis = serde_json::from_value(json).unwrap();
    assert_eq!(back, a);
}
