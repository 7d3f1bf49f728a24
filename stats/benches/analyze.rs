//! The full analysis for 2, 3 and 10 variants, beside the 100 000-draw Monte Carlo estimate of
//! P(best) and expected loss that common tools use, in the same benchmark group.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use vibariant_stats::{
    AnalysisConfig, BetaPosterior, ExperimentData, ProjectHistory, VariantData, analyze,
    monte_carlo_best,
};

/// Realistic experiments: 1 000 visitors per variant, rates between 3% and 5%.
fn experiment(variants: usize) -> ExperimentData {
    ExperimentData {
        variants: (0..variants)
            .map(|i| VariantData {
                key: format!("v{i}"),
                visitors: 1000,
                conversions: 30 + (20 * i / variants.max(2)) as u64,
                proxy: None,
            })
            .collect(),
        prior: None,
    }
}

fn bench(c: &mut Criterion) {
    let history = ProjectHistory::default();
    let config = AnalysisConfig::default();
    let mut group = c.benchmark_group("analysis_vs_monte_carlo");
    for k in [2, 3, 10] {
        let data = experiment(k);
        group.bench_with_input(BenchmarkId::new("exact_analyze", k), &data, |b, data| {
            b.iter(|| analyze(black_box(data), &history, &config).expect("valid"))
        });
        let posteriors: Vec<BetaPosterior> = data
            .variants
            .iter()
            .map(|v| BetaPosterior::update(1.0, 19.0, v.visitors, v.conversions))
            .collect();
        group.bench_with_input(
            BenchmarkId::new("monte_carlo_100k", k),
            &posteriors,
            |b, posteriors| {
                let mut rng = StdRng::seed_from_u64(7);
                b.iter(|| monte_carlo_best(black_box(posteriors), 100_000, &mut rng))
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
