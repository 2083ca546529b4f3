//! Canonical text of filters and paths: lower-case keywords, single spaces, JSON-escaped strings, and
//! parentheses exactly where precedence needs them, so that parsing the text gives back the same tree.

use super::ast::{keyword, AttrPath, CompValue, Filter, PatchPath};
use std::fmt;

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

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
            Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", keyword(*op)),
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

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
