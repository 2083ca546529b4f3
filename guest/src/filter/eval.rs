//! Evaluation of a checked filter against a rendered resource (RFC 7644 §3.4.2.2), for storage that leaves
//! filtering to the engine and for PATCH value paths.

use super::typed::{Target, Typed};
use crate::schema::Attribute;
use crate::store::{CompareOp, Literal};
use chrono::DateTime;
use serde_json::Value;
use std::cmp::Ordering;

/// Whether `filter` holds for `root`: a resource, or one element when the filter was checked in element scope.
pub fn eval(filter: &Typed, root: &Value) -> bool {
    match filter {
        Typed::Const(b) => *b,
        Typed::And(terms) => terms.iter().all(|t| eval(t, root)),
        Typed::Or(terms) => terms.iter().any(|t| eval(t, root)),
        Typed::Not(inner) => !eval(inner, root),
        Typed::Present(target) => target.values(root).into_iter().any(present),
        Typed::Compare(target, op, literal) => compare(target, *op, literal, root),
        Typed::Element(target, inner) => target.values(root).into_iter().any(|element| eval(inner, element)),
    }
}

/// `pr`: a value that is not null and, for strings, arrays and objects, not empty.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// `path op literal`. A multi-valued path holds when any of its values does, `ne` included (as storage reads
/// it, per `wit/scim.wit`); an absent attribute satisfies only `eq null`.
fn compare(target: &Target, op: CompareOp, literal: &Literal, root: &Value) -> bool {
    let values = target.values(root);
    match literal {
        Literal::Null if op == CompareOp::Eq => values.is_empty(),
        Literal::Null => !values.is_empty(),
        _ => values.into_iter().any(|v| holds(target.leaf(), op, literal, v)),
    }
}

/// One value against the literal. A value of another JSON type than the schema's never matches.
fn holds(attr: &Attribute, op: CompareOp, literal: &Literal, v: &Value) -> bool {
    let order = match literal {
        Literal::Text(s) => {
            let Some(x) = v.as_str() else { return false };
            return if attr.case_exact { text(op, x, s) } else { text(op, &x.to_lowercase(), &s.to_lowercase()) };
        }
        Literal::Boolean(b) => v.as_bool().map(|x| x.cmp(b)),
        Literal::Integer(n) => match v.as_i64() {
            Some(x) => Some(x.cmp(n)),
            None => v.as_f64().and_then(|x| x.partial_cmp(&(*n as f64))),
        },
        Literal::Decimal(d) => v.as_f64().and_then(|x| x.partial_cmp(d)),
        Literal::DateTime(t) => match (v.as_str().map(DateTime::parse_from_rfc3339), DateTime::parse_from_rfc3339(t)) {
            (Some(Ok(x)), Ok(t)) => Some(x.cmp(&t)),
            _ => None,
        },
        Literal::Null => None,
    };
    order.is_some_and(|o| ordered(op, o))
}

/// A text comparison: `co`, `sw`, `ew` or an order in code points.
fn text(op: CompareOp, x: &str, s: &str) -> bool {
    match op {
        CompareOp::Co => x.contains(s),
        CompareOp::Sw => x.starts_with(s),
        CompareOp::Ew => x.ends_with(s),
        _ => ordered(op, x.cmp(s)),
    }
}

/// Whether `op` accepts a value that compares to the literal as `o`.
fn ordered(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
