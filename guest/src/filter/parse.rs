//! nom parsers for the filter grammar of RFC 7644 §3.4.2.2 (Figure 1, with errata), each named after its ABNF
//! rule; attribute paths and value-path brackets are the path module's.

use super::ast::{CompValue, Filter};
use crate::path::parse::{attr_path, brackets, sub_attr};
use crate::path::AttrPath;
use crate::store::CompareOp;
use crate::syntax::{consumed, expect, fail, is_name_char, no_match, whole, word, ws, Lenient, Limits, Nest, PResult};
use crate::tolerance::{self, Tolerance};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1, take_while_m_n};
use nom::character::complete::{char, digit0, digit1, one_of};
use nom::combinator::opt;
use nom::Parser;

/// `FILTER = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"`
/// `logExp = FILTER SP ("and" / "or") SP FILTER`
///
/// `logExp` is left-recursive and silent on precedence; RFC 7644 §3.4.2.2 Table 4 ranks `not` over `and` over
/// `or`. So a FILTER is `or` over `and` over single terms, each chain read iteratively (no recursion per term).
pub(crate) fn filter(i: &str, nest: Nest) -> PResult<'_, Filter> {
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
    attr_exp(rest, path, nest)
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
/// The tolerance `element-filter-suffix`: `emails[type eq "work"].value eq "a@b"` is not in the RFC grammar,
/// but Entra ID sends it. It is read as `emails[type eq "work" and value eq "a@b"]`: the same element must
/// satisfy both.
fn value_path(i: &str, path: AttrPath, nest: Nest) -> PResult<'_, Filter> {
    let (i, inner) = brackets(i, &path, nest)?;
    let suffix = if nest.lenient.element_suffix { sub_attr(i).ok() } else { None };
    let Some((rest, sub)) = suffix else { return Ok((i, Filter::ValuePath(path, Box::new(inner)))) };
    tolerance::record(Tolerance::ElementFilterSuffix);
    let (rest, cond) = attr_exp(rest, AttrPath { urn: None, name: sub, sub: None }, nest)?;
    let terms = match inner {
        Filter::And(mut terms) => {
            terms.push(cond);
            terms
        }
        other => vec![other, cond],
    };
    Ok((rest, Filter::ValuePath(path, Box::new(Filter::And(terms)))))
}

/// `attrExp = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)`, after the path.
fn attr_exp(i: &str, path: AttrPath, nest: Nest) -> PResult<'_, Filter> {
    let (i, _) = ws(i)?;
    if let Ok((rest, _)) = word("pr").parse(i) {
        return Ok((rest, Filter::Present(path)));
    }
    let (i, op) = match compare_op(i) {
        Err(nom::Err::Error(_))
            if path.urn.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("not") =>
        {
            return fail(i, "\"(\" after \"not\"");
        }
        Err(nom::Err::Error(_)) => {
            return fail(i, "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr");
        }
        other => other?,
    };
    let (i, _) = ws(i)?;
    let (i, value) = if nest.lenient.unquoted_literals { lenient_value(i)? } else { comp_value(i)? };
    Ok((i, Filter::Compare(path, op, value)))
}

/// `compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"`, in any case.
fn compare_op(i: &str) -> PResult<'_, CompareOp> {
    let (rest, w) = take_while1(is_name_char).parse(i)?;
    match CompareOp::from_keyword(w) {
        Some(op) => Ok((rest, op)),
        None => Err(no_match(i)),
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

/// `compValue`, or an unquoted word taken as a string (`unquoted-filter-literal`): `userName eq jdoe`,
/// `meta.created gt 2015-10-10T14:38:21.8617979-07:00`. A word that is a JSON literal or number stays one.
fn lenient_value(i: &str) -> PResult<'_, CompValue> {
    if i.starts_with('"') {
        return comp_value(i);
    }
    let word: PResult<'_, &str> = take_while1(|c: char| !c.is_whitespace() && !"()[]\"".contains(c)).parse(i);
    let Ok((rest, w)) = word else {
        return comp_value(i);
    };
    if let Ok(("", v)) = comp_value(w) {
        return Ok((rest, v));
    }
    tolerance::record(Tolerance::UnquotedFilterLiteral);
    Ok((rest, CompValue::Str(w.to_string())))
}

