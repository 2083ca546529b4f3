//! nom parsers for attribute paths (RFC 7644 §3.4.2.2 Figure 1, with errata, and §3.5.2), each named after its
//! ABNF rule. A value path's brackets hold a filter: they call the filter parser, one level deeper.

use super::ast::{AttrPath, Path};
use crate::filter::parse::filter;
use crate::filter::Filter;
use crate::syntax::{consumed, expect, fail, is_name_char, whole, ws, Lenient, Limits, Nest, PResult};
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::opt;
use nom::Parser;

/// Characters of a schema URI and of the attribute path after it (`$` for `$ref`).
fn is_path_char(c: char) -> bool {
    is_name_char(c) || matches!(c, ':' | '.' | '$' | '/' | '%' | '~' | '+')
}

/// `attrPath = [URI ":"] ATTRNAME *1subAttr`
///
/// A URI holds colons and dots (`urn:ietf:params:scim:schemas:core:2.0:User`) and an attribute path holds no
/// colon, so the path is the longest run of path characters, split at its last colon.
pub fn attr_path(i: &str) -> PResult<'_, AttrPath> {
    let (rest, token) = expect("an attribute name", take_while1(is_path_char)).parse(i)?;
    // `local` runs to the end of the input, so that errors in it are suffixes of the input like all others.
    let (urn, local) = match token.rfind(':') {
        Some(0) => return fail(i, "a schema URI before \":\""),
        Some(at) => (Some(token[..at].to_string()), &i[at + 1..]),
        None => (None, i),
    };
    let (after, name) = attr_name(local)?;
    let (after, sub) = opt(sub_attr).parse(after)?;
    if after.len() > rest.len() {
        let expected = if after.starts_with('.') {
            "the end of the path (a path has at most one sub-attribute)"
        } else {
            "a letter, a digit, \"-\" or \"_\""
        };
        return fail(after, expected);
    }
    Ok((rest, AttrPath { urn, name, sub }))
}

/// `ATTRNAME = ALPHA *(nameChar)`, and `$ref` (RFC 7643 §2.1 names `$ref` among the attribute names).
fn attr_name(i: &str) -> PResult<'_, String> {
    let name = consumed((opt(char('$')), satisfy(|c| c.is_ascii_alphabetic()), take_while(is_name_char)));
    expect("an attribute name (a letter, then letters, digits, \"-\" or \"_\")", name)
        .parse(i)
        .map(|(rest, n)| (rest, n.to_string()))
}

/// `subAttr = "." ATTRNAME`
pub fn sub_attr(i: &str) -> PResult<'_, String> {
    let (rest, _) = char('.').parse(i)?;
    attr_name(rest)
}

/// `valuePath = attrPath "[" valFilter "]"` after its `attrPath`, `i` at the `[`;
/// `valFilter = attrExp / logExp / *1"not" "(" valFilter ")"`.
pub fn brackets<'a>(i: &'a str, path: &AttrPath, nest: Nest) -> PResult<'a, Filter> {
    if path.sub.is_some() {
        return fail(i, "whitespace or an operator (\"[\" follows an attribute, not a sub-attribute)");
    }
    if nest.in_brackets {
        return fail(i, "whitespace or an operator (value paths do not nest)");
    }
    let inner = Nest { in_brackets: true, ..nest.deeper(i)? };
    let (i, _) = char('[').parse(i)?;
    let (i, f) = filter(i, inner)?;
    let (i, _) = ws(i)?;
    let (i, _) = expect("\"and\", \"or\" or \"]\"", char(']')).parse(i)?;
    Ok((i, f))
}

/// `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
fn path(i: &str, nest: Nest) -> PResult<'_, Path> {
    let (i, attr) = attr_path(i)?;
    if !i.starts_with('[') {
        return Ok((i, Path { attr, filter: None, sub: None }));
    }
    let (i, f) = brackets(i, &attr, nest)?;
    let (i, sub) = match sub_attr(i) {
        Ok((rest, s)) => (rest, Some(s)),
        Err(nom::Err::Error(_)) => (i, None),
        Err(e) => return Err(e),
    };
    Ok((i, Path { attr, filter: Some(f), sub }))
}

/// A whole `PATH`.
pub fn path_text(input: &str, limits: Limits) -> Result<Path, String> {
    whole(input, limits, Lenient::default(), "path", path)
}

/// A whole `attrPath`.
pub fn attr_path_text(input: &str, limits: Limits) -> Result<AttrPath, String> {
    whole(input, limits, Lenient::default(), "attribute path", |i, _| attr_path(i))
}
