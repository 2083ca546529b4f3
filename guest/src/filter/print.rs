//! Canonical text of filters: lower-case keywords, single spaces, JSON-escaped strings, and
//! parentheses exactly where precedence needs them, so that parsing the text gives back the same tree.

use super::ast::{CompValue, Filter};
use std::fmt;

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            // A JSON string: quotes, backslashes and control characters escaped.
            CompValue::Str(s) => write!(f, "{}", serde_json::Value::from(s.as_str())),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `and` binds tighter than `or`: only a nested `and` or `or` needs parentheses, to keep its grouping.
            Filter::And(terms) => join(f, terms, " and ", |t| matches!(t, Filter::And(_) | Filter::Or(_))),
            Filter::Or(terms) => join(f, terms, " or ", |t| matches!(t, Filter::Or(_))),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", op.keyword()),
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}

/// Terms joined by `sep`, those for which `group` holds in parentheses.
fn join(f: &mut fmt::Formatter<'_>, terms: &[Filter], sep: &str, group: fn(&Filter) -> bool) -> fmt::Result {
    for (n, t) in terms.iter().enumerate() {
        if n > 0 {
            f.write_str(sep)?;
        }
        if group(t) {
            write!(f, "({t})")?;
        } else {
            write!(f, "{t}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse_filter;
    use super::*;
    use crate::filter::ast::CompareOp;
    use crate::path::AttrPath;

    /// A small deterministic generator (a linear congruential one): no randomness source in the engine.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }

        fn path(&mut self, in_brackets: bool) -> AttrPath {
            const NAMES: [&str; 8] = ["userName", "name", "emails", "members", "$ref", "x-y_z9", "not", "and"];
            const URNS: [&str; 2] = [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ];
            let urn = (!in_brackets && self.next(4) == 0).then(|| URNS[self.next(2)].to_string());
            let name = NAMES[self.next(NAMES.len())].to_string();
            let sub = (self.next(3) == 0).then(|| NAMES[self.next(NAMES.len())].to_string());
            AttrPath { urn, name, sub }
        }

        fn value(&mut self) -> CompValue {
            const TEXTS: [&str; 7] =
                ["", "plain", "quote\" back\\slash", "tab\tline\n", "\u{1}\u{1f}", "été 😀", "a]b) and (c"];
            match self.next(6) {
                0 => CompValue::Null,
                1 => CompValue::Bool(self.next(2) == 0),
                2 => CompValue::Number((self.next(2000) as i64 - 1000).into()),
                3 => {
                    let x = (self.next(1_000_000) as f64 - 500_000.0) * 10f64.powi(self.next(40) as i32 - 20);
                    CompValue::Number(serde_json::Number::from_f64(x).unwrap_or_else(|| 0.into()))
                }
                _ => CompValue::Str(TEXTS[self.next(TEXTS.len())].to_string()),
            }
        }

        fn filter(&mut self, depth: usize, in_brackets: bool) -> Filter {
            let leaf = depth == 0 || self.next(3) == 0;
            match if leaf { self.next(2) } else { 2 + self.next(if in_brackets { 3 } else { 4 }) } {
                0 => Filter::Present(self.path(in_brackets)),
                1 => Filter::Compare(self.path(in_brackets), CompareOp::ALL[self.next(9)], self.value()),
                2 => Filter::And((0..2 + self.next(3)).map(|_| self.filter(depth - 1, in_brackets)).collect()),
                3 => Filter::Or((0..2 + self.next(3)).map(|_| self.filter(depth - 1, in_brackets)).collect()),
                4 => Filter::Not(Box::new(self.filter(depth - 1, in_brackets))),
                _ => {
                    let mut path = self.path(false);
                    path.sub = None;
                    Filter::ValuePath(path, Box::new(self.filter(depth - 1, true)))
                }
            }
        }
    }

    #[test]
    fn generated_filters_survive_printing() {
        let mut g = Gen(7);
        for _ in 0..2000 {
            let f = g.filter(4, false);
            let text = f.to_string();
            let parsed = parse_filter(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, f, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn strings_print_as_json() {
        let f = Filter::Compare(
            AttrPath { urn: None, name: "a".into(), sub: None },
            CompareOp::Eq,
            CompValue::Str("q\"b\\c\u{8}\n".into()),
        );
        assert_eq!(f.to_string(), r#"a eq "q\"b\\c\b\n""#);
    }
}
