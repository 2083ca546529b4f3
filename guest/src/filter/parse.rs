//! nom parsers for the filter grammar of RFC 7644 §3.4.2.2 (Figure 1, with errata) and the PATCH path of §3.5.2.
//!
//! Each parser is named after its ABNF rule. An error keeps the unparsed rest of the input, from which the
//! caller computes the character offset. Past a decision point every error is a `Failure`, so nom does not
//! backtrack into a vaguer message about an earlier position.

use super::ast::{keyword, AttrPath, CompValue, Filter, PatchPath, OPERATORS};
use crate::store::CompareOp;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1, take_while_m_n};
use nom::character::complete::{char, digit0, digit1, multispace0, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser};

/// What was expected, and where: `rest` is the input from the offending character on.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError<'a> {
    pub rest: &'a str,
    pub expected: String,
}

impl<'a> ParseError<&'a str> for SyntaxError<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        SyntaxError { rest: input, expected: kind.description().to_string() }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, SyntaxError<'a>>;

/// Bounds that keep a hostile filter from exhausting the stack or the CPU.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest input, in characters.
    pub max_len: usize,
    /// Deepest nesting of parentheses, `not ( … )` and value-path brackets.
    pub max_depth: usize,
}

/// Where a parser runs: how deep, and whether inside a value path's brackets (RFC 7644 `valFilter` does not
/// nest value paths).
#[derive(Debug, Clone, Copy)]
struct Nest {
    depth: usize,
    max_depth: usize,
    in_brackets: bool,
}

impl Nest {
    /// One level deeper; a `Failure` at `at` past the limit. The recursion counter that bounds the stack.
    fn deeper<'a>(self, at: &'a str) -> Result<Nest, nom::Err<SyntaxError<'a>>> {
        if self.depth >= self.max_depth {
            return Err(failure(at, format!("at most {} levels of nesting", self.max_depth)));
        }
        Ok(Nest { depth: self.depth + 1, ..self })
    }
}

fn failure(rest: &str, expected: impl Into<String>) -> nom::Err<SyntaxError<'_>> {
    nom::Err::Failure(SyntaxError { rest, expected: expected.into() })
}

fn fail<T>(rest: &str, expected: impl Into<String>) -> PResult<'_, T> {
    Err(failure(rest, expected))
}

/// Runs `p`; when it does not match, fails here saying what was `expected`.
fn expect<'a, O>(
    expected: &'static str,
    mut p: impl Parser<&'a str, Output = O, Error = SyntaxError<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    move |i| match p.parse(i) {
        Err(nom::Err::Error(_)) => fail(i, expected),
        other => other,
    }
}

/// `nameChar = "-" / "_" / DIGIT / ALPHA`
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Characters of a schema URI and of the attribute path after it (`$` for `$ref`).
fn is_path_char(c: char) -> bool {
    is_name_char(c) || matches!(c, ':' | '.' | '$' | '/' | '%' | '~' | '+')
}

/// A case-insensitive keyword (ABNF strings ignore case) not followed by a name character, so that `or` does
/// not match the start of `organization`.
fn word<'a>(w: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i| {
        let (rest, k) = tag_no_case(w).parse(i)?;
        if rest.starts_with(is_name_char) {
            return Err(nom::Err::Error(SyntaxError::from_error_kind(i, ErrorKind::Tag)));
        }
        Ok((rest, k))
    }
}

/// Optional whitespace: the grammar's `SP`, tolerating several spaces, tabs and line breaks.
fn ws(i: &str) -> PResult<'_, &str> {
    multispace0(i)
}

/// `FILTER = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"`
/// `logExp = FILTER SP ("and" / "or") SP FILTER`
///
/// `logExp` is left-recursive and silent on precedence; RFC 7644 §3.4.2.2 Table 4 ranks `not` over `and` over
/// `or`. So a FILTER is `or` over `and` over single terms, each chain read iteratively (no recursion per term).
fn filter(i: &str, nest: Nest) -> PResult<'_, Filter> {
    let (mut i, first) = and_exp(i, nest)?;
    let mut terms = vec![first];
    while let Ok((rest, _)) = (ws, word("or")).parse(i) {
        let (rest, t) = and_exp(rest, nest)?;
        terms.push(t);
        i = rest;
    }
    Ok((i, join(terms, Filter::Or)))
}

