//! `assign` against a plain FNV-1a loop over the same bytes, in the same run.
//!
//! The baseline hashes `visitor_id:experiment_key` and takes the bucket; `assign` does that
//! plus validation and the range walk. The ratio of the two is the cost of the rule itself.
//! Run with `cargo bench -p vibariant-core --bench assign`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vibariant_core::{AssignmentRequest, assign, resolve};

const VISITOR: &str = "3f2b9c1e-8d4a-4f6b-9a7e-2c5d1b0e9f84";
const EXPERIMENT: &str = "hero-cta";
const WEIGHTS: [f64; 3] = [0.2, 0.3, 0.5];

fn fnv1a_bucket(visitor_id: &str, experiment_key: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = visitor_id.bytes().chain(*b":").chain(experiment_key.bytes());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % 10_000) as u32
}

fn bench_assign(c: &mut Criterion) {
    let mut group = c.benchmark_group("assign");
    group.bench_function("baseline_fnv1a_loop", |b| {
        b.iter(|| fnv1a_bucket(black_box(VISITOR), black_box(EXPERIMENT)))
    });
    group.bench_function("assign_3_variants", |b| {
        b.iter(|| assign(black_box(VISITOR), black_box(EXPERIMENT), black_box(&WEIGHTS), 0.8))
    });
    group.bench_function("resolve_sticky_absent", |b| {
        b.iter(|| {
            resolve(black_box(&AssignmentRequest {
                visitor_id: VISITOR,
                experiment_key: EXPERIMENT,
                weights: &WEIGHTS,
                coverage: 0.8,
                forced: None,
                sticky: None,
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_assign);
criterion_main!(benches);
