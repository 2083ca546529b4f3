//! A filter that parses prints to a canonical text that parses back to the same tree and prints the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimkit_guest::filter::{parse_filter, parse_filter_with, DEFAULT_MAX_DEPTH};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = parse_filter(text) else { return };
    let printed = parsed.to_string();
    // The canonical text may be longer than the input (numbers, escapes), never deeper.
    let again = parse_filter_with(&printed, usize::MAX, DEFAULT_MAX_DEPTH)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(parsed, again, "{text:?} printed as {printed:?}");
    assert_eq!(printed, again.to_string());
});