/// `logExp = FILTER SP "and" SP FILTER`, for the operands of `or`.
fn and_exp(i: &str, nest: Nest) -> PResult<'_, Filter> {
    let (mut i, first) = term(i, nest)?;
    let mut terms = vec![first];
    while let Ok((rest, _)) = (ws, word("and")).parse(i) {
        let (rest, t) = term(rest, nest)?;
        terms.push(t);
        i = rest;
    }
    Ok((i, join(terms, Filter::And)))
}

/// One term alone, several under `make`.
fn join(mut terms: Vec<Filter>, make: fn(Vec<Filter>) -> Filter) -> Filter {
    if terms.len() == 1 {
        if let Some(t) = terms.pop() {
            return t;
        }
    }
    make(terms)
}

/// An operand of `and`: `"(" FILTER ")"`, `"not" "(" FILTER ")"`, `valuePath` or `attrExp`.
fn term(i: &str, nest: Nest) -> PResult<'_, Filter> {
    let (i, _) = ws(i)?;
    if i.starts_with('(') {
        return group(i, nest);
    }
    if let Ok((rest, _)) = (word("not"), ws).parse(i) {
        if rest.starts_with('(') {
            let (rest, f) = group(rest, nest)?;
            return Ok((rest, Filter::Not(Box::new(f))));
        }
    }
    let (rest, path) = attr_path(i)?;
    if rest.starts_with('[') {
        return value_path(rest, path, nest);
    }
    attr_exp(rest, path)
}

/// `"(" FILTER ")"`, or `"(" valFilter ")"` inside brackets.
fn group(i: &str, nest: Nest) -> PResult<'_, Filter> {
    let inner = nest.deeper(i)?;
    let (i, _) = char('(').parse(i)?;
    let (i, f) = filter(i, inner)?;
    let (i, _) = ws(i)?;
    let (i, _) = expect("\"and\", \"or\" or \")\"", char(')')).parse(i)?;
    Ok((i, f))
}

/// `valuePath = attrPath "[" valFilter "]"`, `i` at the `[`.
///
/// Quirk: `emails[type eq "work"].value eq "a@b"` is not in the RFC grammar, but Entra ID sends
/// `filter=emails[type eq "work"].value eq "a@b"`. It is read as
/// `emails[type eq "work" and value eq "a@b"]`: the same element must satisfy both.
fn value_path(i: &str, path: AttrPath, nest: Nest) -> PResult<'_, Filter> {
    let (i, inner) = brackets(i, &path, nest)?;
    let Ok((rest, sub)) = sub_attr(i) else { return Ok((i, Filter::ValuePath(path, Box::new(inner)))) };
    let (rest, cond) = attr_exp(rest, AttrPath { urn: None, name: sub, sub: None })?;
    let terms = match inner {
        Filter::And(mut terms) => {
            terms.push(cond);
            terms
        }
        other => vec![other, cond],
    };
    Ok((rest, Filter::ValuePath(path, Box::new(Filter::And(terms)))))
}

/// `"[" valFilter "]"` with `valFilter = attrExp / logExp / *1"not" "(" valFilter ")"`, `i` at the `[`.
fn brackets<'a>(i: &'a str, path: &AttrPath, nest: Nest) -> PResult<'a, Filter> {
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

/// `attrExp = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)`, after the path.
fn attr_exp(i: &str, path: AttrPath) -> PResult<'_, Filter> {
    let (i, _) = ws(i)?;
    if let Ok((rest, _)) = word("pr").parse(i) {
        return Ok((rest, Filter::Present(path)));
    }
    let (i, op) = match compare_op(i) {
        Err(nom::Err::Error(_)) if path.urn.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("not") => {
            return fail(i, "\"(\" after \"not\"");
        }
        Err(nom::Err::Error(_)) => {
            return fail(i, "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr");
        }
        other => other?,
    };
    let (i, _) = ws(i)?;
    let (i, value) = comp_value(i)?;
    Ok((i, Filter::Compare(path, op, value)))
}

/// `compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"`, in any case.
fn compare_op(i: &str) -> PResult<'_, CompareOp> {
    let (rest, w) = take_while1(is_name_char).parse(i)?;
    match OPERATORS.iter().find(|op| keyword(**op).eq_ignore_ascii_case(w)) {
        Some(op) => Ok((rest, *op)),
        None => Err(nom::Err::Error(SyntaxError::from_error_kind(i, ErrorKind::Tag))),
    }
}

