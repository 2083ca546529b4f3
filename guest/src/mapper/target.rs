//! Where a rule writes in the SCIM resource: `displayName`, `name.givenName`, `emails[type eq "work"].value`,
//! and any of these behind an extension URN (`urn:…:enterprise:2.0:User:employeeNumber`).

use crate::filter::CompValue;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The extension schema URN; none for the core schema.
    pub schema: Option<String>,
    /// The top-level attribute (in the core schema or the extension).
    pub attr: String,
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `attr`: a single value (or, with `list`, an array of simple values).
    Value,
    /// `attr.sub`: a sub-attribute of a singular complex attribute.
    Sub(String),
    /// `attr[sel eq "lit"].sub`: one element of a multi-valued complex attribute per value, each carrying
    /// `sel: lit`.
    Element { selector: (String, Value), sub: String },
}

impl Target {
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        let path = crate::path::parse_path(text).map_err(|detail| format!("target {text:?}: {detail}"))?;
        if path.attr.urn.as_deref().is_some_and(|urn| !urn.starts_with("urn:")) {
            return Err(format!("target {text:?}: only extension URNs (urn:…) may hold a colon"));
        }
        let shape = match (path.selector(), &path.filter, &path.attr.sub, &path.sub) {
            (_, None, None, _) => Shape::Value,
            (_, None, Some(sub), _) => Shape::Sub(sub.clone()),
            (Some((sel, lit @ (CompValue::Str(_) | CompValue::Bool(_)))), Some(_), _, Some(sub)) => {
                Shape::Element { selector: (sel.to_string(), lit.to_json()), sub: sub.clone() }
            }
            _ => return Err(format!("target {text:?}: expected attr, attr.sub or attr[sub eq \"value\"].sub")),
        };
        Ok(Target { schema: path.attr.urn, attr: path.attr.name, shape })
    }

    /// The text of the PATCH path of the top-level attribute (`urn:…:User:manager` for an extension).
    pub fn attr_path(&self) -> String {
        match &self.schema {
            Some(urn) => format!("{urn}:{}", self.attr),
            None => self.attr.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_shape() {
        let t = Target::parse("userName").unwrap();
        assert_eq!((t.schema, t.attr.as_str(), t.shape), (None, "userName", Shape::Value));
        assert_eq!(Target::parse("name.givenName").unwrap().shape, Shape::Sub("givenName".into()));
        let t = Target::parse(r#"emails[type eq "work:x"].value"#).unwrap();
        assert_eq!(t.shape, Shape::Element { selector: ("type".into(), json!("work:x")), sub: "value".into() });
        let t = Target::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
        assert_eq!(t.schema.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(t.attr_path(), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
        assert_eq!(
            Target::parse("emails[primary eq true].value").unwrap().shape,
            Shape::Element { selector: ("primary".into(), json!(true)), sub: "value".into() }
        );
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        for bad in [
            "",
            "a.b.c",
            "emails[type eq \"w\"]",
            "emails[type co \"w\"].value",
            "emails[type eq 3].value",
            "x:y",
            "1abc",
            "emails[type eq \"w\".value",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
