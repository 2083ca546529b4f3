//! A filter checked against the schema: every path resolved to its attribute, every literal typed. Evaluation
//! and flattening both start from here, so they agree on what a filter means and on which filters are refused.

use super::ast::{CompValue, Filter};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::names::member_of;
use crate::path::AttrPath;
use crate::schema::{AttrType, Attribute, ResourceType, Returned};
use crate::store::{CompareOp, Literal};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Where paths are resolved: against a resource type, or against one element of a multi-valued complex
/// attribute (inside `emails[…]`, where `type` means the element's `type`).
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    Resource(&'a Config, &'a ResourceType),
    Element(&'a Config, &'a Attribute),
}

impl<'a> Scope<'a> {
    /// The attribute a path names; none when the schema has no such attribute.
    pub fn resolve(self, path: &AttrPath) -> Option<Target<'a>> {
        let (ext, attr) = match self {
            Scope::Resource(cfg, rt) => cfg.registry.attribute(rt, path.urn.as_deref(), &path.name)?,
            Scope::Element(_, _) if path.urn.is_some() => return None,
            Scope::Element(_, parent) => (None, parent.sub(&path.name)?),
        };
        let sub = match &path.sub {
            Some(name) => Some(attr.sub(name)?),
            None => None,
        };
        Some(Target { ext, attr, sub })
    }

    fn cfg(self) -> &'a Config {
        match self {
            Scope::Resource(cfg, _) | Scope::Element(cfg, _) => cfg,
        }
    }

    /// A path the schema lacks: it matches nothing, except under `strict`, where it is 400 `invalidFilter`
    /// (Interop Profile §6.3).
    fn unknown(self, path: &AttrPath) -> ScimResult<Typed<'a>> {
        if self.cfg().strict() {
            return Err(err::invalid_filter(format!("{path}: no such attribute")));
        }
        Ok(Typed::Const(false))
    }
}

/// A resolved path.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The extension schema the attribute lives under; none for core and common attributes.
    pub ext: Option<&'a str>,
    pub attr: &'a Attribute,
    /// The sub-attribute named, or the `value` that a comparison on a complex attribute implies.
    pub sub: Option<&'a Attribute>,
}

impl<'a> Target<'a> {
    /// The attribute whose type and `caseExact` govern the values at this path.
    pub fn leaf(&self) -> &'a Attribute {
        self.sub.unwrap_or(self.attr)
    }

    /// The path in the storage vocabulary of `wit/scim.wit`: canonical case, extension attributes after their
    /// URN and a colon (`urn:…:enterprise:2.0:User:manager.value`).
    pub fn storage_path(&self) -> String {
        let mut path = match self.ext {
            Some(urn) => format!("{urn}:{}", self.attr.name),
            None => self.attr.name.clone(),
        };
        if let Some(sub) = self.sub {
            path.push('.');
            path.push_str(&sub.name);
        }
        path
    }

    /// The target itself, or 400 `invalidFilter` when it is never returned (`password`): RFC 7643 §7 keeps such
    /// attributes out of filters and sorting, which would otherwise read a stored value out by its prefixes.
    pub fn searchable(self, written: &AttrPath) -> ScimResult<Target<'a>> {
        if self.attr.returned == Returned::Never || self.sub.is_some_and(|s| s.returned == Returned::Never) {
            return Err(err::invalid_filter(format!(
                "{written} is never returned and cannot be filtered or sorted on"
            )));
        }
        Ok(self)
    }

    /// A complex attribute named without sub-attribute stands for its `value` in comparisons and sorting
    /// (`emails eq "a@b"` compares `emails.value`); an error when it has none.
    pub fn implied_value(self, written: &AttrPath) -> ScimResult<Target<'a>> {
        if self.sub.is_some() || self.attr.attr_type != AttrType::Complex {
            return Ok(self);
        }
        match self.attr.sub("value") {
            Some(value) => Ok(Target { sub: Some(value), ..self }),
            None => Err(err::invalid_filter(format!(
                "{written} is complex and has no value; name one of its sub-attributes"
            ))),
        }
    }

    /// The attribute's own JSON in `root` (a resource, or one element in element scope), without regard to
    /// the case of keys.
    pub fn attribute_json<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let container = match self.ext {
            Some(urn) => member_of(root, urn)?,
            None => root,
        };
        member_of(container, &self.attr.name)
    }

    /// Every non-null value at this path, arrays opened: `emails.value` gives one value per email.
    pub fn values<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let items = spread(self.attribute_json(root));
        let leaves = match self.sub {
            Some(sub) => items.into_iter().flat_map(|item| spread(member_of(item, &sub.name))).collect(),
            None => items,
        };
        leaves.into_iter().filter(|v| !v.is_null()).collect()
    }
}

/// The items of an array, or the value alone.
fn spread(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    }
}