/// `compValue = false / null / true / number / string` (the JSON values of RFC 8259).
fn comp_value(i: &str) -> PResult<'_, CompValue> {
    match i.chars().next() {
        Some('"') => string(i).map(|(rest, s)| (rest, CompValue::Str(s))),
        Some(c) if c == '-' || c.is_ascii_digit() => number(i),
        _ => expect(
            "a value: a JSON string, a number, true, false or null",
            alt((
                word("true").map(|_| CompValue::Bool(true)),
                word("false").map(|_| CompValue::Bool(false)),
                word("null").map(|_| CompValue::Null),
            )),
        )
        .parse(i),
    }
}

/// `number = [ minus ] int [ frac ] [ exp ]` (RFC 8259 §6).
fn number(i: &str) -> PResult<'_, CompValue> {
    let int = alt((tag("0"), recognize((one_of("123456789"), digit0))));
    let frac = (char('.'), digit1);
    let exp = (one_of("eE"), opt(one_of("+-")), digit1);
    let (rest, text) =
        expect("a JSON number", recognize((opt(char('-')), int, opt(frac), opt(exp)))).parse(i)?;
    if rest.starts_with(|c: char| is_name_char(c) || c == '.') {
        return fail(rest, "the end of the number (digits after \".\" and in the exponent, no leading zeros)");
    }
    match text.parse::<serde_json::Number>() {
        Ok(n) => Ok((rest, CompValue::Number(n))),
        Err(_) => fail(i, "a number within the range of a 64-bit float"),
    }
}

/// `string = quotation-mark *char quotation-mark` (RFC 8259 §7): any character but `"`, `\` and controls, or
/// an escape.
fn string(i: &str) -> PResult<'_, String> {
    let (mut i, _) = char('"').parse(i)?;
    let mut out = String::new();
    loop {
        let (rest, run) = take_while(|c: char| c != '"' && c != '\\' && c >= ' ').parse(i)?;
        out.push_str(run);
        i = rest;
        match i.chars().next() {
            Some('"') => return Ok((&i[1..], out)),
            Some('\\') => {
                let (rest, c) = escape(i)?;
                out.push(c);
                i = rest;
            }
            Some(_) => return fail(i, "a printable character (control characters must be escaped)"),
            None => return fail(i, "a closing quotation mark"),
        }
    }
}

/// `escape = "\" ( %x22 / %x5C / %x2F / %x62 / %x66 / %x6E / %x72 / %x74 / %x75 4HEXDIG )`
fn escape(i: &str) -> PResult<'_, char> {
    let (rest, _) = char('\\').parse(i)?;
    let c = match rest.chars().next() {
        Some('"') => '"',
        Some('\\') => '\\',
        Some('/') => '/',
        Some('b') => '\u{8}',
        Some('f') => '\u{c}',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('t') => '\t',
        Some('u') => return unicode_escape(i),
        _ => return fail(rest, "an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX"),
    };
    Ok((&rest[1..], c))
}

/// `"\u" 4HEXDIG`, where a high surrogate must be followed by `"\u"` and a low one (RFC 8259 §7), `i` at the `\`.
fn unicode_escape(i: &str) -> PResult<'_, char> {
    let (rest, high) = hex_escape(i)?;
    let code = match high {
        0xD800..=0xDBFF => {
            let (after, low) = match hex_escape(rest) {
                Ok((after, low)) if (0xDC00..=0xDFFF).contains(&low) => (after, low),
                _ => return fail(rest, "a low surrogate \\uDC00-\\uDFFF after a high one"),
            };
            return match char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                Some(c) => Ok((after, c)),
                None => fail(i, "a valid code point"),
            };
        }
        0xDC00..=0xDFFF => return fail(i, "a high surrogate \\uD800-\\uDBFF before a low one"),
        code => code,
    };
    match char::from_u32(code) {
        Some(c) => Ok((rest, c)),
        None => fail(i, "a valid code point"),
    }
}

