//! Times `Fixture::parse` on one file, for the parse figures in the runner benchmark notes.
//!
//!     cargo run --release -p tau-deployment --example parse_fixture -- FIXTURE [REPEATS] [load]
//!
//! Prints the median wall time of REPEATS parses (default 5) and the case count; with `load`,
//! times one `Fixture::load` (streamed from the file) instead. Peak memory is
//! measured from outside (`/usr/bin/time -f %M`).

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_fixture FIXTURE [REPEATS]");
        std::process::exit(2);
    };
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    if args.next().as_deref() == Some("load") {
        // The path the runner takes: streamed from the file.
        let started = Instant::now();
        match tau_deployment::fixture::Fixture::load(std::path::Path::new(&path)) {
            Ok(fixture) => println!(
                "fixture load: cases={} seconds={:.3}",
                fixture.cases.len(),
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        }
        return;
    }
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let mut times = Vec::with_capacity(repeats);
    let mut cases = 0;
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        match tau_deployment::fixture::Fixture::parse(&bytes) {
            Ok(fixture) => cases = fixture.cases.len(),
            Err(problems) => {
                eprintln!("{path} is invalid: {}", problems[0]);
                std::process::exit(2);
            }
        }
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "fixture parse: cases={cases} median_seconds={:.3} repeats={}",
        times[times.len() / 2],
        times.len()
    );
}
