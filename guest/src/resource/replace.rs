//! PUT against what is stored (RFC 7644 §3.5.1): immutable values cannot change once set, and write-only
//! values (a password) are kept when the client does not send them, since it could never have read them.

use crate::error::{self as err, ScimResult};
use crate::schema::{AttrType, Attribute, Mutability};
use serde_json::{Map, Value};

/// Checks `new` against `old` for one schema's attributes (or one complex value's sub-attributes) and
/// carries over what the client could not or need not resend. `path` names the schema or the parent.
///
/// An immutable value the client leaves out is kept rather than cleared: removing it would let the next
/// PUT set a different value, which immutability forbids.
pub fn carry_over(
    attrs: &[Attribute],
    old: &Map<String, Value>,
    new: &mut Map<String, Value>,
    path: &Path,
) -> ScimResult<()> {
    for attr in attrs {
        let Some(before) = old.get(&attr.name) else {
            continue;
        };
        let here = path.child(&attr.name);
        match (attr.mutability, new.get_mut(&attr.name)) {
            (Mutability::Immutable | Mutability::WriteOnly, None) => {
                new.insert(attr.name.clone(), before.clone());
            }
            (Mutability::Immutable, Some(after)) if !same(attr, before, after) => {
                return Err(err::mutability(format!("{here} is immutable: once set it cannot change")));
            }
            (Mutability::ReadWrite, _) if attr.attr_type == AttrType::Complex && guarded(attr) => {
                if !attr.multi_valued && before.is_object() && !new.contains_key(&attr.name) {
                    new.insert(attr.name.clone(), Value::Object(Map::new()));
                }
                complex(attr, before, new.get_mut(&attr.name), &here)?;
                if new.get(&attr.name).is_some_and(|v| v.as_object().is_some_and(Map::is_empty)) {
                    new.remove(&attr.name);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The sub-attributes of a read-write complex attribute. A multi-valued one matches its values by their
/// `value` sub-attribute: values may come and go, but a value that stays keeps its immutable parts.
fn complex(attr: &Attribute, before: &Value, after: Option<&mut Value>, here: &Path) -> ScimResult<()> {
    match (before, after) {
        (Value::Object(old), Some(Value::Object(new))) => carry_over(&attr.sub_attributes, old, new, here),
        (Value::Array(old), Some(Value::Array(new))) => {
            for item in new.iter_mut().filter_map(Value::as_object_mut) {
                let key = item.get("value").cloned();
                let prior =
                    old.iter().filter_map(Value::as_object).find(|o| key.is_some() && o.get("value") == key.as_ref());
                if let Some(prior) = prior {
                    carry_over(&attr.sub_attributes, prior, item, here)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The complex attribute has sub-attributes that a PUT must check or carry over.
fn guarded(attr: &Attribute) -> bool {
    attr.sub_attributes.iter().any(|s| matches!(s.mutability, Mutability::Immutable | Mutability::WriteOnly))
}

/// Equal under the attribute's rules: text compared without case unless `caseExact`.
fn same(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !attr.case_exact => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// The name shown in errors: `emails.type`, `urn:…:User:manager.value`.
pub enum Path<'a> {
    /// A core attribute's parent: nothing.
    Core,
    /// An extension attribute's parent: its schema URN.
    Schema(&'a str),
    /// A sub-attribute's parent: the attribute's full name.
    Attr(String),
}

impl Path<'_> {
    fn child(&self, name: &str) -> Path<'static> {
        Path::Attr(match self {
            Path::Core => name.to_string(),
            Path::Schema(urn) => format!("{urn}:{name}"),
            Path::Attr(parent) => format!("{parent}.{name}"),
        })
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Core => Ok(()),
            Path::Schema(s) => f.write_str(s),
            Path::Attr(s) => f.write_str(s),
        }
    }
}
