//! The filter language's syntax tree (RFC 7644 §3.4.2.2), kept apart from parsing and evaluation.

use crate::path::AttrPath;

/// `compValue = false / null / true / number / string`, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
}

impl CompValue {
    /// The literal as the JSON value it denotes.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CompValue::Null => serde_json::Value::Null,
            CompValue::Bool(b) => (*b).into(),
            CompValue::Number(n) => n.clone().into(),
            CompValue::Str(s) => s.as_str().into(),
        }
    }
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

/// RFC 7644 comparison operators (§3.4.2.2 Table 3), as in the WIT `compare-op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// Every operator, in RFC 7644 §3.4.2.2 Table 3 order.
    pub const ALL: [CompareOp; 9] = [
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

    /// The lower-case keyword: the one table of keywords, which parsing, printing and hosts all read.
    pub fn keyword(self) -> &'static str {
        match self {
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

    /// The operator a keyword names, in any case (ABNF strings ignore case).
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL.into_iter().find(|op| op.keyword().eq_ignore_ascii_case(word))
    }
}