/// A filter with paths resolved and literals typed.
///
/// A path the schema lacks folds to `Const(false)`: the filter simply matches nothing there, and the folding
/// keeps such paths out of what storage sees.
#[derive(Debug)]
pub enum Typed<'a> {
    Const(bool),
    And(Vec<Typed<'a>>),
    Or(Vec<Typed<'a>>),
    Not(Box<Typed<'a>>),
    Present(Target<'a>),
    Compare(Target<'a>, CompareOp, Literal),
    /// Holds when the inner filter, in element scope, holds for one element of the attribute.
    Element(Target<'a>, Box<Typed<'a>>),
}

/// Checks `filter` in `scope`: 400 `invalidFilter` for an operator or literal the attribute's type does not
/// take.
pub fn check<'a>(scope: Scope<'a>, filter: &Filter) -> ScimResult<Typed<'a>> {
    Ok(match filter {
        Filter::And(terms) => fold(terms.iter().map(|t| check(scope, t)).collect::<ScimResult<_>>()?, false),
        Filter::Or(terms) => fold(terms.iter().map(|t| check(scope, t)).collect::<ScimResult<_>>()?, true),
        Filter::Not(inner) => match check(scope, inner)? {
            Typed::Const(b) => Typed::Const(!b),
            other => Typed::Not(Box::new(other)),
        },
        Filter::Present(path) => match scope.resolve(path) {
            Some(target) => Typed::Present(target.searchable(path)?),
            None => scope.unknown(path)?,
        },
        Filter::Compare(path, op, value) => match scope.resolve(path) {
            Some(target) => {
                let target = target.searchable(path)?.implied_value(path)?;
                let literal = literal(target.leaf(), path, *op, value)?;
                Typed::Compare(target, *op, literal)
            }
            None => scope.unknown(path)?,
        },
        Filter::ValuePath(path, inner) => match scope.resolve(path) {
            Some(target) if target.attr.attr_type == AttrType::Complex && target.sub.is_none() => {
                match check(Scope::Element(scope.cfg(), target.searchable(path)?.attr), inner)? {
                    Typed::Const(false) => Typed::Const(false),
                    // Any element at all will do.
                    Typed::Const(true) => Typed::Present(target),
                    inner => Typed::Element(target, Box::new(inner)),
                }
            }
            Some(_) => {
                return Err(err::invalid_filter(format!(
                    "{path}[…]: brackets filter the elements of a complex attribute, and {path} is not one"
                )))
            }
            None => scope.unknown(path)?,
        },
    })
}

/// `and` (`any` false) or `or` (`any` true) over checked terms, constants folded away.
fn fold<'a>(terms: Vec<Typed<'a>>, any: bool) -> Typed<'a> {
    let mut kept = Vec::with_capacity(terms.len());
    for t in terms {
        match t {
            Typed::Const(b) if b == any => return Typed::Const(any),
            Typed::Const(_) => {}
            t => kept.push(t),
        }
    }
    match kept.len() {
        0 => Typed::Const(!any),
        1 => kept.pop().unwrap_or(Typed::Const(!any)),
        _ if any => Typed::Or(kept),
        _ => Typed::And(kept),
    }
}

/// The literal of `path op value`, typed by the attribute: 400 `invalidFilter` when they do not fit.
fn literal(attr: &Attribute, path: &AttrPath, op: CompareOp, value: &CompValue) -> ScimResult<Literal> {
    let refuse = |why: &str| Err(err::invalid_filter(format!("{path} {} {value}: {why}", op.keyword())));
    let textual = matches!(attr.attr_type, AttrType::String | AttrType::Reference | AttrType::Binary);
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    match value {
        CompValue::Null if ordering => return refuse("null compares only with eq and ne"),
        CompValue::Null => return Ok(Literal::Null),
        _ => {}
    }
    if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) && !textual {
        return refuse(&format!(
            "co, sw and ew apply to strings, and {} is a {}",
            attr.name,
            type_name(attr.attr_type)
        ));
    }
    match (attr.attr_type, value) {
        (_, CompValue::Str(s)) if textual => Ok(Literal::Text(s.clone())),
        (AttrType::Boolean, CompValue::Bool(_)) if ordering => refuse("a boolean compares only with eq and ne"),
        (AttrType::Boolean, CompValue::Bool(b)) => Ok(Literal::Boolean(*b)),
        (AttrType::Integer, CompValue::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Literal::Integer(i)),
            None => n.as_f64().map(Literal::Decimal).map_or_else(|| refuse("the number is out of range"), Ok),
        },
        (AttrType::Decimal, CompValue::Number(n)) => {
            n.as_f64().map(Literal::Decimal).map_or_else(|| refuse("the number is out of range"), Ok)
        }
        (AttrType::DateTime, CompValue::Str(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Ok(Literal::DateTime(t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true))),
            Err(_) => refuse("expected an RFC 3339 date-time such as \"2011-05-13T04:42:34Z\""),
        },
        (t, _) => refuse(&format!("{} is a {}; the value is not", attr.name, type_name(t))),
    }
}

/// The RFC 7643 §2.3 name of a type, for messages.
fn type_name(t: AttrType) -> &'static str {
    match t {
        AttrType::String => "string",
        AttrType::Boolean => "boolean",
        AttrType::Decimal => "decimal",
        AttrType::Integer => "integer",
        AttrType::DateTime => "dateTime",
        AttrType::Reference => "reference",
        AttrType::Binary => "binary",
        AttrType::Complex => "complex",
    }
}
