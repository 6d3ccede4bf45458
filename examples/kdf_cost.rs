//! How long a PBKDF2-HMAC-SHA256 login costs on this machine (issue 21): the time of one hash
//! at a few `--hash-cost` values, the median of several, to choose a cost for a box.
//! `cargo run --release --example kdf_cost [COST…]`

use chatserver::kdf::Pbkdf2;
use std::time::Instant;

fn main() {
    let mut costs: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if costs.is_empty() {
        costs = vec![1_000, 4_096, 10_000, 100_000];
    }
    for cost in costs {
        let mut times: Vec<f64> = (0..9)
            .map(|i| {
                let t = Instant::now();
                std::hint::black_box(Pbkdf2::derive(b"falcon*solo", &[i as u8; 16], cost));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "cost {cost:>7}: {:.3} ms a hash (median of 9; min {:.3}, max {:.3}), {:.0} ns a round",
            times[4],
            times[0],
            times[8],
            times[4] * 1e6 / f64::from(cost)
        );
    }
}
