//! The filter language's syntax tree (RFC 7644 §3.4.2.2), kept apart from parsing and evaluation.

use crate::store::CompareOp;

/// `[URI ":"] ATTRNAME *1subAttr`: `userName`, `name.familyName`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

/// `compValue = false / null / true / number / string`, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `a and b and c`: never fewer than two terms.
    And(Vec<Filter>),
    /// `a or b or c`: never fewer than two terms.
    Or(Vec<Filter>),
    /// `not ( f )`.
    Not(Box<Filter>),
    /// `attrPath pr`.
    Present(AttrPath),
    /// `attrPath compareOp compValue`.
    Compare(AttrPath, CompareOp, CompValue),
    /// `attrPath "[" valFilter "]"`: the inner filter holds for one element. The path has no sub-attribute.
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH path (RFC 7644 §3.5.2): `attrPath / valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute; its `sub` is set for `name.givenName`, never together with `filter`.
    pub attr: AttrPath,
    /// `emails[type eq "work"]`.
    pub filter: Option<Filter>,
    /// `emails[type eq "work"].value`: the sub-attribute after the brackets.
    pub sub: Option<String>,
}

/// Every comparison operator, in RFC 7644 §3.4.2.2 Table 3 order. The parser tries the keywords of this list,
/// so parsing and printing both go through [`keyword`] and cannot disagree.
pub const OPERATORS: [CompareOp; 9] = [
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

/// The lower-case keyword of an operator.
pub fn keyword(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "eq",
        CompareOp::Ne => "ne",
        CompareOp::Co => "co",
        CompareOp::Sw => "sw",
        CompareOp::Ew => "ew",
        CompareOp::Gt => "gt",
        CompareOp::Ge => "ge",
        CompareOp::Lt => "lt",
        CompareOp::Le => "le",
    }
}
