//! Prints the error of the 100 000-draw Monte Carlo estimate against the exact values, for the
//! same experiments as the benchmark: `cargo run --release -p vibariant-stats --example
//! accuracy`.

use rand::SeedableRng;
use rand::rngs::StdRng;
use vibariant_stats::{BetaPosterior, best_arm, monte_carlo_best};

#[allow(clippy::print_stdout, reason = "an example whose job is to print a table")]
fn main() {
    println!("variants  max|P err|  max|EL err|  (100 000 draws, 20 seeds, worst seed)");
    for k in [2usize, 3, 10] {
        let posteriors: Vec<BetaPosterior> = (0..k)
            .map(|i| BetaPosterior::update(1.0, 19.0, 1000, 30 + (20 * i / k.max(2)) as u64))
            .collect();
        let exact = best_arm(&posteriors);
        let (mut worst_p, mut worst_el) = (0.0_f64, 0.0_f64);
        for seed in 0..20 {
            let mc = monte_carlo_best(&posteriors, 100_000, &mut StdRng::seed_from_u64(seed));
            for i in 0..k {
                worst_p = worst_p.max((mc.prob_best[i] - exact.prob_best[i]).abs());
                worst_el = worst_el.max((mc.expected_loss[i] - exact.expected_loss[i]).abs());
            }
        }
        println!("{k:>8}  {worst_p:>10.2e}  {worst_el:>11.2e}");
    }
}
