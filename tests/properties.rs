//! Property tests: the line splitter and the pattern parser take any input without
//! panicking, and splitting loses and invents no byte.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use rlog::input::LineSplitter;
use rlog::level::LevelTable;
use rlog::pattern::{Context, Pattern};
use rlog::record::{Line, Stream};

/// Bytes with plenty of newlines, so lines of every length turn up.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(b'\n')], 0..600)
}

/// Feeds `input` to a splitter in chunks cut at `cuts`, then finishes it; returns the
/// pieces it emitted.
fn split(input: &[u8], cuts: &[usize], max_line: usize) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut splitter = LineSplitter::new(max_line);
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        splitter.feed(&input[start..cut], Timestamp::UNIX_EPOCH, |l, _| {
            pieces.push(l.to_vec())
        });
        start = cut;
    }
    splitter.finish(|l, _| pieces.push(l.to_vec()));
    pieces
}

proptest! {
    #[test]
    fn splitting_then_joining_gives_the_input_back(
        input in bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        max_line in prop_oneof![1usize..40, Just(usize::MAX)],
    ) {
        let pieces = split(&input, &cuts, max_line);
        for piece in &pieces {
            prop_assert!(!piece.contains(&b'\n'));
            prop_assert!(piece.len() <= max_line.max(1));
        }
        // Each line is its pieces joined; lines are joined by newlines.
        let mut want = Vec::new();
        if !input.is_empty() {
            for line in input.strip_suffix(b"\n").unwrap_or(&input).split(|&b| b == b'\n') {
                if line.is_empty() {
                    want.push(Vec::new());
                }
                want.extend(line.chunks(max_line.max(1)).map(<[u8]>::to_vec));
            }
        }
        prop_assert_eq!(&pieces, &want);
        if max_line == usize::MAX {
            let mut joined = pieces.join(&b'\n');
            if input.ends_with(b"\n") {
                joined.push(b'\n');
            }
            prop_assert_eq!(joined, input);
        }
    }

    #[test]
    fn any_pattern_string_compiles_or_errs_and_renders_without_panic(text in any::<String>()) {
        compile_and_render(&text);
    }

    #[test]
    fn pattern_like_strings_compile_or_err_and_render_without_panic(
        parts in prop::collection::vec(
            prop_oneof![
                Just("%{"), Just("}"), Just(":"), Just("+"), Just("%"), Just("-"),
                Just("timestamp"), Just("timestamputc"), Just("level"), Just("levelno"),
                Just("message"), Just("pid"), Just("host"), Just("tag"), Just("seq"),
                Just("stream"), Just("%Y-%m-%d"), Just("%H:%M:%S%.3f"), Just("%z"),
                Just("%Q"), Just("%"), Just("-7"), Just("7"), Just("99999999999"), Just("é"),
            ],
            0..12,
        )
    ) {
        compile_and_render(&parts.concat());
    }
}

proptest! {
    #[test]
    fn well_formed_tokens_with_any_date_format_and_pad_render_without_panic(
        name in prop_oneof![
            Just("timestamp"), Just("timestamputc"), Just("level"), Just("levelno"),
            Just("message"), Just("pid"), Just("host"), Just("tag"), Just("seq"), Just("stream"),
        ],
        date in prop::option::of("[%a-zA-Z:.+ -]{0,12}"),
        pad in prop::option::of(-5000i32..5000),
    ) {
        let date = date.map_or(String::new(), |d| format!(":+{d}"));
        let pad = pad.map_or(String::new(), |p| format!(":{p}"));
        compile_and_render(&format!("<%{{{name}{date}{pad}}}>"));
    }
}

fn compile_and_render(text: &str) {
    let levels = LevelTable::default();
    let Ok(mut pattern) = Pattern::compile(text, &levels, &TimeZone::UTC, Context::default())
    else {
        return;
    };
    let line = Line {
        message: b"m\xff\n",
        time: Timestamp::UNIX_EPOCH,
        level: LevelTable::ERROR,
        seq: 1,
        stream: Stream::Stdin,
    };
    let mut out = Vec::new();
    pattern.render(&line, &mut out);
}
