//! The nom machinery the path and filter parsers share: the error that keeps the unparsed rest of the input,
//! the nesting bound, whitespace and keywords, and running a parser over a whole text.
//!
//! An error keeps the unparsed rest of the input, from which [`whole`] computes the character offset. Past a
//! decision point every error is a `Failure`, so nom does not backtrack into a vaguer message about an earlier
//! position.

use nom::bytes::complete::tag_no_case;
use nom::character::complete::multispace0;
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

pub type PResult<'a, T> = IResult<&'a str, T, SyntaxError<'a>>;

/// Bounds that keep a hostile filter or path from exhausting the stack or the CPU.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest input, in characters.
    pub max_len: usize,
    /// Deepest nesting of parentheses, `not ( … )` and value-path brackets.
    pub max_depth: usize,
}

/// Departures from the grammar a parser accepts, each a tolerance of [`crate::tolerance`]; none by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lenient {
    /// `userName eq jdoe` (`unquoted-filter-literal`).
    pub unquoted_literals: bool,
    /// `emails[type eq "work"].value eq "a@b"` (`element-filter-suffix`).
    pub element_suffix: bool,
}

/// Where a parser runs: how deep, and whether inside a value path's brackets (RFC 7644 `valFilter` does not
/// nest value paths).
#[derive(Debug, Clone, Copy)]
pub struct Nest {
    pub depth: usize,
    pub max_depth: usize,
    pub in_brackets: bool,
    pub lenient: Lenient,
}

impl Nest {
    /// One level deeper; a `Failure` at `at` past the limit. The recursion counter that bounds the stack.
    pub fn deeper<'a>(self, at: &'a str) -> Result<Nest, nom::Err<SyntaxError<'a>>> {
        if self.depth >= self.max_depth {
            return Err(failure(at, format!("at most {} levels of nesting", self.max_depth)));
        }
        Ok(Nest { depth: self.depth + 1, ..self })
    }
}

pub fn failure(rest: &str, expected: impl Into<String>) -> nom::Err<SyntaxError<'_>> {
    nom::Err::Failure(SyntaxError { rest, expected: expected.into() })
}

pub fn fail<T>(rest: &str, expected: impl Into<String>) -> PResult<'_, T> {
    Err(failure(rest, expected))
}

/// A recoverable "does not match here", for alternatives the caller may still try.
pub fn no_match(at: &str) -> nom::Err<SyntaxError<'_>> {
    nom::Err::Error(SyntaxError::from_error_kind(at, ErrorKind::Tag))
}

/// Runs `p`; when it does not match, fails here saying what was `expected`.
pub fn expect<'a, O>(
    expected: &'static str,
    mut p: impl Parser<&'a str, Output = O, Error = SyntaxError<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    move |i| match p.parse(i) {
        Err(nom::Err::Error(_)) => fail(i, expected),
        other => other,
    }
}

/// `nameChar = "-" / "_" / DIGIT / ALPHA`
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The text `p` consumes. Measured by length rather than by pointer (as `recognize` does): some nom parsers
/// return a fresh empty string at the end of input, which breaks pointer arithmetic.
pub fn consumed<'a, O>(
    mut p: impl Parser<&'a str, Output = O, Error = SyntaxError<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, &'a str> {
    move |i| {
        let (rest, _) = p.parse(i)?;
        let used = i.len().saturating_sub(rest.len());
        Ok((rest, i.get(..used).unwrap_or(i)))
    }
}

/// A case-insensitive keyword (ABNF strings ignore case) not followed by a name character, so that `or` does
/// not match the start of `organization`.
pub fn word<'a>(w: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i| {
        let (rest, k) = tag_no_case(w).parse(i)?;
        if rest.starts_with(is_name_char) {
            return Err(no_match(i));
        }
        Ok((rest, k))
    }
}

/// Optional whitespace: the grammar's `SP`, tolerating several spaces, tabs and line breaks.
pub fn ws(i: &str) -> PResult<'_, &str> {
    multispace0(i)
}

/// Runs `p` over all of `input` (surrounding whitespace allowed); an error becomes a sentence naming the
/// character offset and what was expected there. `what` names the text (`filter`, `path`).
pub fn whole<T>(
    input: &str,
    limits: Limits,
    lenient: Lenient,
    what: &str,
    p: impl FnOnce(&str, Nest) -> PResult<'_, T>,
) -> Result<T, String> {
    let len = input.chars().count();
    if len > limits.max_len {
        return Err(format!("the {what} is {len} characters long; at most {} are accepted", limits.max_len));
    }
    let nest = Nest { depth: 0, max_depth: limits.max_depth, in_brackets: false, lenient };
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