/// `number = [ minus ] int [ frac ] [ exp ]` (RFC 8259 §6).
fn number(i: &str) -> PResult<'_, CompValue> {
    let int = alt((tag("0"), consumed((one_of("123456789"), digit0))));
    let frac = (char('.'), digit1);
    let exp = (one_of("eE"), opt(one_of("+-")), digit1);
    let (rest, text) = expect("a JSON number", consumed((opt(char('-')), int, opt(frac), opt(exp)))).parse(i)?;
    if rest.starts_with(|c: char| is_name_char(c) || c == '.') {
        return fail(rest, "the end of the number (digits after \".\" and in the exponent, no leading zeros)");
    }
    // Integers stay exact; other numbers go through the standard library's correctly rounded conversion, so
    // that printing and parsing again gives back the same float.
    let n = if text.contains(['.', 'e', 'E']) {
        text.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
    } else {
        let whole = text.parse::<i64>().map(Into::into).or_else(|_| text.parse::<u64>().map(Into::into));
        whole.ok().or_else(|| text.parse::<f64>().ok().and_then(serde_json::Number::from_f64))
    };
    match n {
        Some(n) => Ok((rest, CompValue::Number(n))),
        None => fail(i, "a number within the range of a 64-bit float"),
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

/// A whole filter.
pub fn filter_text(input: &str, limits: Limits, lenient: Lenient) -> Result<Filter, String> {
    whole(input, limits, lenient, "filter", filter)
}

#[cfg(test)]
mod tests {
    use super::super::{parse_filter, parse_filter_with};
    use super::*;
    use crate::error::ErrorKind;

    fn path(urn: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath { urn: urn.map(str::to_string), name: name.to_string(), sub: sub.map(str::to_string) }
    }

    fn pr(name: &str) -> Filter {
        Filter::Present(path(None, name, None))
    }

    fn eq(name: &str, v: &str) -> Filter {
        Filter::Compare(path(None, name, None), CompareOp::Eq, CompValue::Str(v.to_string()))
    }

    /// (input, canonical text). Each must parse, print as given, and parse back to the same tree.
    const CANONICAL: &[(&str, &str)] = &[
        // RFC 7644 §3.4.2.2 examples.
        (r#"userName Eq "john""#, r#"userName eq "john""#),
        (r#"Username eq "john""#, r#"Username eq "john""#),
        (r#"userName eq "bjensen""#, r#"userName eq "bjensen""#),
        (r#"name.familyName co "O'Malley""#, r#"name.familyName co "O'Malley""#),
        (r#"userName sw "J""#, r#"userName sw "J""#),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        ),
        ("title pr", "title pr"),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, r#"meta.lastModified ge "2011-05-13T04:42:34Z""#),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, r#"meta.lastModified lt "2011-05-13T04:42:34Z""#),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, r#"meta.lastModified le "2011-05-13T04:42:34Z""#),
        (r#"title pr and userType eq "Employee""#, r#"title pr and userType eq "Employee""#),
        (r#"title pr or userType eq "Intern""#, r#"title pr or userType eq "Intern""#),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails.type eq "work""#,
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ),
        // Precedence: not > and > or.
        ("a pr or b pr and c pr", "a pr or b pr and c pr"),
        ("a pr and b pr or c pr", "a pr and b pr or c pr"),
        ("not (a pr or b pr) and c pr", "not (a pr or b pr) and c pr"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr and (b pr or c pr)", "a pr and (b pr or c pr)"),
        ("(a pr and b pr) or c pr", "a pr and b pr or c pr"),
        ("a pr or (b pr and c pr)", "a pr or b pr and c pr"),
        ("(a pr and b pr) and c pr", "(a pr and b pr) and c pr"),
        ("(a pr or b pr) or c pr", "(a pr or b pr) or c pr"),
        ("a pr and b pr and c pr and d pr", "a pr and b pr and c pr and d pr"),
        ("a pr or b pr or c pr or d pr", "a pr or b pr or c pr or d pr"),
        ("a pr and b pr or c pr and d pr", "a pr and b pr or c pr and d pr"),
        ("not (not (a pr))", "not (not (a pr))"),
        ("((((a pr))))", "a pr"),
        ("not(a pr)", "not (a pr)"),
        ("NOT (a pr)", "not (a pr)"),
        ("Not\t(a pr)", "not (a pr)"),
        // Keywords and operators in any case; whitespace tolerance.
        (r#"userName EQ "x" AND title Pr"#, r#"userName eq "x" and title pr"#),
        (r#"userName eQ "x" oR title PR"#, r#"userName eq "x" or title pr"#),
        ("a NE 1", "a ne 1"),
        (r#"a CO "x""#, r#"a co "x""#),
        (r#"a Sw "x""#, r#"a sw "x""#),
        (r#"a eW "x""#, r#"a ew "x""#),
        ("a GT 1", "a gt 1"),
        ("a GE 1", "a ge 1"),
        ("a LT 1", "a lt 1"),
        ("a LE 1", "a le 1"),
        ("  a   eq   1  ", "a eq 1"),
        ("a eq 1\tand\nb eq 2", "a eq 1 and b eq 2"),
        (r#"a eq"x""#, r#"a eq "x""#),
        ("( a pr )", "a pr"),
        ("emails[ type eq \"work\" ]", "emails[type eq \"work\"]"),
        // Literals.
        ("a eq true", "a eq true"),
        ("a eq false", "a eq false"),
        ("a eq null", "a eq null"),
        ("a eq TRUE", "a eq true"),
        ("a eq False", "a eq false"),
        ("a eq NULL", "a eq null"),
        ("a eq 0", "a eq 0"),
        ("a eq 42", "a eq 42"),
        ("a eq -42", "a eq -42"),
        ("a eq 1.5", "a eq 1.5"),
        ("a eq -0.25", "a eq -0.25"),
        ("a eq 1e5", "a eq 100000.0"),
        ("a eq 1E+2", "a eq 100.0"),
        ("a eq -2.5e-3", "a eq -0.0025"),
        ("a eq 9223372036854775807", "a eq 9223372036854775807"),
        ("a eq 18446744073709551615", "a eq 18446744073709551615"),
        ("a eq 18446744073709551616", "a eq 1.8446744073709552e+19"),
        ("a eq -0", "a eq 0"),
        ("a eq -0.022990299999999998", "a eq -0.022990299999999998"),
        ("a eq 1.0", "a eq 1.0"),
        (r#"a eq """#, r#"a eq """#),
        (r#"a eq "\"quoted\"""#, r#"a eq "\"quoted\"""#),
        (r#"a eq "back\\slash""#, r#"a eq "back\\slash""#),
        (r#"a eq "a\/b""#, r#"a eq "a/b""#),
        (r#"a eq "\b\f\n\r\t""#, r#"a eq "\b\f\n\r\t""#),
        (r#"a eq "\u00e9t\u00E9""#, r#"a eq "été""#),
        (r#"a eq "\ud83d\ude00""#, r#"a eq "😀""#),
        (r#"a eq "\u0001""#, r#"a eq "\u0001""#),
        (r#"a eq "été 😀""#, r#"a eq "été 😀""#),
        (r#"a eq "and or not pr ( ) [ ]""#, r#"a eq "and or not pr ( ) [ ]""#),
        // Paths.
        (r#"name.familyName eq "Jensen""#, r#"name.familyName eq "Jensen""#),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Jensen""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Jensen""#,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
        ),
        (r#"members.$ref eq "https://x/Users/1""#, r#"members.$ref eq "https://x/Users/1""#),
        (r#"members[$ref ew "/1"]"#, r#"members[$ref ew "/1"]"#),
        (r#"x-custom_attr1 eq "v""#, r#"x-custom_attr1 eq "v""#),
        ("not eq 1", "not eq 1"),
        ("and pr and or pr", "and pr and or pr"),
        ("pr pr", "pr pr"),
        ("organization pr or orange pr", "organization pr or orange pr"),
        ("android pr and notes pr", "android pr and notes pr"),
        // Value paths.
        (r#"emails[type eq "work"]"#, r#"emails[type eq "work"]"#),
        (r#"emails[not (type eq "work")]"#, r#"emails[not (type eq "work")]"#),
        (r#"emails[type eq "work" or primary eq true]"#, r#"emails[type eq "work" or primary eq true]"#),
        (
            r#"emails[(type eq "a" or type eq "b") and value pr]"#,
            r#"emails[(type eq "a" or type eq "b") and value pr]"#,
        ),
        (
            r#"addresses[postalCode sw "916" and not (country eq "CA")]"#,
            r#"addresses[postalCode sw "916" and not (country eq "CA")]"#,
        ),
        (r#"not (emails[type eq "work"])"#, r#"not (emails[type eq "work"])"#),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#,
        ),
        // The quirk: a sub-attribute comparison after the brackets joins the element's filter.
        (r#"emails[type eq "work"].value eq "a@b""#, r#"emails[type eq "work" and value eq "a@b"]"#),
        (
            r#"emails[type eq "work" and primary eq true].value co "@b""#,
            r#"emails[type eq "work" and primary eq true and value co "@b"]"#,
        ),
        (r#"emails[type eq "a" or type eq "b"].value pr"#, r#"emails[(type eq "a" or type eq "b") and value pr]"#),
        (
            r#"emails[type eq "work"].value eq "a@b" and active eq true"#,
            r#"emails[type eq "work" and value eq "a@b"] and active eq true"#,
        ),
    ];

    #[test]
    fn canonical_text_and_round_trip() {
        for (input, canonical) in CANONICAL {
            let parsed = parse_filter(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let printed = parsed.to_string();
            assert_eq!(&printed, canonical, "printing {input}");
            let again = parse_filter(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
            assert_eq!(again, parsed, "round trip of {input}");
        }
    }

    #[test]
    fn precedence_shapes() {
        let (a, b, c) = (pr("a"), pr("b"), pr("c"));
        let cases = [
            ("a pr or b pr and c pr", Filter::Or(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])])),
            ("a pr and b pr or c pr", Filter::Or(vec![Filter::And(vec![a.clone(), b.clone()]), c.clone()])),
            (
                "not (a pr or b pr) and c pr",
                Filter::And(vec![Filter::Not(Box::new(Filter::Or(vec![a.clone(), b.clone()]))), c.clone()]),
            ),
            ("a pr and b pr and c pr", Filter::And(vec![a.clone(), b.clone(), c.clone()])),
            ("(a pr or b pr) and c pr", Filter::And(vec![Filter::Or(vec![a.clone(), b.clone()]), c.clone()])),
            ("a pr and (b pr and c pr)", Filter::And(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])])),
        ];
        for (input, tree) in cases {
            assert_eq!(parse_filter(input).unwrap(), tree, "{input}");
        }
    }

    #[test]
    fn paths_split_at_the_last_colon() {
        let f = parse_filter(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "J""#).unwrap();
        let Filter::Compare(p, _, _) = f else { panic!("{f:?}") };
        assert_eq!(p, path(Some("urn:ietf:params:scim:schemas:core:2.0:User"), "name", Some("familyName")));
        let f = parse_filter("members.$ref pr").unwrap();
        assert_eq!(f, Filter::Present(path(None, "members", Some("$ref"))));
    }

    #[test]
    fn quirk_joins_the_element_filter() {
        let f = parse_filter(r#"emails[type eq "work"].value eq "a@b""#).unwrap();
        let expected = Filter::ValuePath(
            path(None, "emails", None),
            Box::new(Filter::And(vec![eq("type", "work"), eq("value", "a@b")])),
        );
        assert_eq!(f, expected);
    }

    #[test]
    fn numbers_keep_their_kind() {
        let value = |s: &str| match parse_filter(&format!("a eq {s}")).unwrap() {
            Filter::Compare(_, _, v) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(value("-7"), CompValue::Number((-7).into()));
        assert_eq!(value("12"), CompValue::Number(12.into()));
        assert!(value("1e3").to_string().parse::<f64>().is_ok_and(|x| x == 1000.0));
        assert!(value("-1.5E-2").to_string().parse::<f64>().is_ok_and(|x| x == -0.015));
    }

    /// (input, what the detail must say, character offset).
    const INVALID: &[(&str, &str, usize)] = &[
        ("", "an attribute name", 0),
        ("   ", "an attribute name", 3),
        ("userName", "a comparison operator", 8),
        ("userName eq", "a value", 11),
        ("userName xx \"a\"", "a comparison operator", 9),
        ("userName eqq \"a\"", "a comparison operator", 9),
        ("userName eq bjensen", "a value", 12),
        ("userName eq 'bjensen'", "a value", 12),
        ("userName eq \"bjensen", "a closing quotation mark", 20),
        ("userName eq \"a\" and", "an attribute name", 19),
        ("userName eq \"a\" or", "an attribute name", 18),
        ("userName eq \"a\" xor b pr", "\"and\", \"or\" or the end", 16),
        ("userName eq \"a\" andtitle pr", "\"and\", \"or\" or the end", 16),
        ("(userName pr", "\"and\", \"or\" or \")\"", 12),
        ("userName pr)", "\"and\", \"or\" or the end", 11),
        ("()", "an attribute name", 1),
        ("not userName pr", "\"(\" after \"not\"", 4),
        ("not (userName pr", "\")\"", 16),
        ("emails[type eq \"work\"", "\"]\"", 21),
        ("emails[]", "an attribute name", 7),
        ("emails[type eq \"w\"]]", "\"and\", \"or\" or the end", 19),
        ("emails[type[value eq 1]]", "value paths do not nest", 11),
        ("name.givenName[value eq 1]", "sub-attribute", 14),
        ("name.givenName.x eq 1", "at most one sub-attribute", 14),
        ("1abc eq 1", "an attribute name", 0),
        ("name. eq 1", "an attribute name", 5),
        (":userName eq 1", "a schema URI", 0),
        ("urn:x: eq 1", "an attribute name", 6),
        ("a eq 01", "the end of the number", 6),
        ("a eq 1.", "the end of the number", 6),
        ("a eq .5", "a value", 5),
        ("a eq +1", "a value", 5),
        ("a eq 1e", "the end of the number", 6),
        ("a eq -", "a JSON number", 5),
        ("a eq 1x", "the end of the number", 6),
        ("a eq 1e400", "within the range", 5),
        ("a eq truex", "a value", 5),
        ("a eq \"\\x\"", "an escape", 7),
        ("a eq \"\\u12\"", "four hex digits", 6),
        ("a eq \"\\ud83d\"", "a low surrogate", 12),
        ("a eq \"\\ud83d\\u0041\"", "a low surrogate", 12),
        ("a eq \"\\ude00\"", "a high surrogate", 6),
        ("a eq \"tab\there\"", "control characters must be escaped", 9),
        ("a eq [1]", "a value", 5),
        ("a eq {}", "a value", 5),
        ("a pr and", "an attribute name", 8),
        ("and", "a comparison operator", 3),
        ("é eq 1", "an attribute name", 0),
        ("userName eq \"é\" xx", "\"and\", \"or\" or the end", 16),
        ("[type eq 1]", "an attribute name", 0),
    ];

    #[test]
    fn invalid_filters_name_the_offset_and_the_expectation() {
        for (input, expected, offset) in INVALID {
            let e = parse_filter(input).expect_err(input);
            assert_eq!(e.kind, ErrorKind::InvalidFilter, "{input}");
            assert!(e.detail.contains(expected), "{input}: {}", e.detail);
            let at = format!("at character offset {offset},");
            assert!(e.detail.contains(&at), "{input}: {} (wanted {at})", e.detail);
        }
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let nested = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_filter(&nested(32)).is_ok());
        let e = parse_filter(&nested(33)).unwrap_err();
        assert!(e.detail.contains("at most 32 levels"), "{}", e.detail);
        let nots = format!("{}a pr{}", "not (".repeat(40), ")".repeat(40));
        assert_eq!(parse_filter(&nots).unwrap_err().kind, ErrorKind::InvalidFilter);
        // Deep input far past the limit fails fast instead of exhausting the stack.
        assert!(parse_filter(&nested(100_000)).is_err());
        assert!(parse_filter_with(&nested(3), 1000, 2).is_err());
        assert!(parse_filter_with("emails[type eq \"x\"]", 1000, 0).is_err());
        let long = format!("a eq \"{}\"", "x".repeat(10_000));
        assert!(parse_filter(&long).unwrap_err().detail.contains("at most 10000"));
        assert!(parse_filter_with("a eq \"éé\"", 9, 32).is_ok());
        assert!(parse_filter_with("a eq \"ééé\"", 9, 32).is_err());
        let chain = vec!["a pr"; 1000].join(" and ");
        assert!(matches!(parse_filter(&chain), Ok(Filter::And(t)) if t.len() == 1000));
    }
}
