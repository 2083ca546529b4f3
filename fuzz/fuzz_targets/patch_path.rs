//! An attribute path (as PATCH names one) that parses prints to a text that parses back to the same path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimkit_guest::path::parse_path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = parse_path(text) else { return };
    let printed = parsed.to_string();
    let again = parse_path(&printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(parsed, again, "{text:?} printed as {printed:?}");
});
