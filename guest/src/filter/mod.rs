//! The filter language of RFC 7644 §3.4.2.2: parsing (`parse`; attribute paths are [`crate::path`]'s), canonical
//! text (`print`), schema checking (`typed`), evaluation (`eval`), the flat form for storage (`flatten`) and
//! `sortBy` ordering (`sort`).

pub mod ast;
mod eval;
mod flatten;
pub(crate) mod parse;
mod print;
mod sort;
mod typed;

#[cfg(test)]
mod fixtures;

pub use ast::{CompValue, CompareOp, Filter};
pub use sort::{SortSpec, SortValue};

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::schema::{Attribute, ResourceType};
use crate::store::FlatFilter;
use crate::syntax::{Lenient, Limits};
use crate::tolerance::Tolerance;
use serde_json::Value;
use typed::Scope;

/// Longest filter accepted by [`parse_filter`], in characters.
pub const DEFAULT_MAX_LENGTH: usize = 10_000;
/// Deepest nesting accepted by [`parse_filter`]: parentheses, `not ( … )` and value-path brackets.
pub const DEFAULT_MAX_DEPTH: usize = 32;

/// Parses a filter with the default limits; 400 `invalidFilter` naming the character offset and what was
/// expected there.
pub fn parse_filter(input: &str) -> ScimResult<Filter> {
    parse_filter_with(input, DEFAULT_MAX_LENGTH, DEFAULT_MAX_DEPTH)
}

/// Parses a filter of at most `max_len` characters and `max_depth` levels of nesting, reading Entra's element
/// suffix (`element-filter-suffix`) but not unquoted literals.
pub fn parse_filter_with(input: &str, max_len: usize, max_depth: usize) -> ScimResult<Filter> {
    let lenient = Lenient { unquoted_literals: false, element_suffix: true };
    parse_lenient(input, Limits { max_len, max_depth }, lenient)
}

/// Parses a filter sent to this engine: its limits, and the filter tolerances it has enabled.
pub fn parse_filter_for(cfg: &Config, input: &str) -> ScimResult<Filter> {
    let on = |t| cfg.switches.tolerances.enabled(t);
    let lenient = Lenient {
        unquoted_literals: on(Tolerance::UnquotedFilterLiteral),
        element_suffix: on(Tolerance::ElementFilterSuffix),
    };
    let limits = Limits { max_len: cfg.limits.max_filter_length, max_depth: cfg.limits.max_filter_depth };
    parse_lenient(input, limits, lenient)
}

fn parse_lenient(input: &str, limits: Limits, lenient: Lenient) -> ScimResult<Filter> {
    parse::filter_text(input, limits, lenient)
        .map_err(|detail| err::invalid_filter(format!("invalid filter: {detail}")))
}

/// Whether a rendered resource matches. 400 `invalidFilter` when the filter misuses an attribute's type;
/// attributes the schema lacks match nothing.
pub fn matches(cfg: &Config, rt: &ResourceType, filter: &Filter, resource: &Value) -> ScimResult<bool> {
    Ok(eval::eval(&typed::check(Scope::Resource(cfg, rt), filter)?, resource))
}

/// Whether one element of the multi-valued complex attribute `attr` matches a value path's inner filter
/// (`type eq "work"` of `emails[type eq "work"]`). Element paths need no configuration; `cfg` and `rt` keep
/// the call shaped like [`matches`].
pub fn matches_element(
    _cfg: &Config,
    _rt: &ResourceType,
    attr: &Attribute,
    filter: &Filter,
    element: &Value,
) -> ScimResult<bool> {
    Ok(eval::eval(&typed::check(Scope::Element(attr), filter)?, element))
}

/// The filter as storage receives it; 400 `invalidFilter` as for [`matches`].
pub fn flatten(cfg: &Config, rt: &ResourceType, filter: &Filter) -> ScimResult<FlatFilter> {
    Ok(flatten::flatten(&typed::check(Scope::Resource(cfg, rt), filter)?))
}
