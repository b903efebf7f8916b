//! Micro-benchmark of rlog's per-line hot path: splitting input into lines and rendering
//! each with the default pattern (and `%{message}`, and JSON) into a batch.
//!
//! Run with `cargo bench`. A plain harness: it times a fixed workload several times and
//! prints the median, in nanoseconds per line and MiB/s of input.

use std::hint::black_box;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rlog::input::LineSplitter;
use rlog::level::LevelTable;
use rlog::pattern::{Context, DEFAULT, Pattern};
use rlog::record::{Batch, Line, Stream};
use rlog::render::{JsonStyle, Renderer, Style};

const LINES: usize = 200_000;
const RUNS: usize = 9;

/// ~80-byte log-like lines, the same every run.
fn input() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..LINES {
        let line = format!(
            "worker-{:02} processed request id={:08x} path=/api/v1/items/{} status=200 in {}ms\n",
            i % 16,
            i.wrapping_mul(2_654_435_761),
            i % 977,
            i % 250
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn renderer(kind: &str, levels: &LevelTable) -> Renderer {
    let zone = TimeZone::fixed(jiff::tz::offset(1));
    let context = Context {
        host: b"bench".to_vec(),
        tag: Vec::new(),
        pid: 1,
    };
    let compile =
        |text: &str| Pattern::compile(text, levels, &zone, context.clone()).expect("pattern");
    let style = match kind {
        "json" => Style::Json(JsonStyle::new(
            compile("%{timestamp}"),
            levels,
            context.clone(),
        )),
        "message" => Style::Pattern(compile("%{message}")),
        _ => Style::Pattern(compile(DEFAULT)),
    };
    Renderer::new(style, false)
}

/// Splits and renders the whole input in 64 KiB chunks, as the pipeline does, with the
/// clock advancing 1 ms per chunk so the timestamp cache sees realistic misses.
fn run_once(input: &[u8], renderer: &mut Renderer) -> usize {
    let mut splitter = LineSplitter::new(1 << 20);
    let mut batch = Batch::with_capacity(128 * 1024);
    let mut seq = 0u64;
    let mut rendered = 0;
    let start = Timestamp::now();
    for (i, chunk) in input.chunks(64 * 1024).enumerate() {
        let now = start + Duration::from_millis(i as u64);
        splitter.feed(chunk, now, |message, time| {
            seq += 1;
            let line = Line {
                message,
                time,
                level: LevelTable::INFO,
                seq,
                stream: Stream::Stdin,
            };
            renderer.push(&line, &mut batch);
        });
        rendered += batch.text.len();
        black_box(&batch);
        batch.text.clear();
        batch.records.clear();
    }
    rendered
}

fn main() {
    let input = input();
    let levels = LevelTable::default();
    for kind in ["default", "message", "json"] {
        let mut r = renderer(kind, &levels);
        run_once(&input, &mut r);
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                black_box(run_once(&input, &mut r));
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[RUNS / 2];
        let per_line = median.as_nanos() as f64 / LINES as f64;
        let mib_s = input.len() as f64 / (1 << 20) as f64 / median.as_secs_f64();
        println!(
            "split+render {kind:<8} {per_line:6.1} ns/line  {mib_s:7.0} MiB/s of input (median of {RUNS})"
        );
    }
}
