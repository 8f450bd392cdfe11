//! Native timing of the fingerprint of bench.js's 1 KB order payload (`makePayload(1024)`):
//! the canonical form straight from the JSON text, then SHA-256, each timed on its own.
//! A tool for finding what to speed up (BENCHMARKS.md, "Issue 21: create"); it asserts
//! nothing. Usage: `cargo run --release --example fingerprint_time [iterations | --print]`.
use sendonce::core::fingerprint::{fingerprint_json, sha256_hex};
use sendonce::core::json::canonical_text;
use std::time::Instant;

/// The order payload of bench/bench.js, `{ ...makePayload(1024)(77) }`, as `JSON.stringify`
/// writes it (1017 bytes).
fn payload() -> String {
    let mut items = Vec::new();
    let text = |items: &[String], note: &str| {
        format!(
            r#"{{"id":77,"customer":{{"name":"Ana Souza","email":"ana@example.com"}},"items":[{}],"note":"{note}"}}"#,
            items.join(",")
        )
    };
    // bench.js measures the object with `id: 0`, one byte shorter than with 77.
    while text(&items, "").len() - 1 < 1024 - 60 {
        let n = items.len();
        let price = 9.5 + n as f64;
        items.push(format!(
            r#"{{"sku":"SKU-{}","name":"Item number {n}","qty":{},"price":{price}}}"#,
            100_000 + n,
            n % 5 + 1
        ));
    }
    let pad = 1024usize.saturating_sub(text(&items, "").len() - 1 + 8);
    text(&items, &"x".repeat(pad))
}

fn main() {
    let arg = std::env::args().nth(1);
    let text = payload();
    if arg.as_deref() == Some("--print") {
        println!("{text}");
        return;
    }
    let n: u32 = arg.and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let canon = canonical_text(&text, &|_, _| false).unwrap_or_default();
    let time = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        let mut sink = 0;
        for _ in 0..n {
            sink += f();
        }
        (t.elapsed().as_secs_f64() / f64::from(n) * 1e6, sink)
    };
    for round in 1..=3 {
        let (fp, _) = time(&|| fingerprint_json(&text, &[]).map_or(0, |f| f.as_str().len()));
        let (c, _) = time(&|| canonical_text(&text, &|_, _| false).map_or(0, |c| c.len()));
        let (h, _) = time(&|| sha256_hex(canon.as_bytes()).as_str().len());
        println!(
            "round {round}: fingerprint_json {fp:.2} us = canonical_text {c:.2} us + sha256 {h:.2} us ({} B)",
            text.len()
        );
    }
}