/// `"\u" 4HEXDIG` as a number.
fn hex_escape(i: &str) -> PResult<'_, u32> {
    let (rest, digits) =
        expect("\\u and four hex digits", (tag("\\u"), take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit())))
            .parse(i)
            .map(|(rest, (_, d))| (rest, d))?;
    match u32::from_str_radix(digits, 16) {
        Ok(n) => Ok((rest, n)),
        Err(_) => fail(i, "four hex digits"),
    }
}

/// `attrPath = [URI ":"] ATTRNAME *1subAttr`
///
/// A URI holds colons and dots (`urn:ietf:params:scim:schemas:core:2.0:User`) and an attribute path holds no
/// colon, so the path is the longest run of path characters, split at its last colon.
fn attr_path(i: &str) -> PResult<'_, AttrPath> {
    let (rest, token) = expect("an attribute name", take_while1(is_path_char)).parse(i)?;
    let (urn, local) = match token.rfind(':') {
        Some(0) => return fail(i, "a schema URI before \":\""),
        Some(at) => (Some(token[..at].to_string()), &token[at + 1..]),
        None => (None, token),
    };
    let (after, name) = attr_name(local)?;
    let (after, sub) = opt(sub_attr).parse(after)?;
    if let Some(extra) = after.chars().next() {
        let expected = if extra == '.' {
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
    let name = recognize((opt(char('$')), satisfy(|c| c.is_ascii_alphabetic()), take_while(is_name_char)));
    expect("an attribute name (a letter, then letters, digits, \"-\" or \"_\")", name)
        .parse(i)
        .map(|(rest, n)| (rest, n.to_string()))
}

/// `subAttr = "." ATTRNAME`
fn sub_attr(i: &str) -> PResult<'_, String> {
    let (rest, _) = char('.').parse(i)?;
    attr_name(rest)
}

/// `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
fn path(i: &str, nest: Nest) -> PResult<'_, PatchPath> {
    let (i, attr) = attr_path(i)?;
    if !i.starts_with('[') {
        return Ok((i, PatchPath { attr, filter: None, sub: None }));
    }
    let (i, f) = brackets(i, &attr, nest)?;
    let (i, sub) = match sub_attr(i) {
        Ok((rest, s)) => (rest, Some(s)),
        Err(nom::Err::Error(_)) => (i, None),
        Err(e) => return Err(e),
    };
    Ok((i, PatchPath { attr, filter: Some(f), sub }))
}

/// Runs `p` over all of `input` (surrounding whitespace allowed); an error becomes a sentence naming the
/// character offset and what was expected there.
fn whole<T>(
    input: &str,
    limits: Limits,
    what: &str,
    p: impl FnOnce(&str, Nest) -> PResult<'_, T>,
) -> Result<T, String> {
    let len = input.chars().count();
    if len > limits.max_len {
        return Err(format!("the {what} is {len} characters long; at most {} are accepted", limits.max_len));
    }
    let nest = Nest { depth: 0, max_depth: limits.max_depth, in_brackets: false };
    let result = ws(input).and_then(|(i, _)| p(i, nest)).and_then(|(rest, v)| {
        let (rest, _) = ws(rest)?;
        if rest.is_empty() {
            Ok(v)
        } else {
            Err(failure(rest, format!("\"and\", \"or\" or the end of the {what}")))
        }
    });
    result.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => describe(input, what, &e),
        nom::Err::Incomplete(_) => format!("the {what} ends too early"),
    })
}

/// `expected X at character offset N, found "…"`.
fn describe(input: &str, what: &str, e: &SyntaxError) -> String {
    let at = input.len().saturating_sub(e.rest.len());
    let offset = input.get(..at).map_or(0, |s| s.chars().count());
    let found = match e.rest.chars().next() {
        None => format!("the end of the {what}"),
        Some(_) => format!("{:?}", e.rest.chars().take(12).collect::<String>()),
    };
    format!("expected {} at character offset {offset}, found {found}", e.expected)
}

/// A whole filter.
pub fn filter_text(input: &str, limits: Limits) -> Result<Filter, String> {
    whole(input, limits, "filter", filter)
}

/// A whole PATCH path.
pub fn path_text(input: &str, limits: Limits) -> Result<PatchPath, String> {
    whole(input, limits, "path", path)
}

/// A whole attribute path, as `sortBy` names one.
pub fn attr_path_text(input: &str, limits: Limits) -> Result<AttrPath, String> {
    whole(input, limits, "attribute path", |i, _| attr_path(i))
}
