//! CSV cells a spreadsheet would run as a formula: a cell beginning with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is exported behind a `'` (OWASP's rule against CSV injection), and the import takes that
//! `'` off again, so that an export imports as the same resources.

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell, its leading quotes set aside, begins like a formula. Counting the quotes keeps the round
/// trip exact: a value `'=x` is exported `''=x`, and the import takes off only the quote the export added.
fn looks_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// A value as an exported cell.
pub fn guard(value: String) -> String {
    if looks_like_formula(&value) {
        format!("'{value}")
    } else {
        value
    }
}

/// An imported cell as the value it stands for.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_read_back_as_they_were() {
        for (value, cell) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''+x", "'''+x"),
            ("plain", "plain"),
            ("'quoted", "'quoted"),
            ("a=b", "a=b"),
            ("'", "'"),
            ("", ""),
        ] {
            assert_eq!(guard(value.to_string()), cell, "{value:?}");
            assert_eq!(unguard(cell), value, "{cell:?}");
        }
    }
}
