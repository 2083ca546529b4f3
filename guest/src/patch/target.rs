//! What a PATCH path names in the schema: an attribute, optionally one of its elements (by filter) and one
//! sub-attribute.

use crate::config::{Config, UnknownAttributes};
use crate::error::{self as err, ScimResult};
use crate::filter::{self, Filter};
use crate::schema::{AttrType, Attribute, Mutability, ResourceType};

/// A resolved path: `emails[type eq "work"].value` is `emails`, the filter, and `value`.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The extension URN the attribute lives under; none for core and common attributes.
    pub ext: Option<&'a str>,
    pub attr: &'a Attribute,
    pub filter: Option<Filter>,
    pub sub: Option<&'a Attribute>,
    /// The path as written, for error details.
    pub text: String,
}

impl Target<'_> {
    /// The path names something clients may not write (RFC 7643 §2.2 `readOnly`).
    pub fn read_only(&self) -> bool {
        self.attr.mutability == Mutability::ReadOnly || self.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    }
}

/// Resolves `text`. `Ok(None)`: the attribute is unknown and the `unknownAttributes` switch says to ignore it.
/// A malformed path, or a filter or sub-attribute on an attribute that cannot have one, is 400 `invalidPath`.
pub fn resolve<'a>(cfg: &'a Config, rt: &'a ResourceType, text: &str) -> ScimResult<Option<Target<'a>>> {
    let path = crate::path::parse_path(text).map_err(|detail| err::invalid_path(format!("invalid path: {detail}")))?;
    let unknown = || match cfg.switches.unknown_attributes {
        UnknownAttributes::Ignore => Ok(None),
        UnknownAttributes::Reject => Err(err::invalid_path(format!("{text}: no such attribute"))),
    };
    let Some((ext, attr)) = cfg.registry.attribute(rt, path.attr.urn.as_deref(), &path.attr.name) else {
        return unknown();
    };
    let sub_name = path.sub_attr();
    if sub_name.is_some() && attr.attr_type != AttrType::Complex {
        return Err(err::invalid_path(format!("{text}: {} has no sub-attributes", attr.name)));
    }
    if path.filter.is_some() && !(attr.multi_valued && attr.attr_type == AttrType::Complex) {
        return Err(err::invalid_path(format!("{text}: only a multi-valued complex attribute takes a filter")));
    }
    let sub = match sub_name {
        Some(name) => match attr.sub(name) {
            Some(sub) => Some(sub),
            None => return unknown(),
        },
        None => None,
    };
    Ok(Some(Target { ext, attr, filter: path.filter, sub, text: text.to_string() }))
}

/// Whether one element matches the target's filter; a filter that misuses a type is 400 `invalidPath`.
pub fn matches(
    cfg: &Config,
    rt: &ResourceType,
    t: &Target,
    filter: &Filter,
    element: &serde_json::Value,
) -> ScimResult<bool> {
    filter::matches_element(cfg, rt, t.attr, filter, element)
        .map_err(|e| err::invalid_path(format!("{}: {}", t.text, e.detail)))
}
