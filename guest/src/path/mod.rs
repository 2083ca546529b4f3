//! Attribute paths, the one grammar every place that names an attribute reads: filters (`attrPath`,
//! `valuePath`), PATCH paths, `sortBy`, `attributes`, the row mapping's columns, the directory mapper's targets
//! and the CSV headers of the reference host. `ast` holds the types, `parse` the grammar, `print` the text.

mod ast;
pub(crate) mod parse;
mod print;

#[cfg(test)]
mod tests;

pub use ast::{AttrPath, Path};

use crate::filter::{DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH};
use crate::syntax::Limits;

const LIMITS: Limits = Limits { max_len: DEFAULT_MAX_LENGTH, max_depth: DEFAULT_MAX_DEPTH };

/// Parses `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`, each behind an optional schema URN. The error
/// names the character offset and what was expected there.
pub fn parse_path(text: &str) -> Result<Path, String> {
    parse::path_text(text, LIMITS)
}

/// Parses `[urn:]attr[.sub]` of at most `max_len` characters.
pub fn parse_attr_path(text: &str, max_len: usize) -> Result<AttrPath, String> {
    parse::attr_path_text(text, Limits { max_len, ..LIMITS })
}
