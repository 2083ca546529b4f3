//! Where a rule writes in the SCIM resource: `displayName`, `name.givenName`, `emails[type eq "work"].value`,
//! and any of these behind an extension URN (`urn:…:enterprise:2.0:User:employeeNumber`).

use serde_json::{Map, Value};

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
        // The URN ends at the last colon before any filter, whose literal may itself hold colons.
        let head_end = text.find('[').unwrap_or(text.len());
        let (schema, path) = match text[..head_end].rfind(':') {
            Some(i) if text.starts_with("urn:") => (Some(text[..i].to_string()), &text[i + 1..]),
            Some(_) => return Err(format!("target {text:?}: only extension URNs (urn:…) may hold a colon")),
            None => (None, text),
        };
        let bad = || format!("target {text:?}: expected attr, attr.sub or attr[sub eq \"value\"].sub");
        let (attr, shape) = if let Some(open) = path.find('[') {
            let close = path.find(']').ok_or_else(bad)?;
            let sub = path[close + 1..].strip_prefix('.').ok_or_else(bad)?;
            let selector = parse_selector(&path[open + 1..close]).ok_or_else(bad)?;
            (&path[..open], Shape::Element { selector, sub: name(sub).ok_or_else(bad)? })
        } else if let Some((attr, sub)) = path.split_once('.') {
            (attr, Shape::Sub(name(sub).ok_or_else(bad)?))
        } else {
            (path, Shape::Value)
        };
        Ok(Target { schema, attr: name(attr).ok_or_else(bad)?, shape })
    }

    /// The text of the PATCH path of the top-level attribute (`urn:…:User:manager` for an extension).
    pub fn attr_path(&self) -> String {
        match &self.schema {
            Some(urn) => format!("{urn}:{}", self.attr),
            None => self.attr.clone(),
        }
    }
}

/// `type eq "work"` (or a `true`/`false` literal); nothing else is a selector.
fn parse_selector(text: &str) -> Option<(String, Value)> {
    let mut words = text.trim().splitn(3, ' ');
    let sub = name(words.next()?)?;
    if !words.next()?.eq_ignore_ascii_case("eq") {
        return None;
    }
    let lit = words.next()?.trim();
    let value = match lit {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match serde_json::from_str::<Value>(lit).ok()? {
            v @ Value::String(_) => v,
            _ => return None,
        },
    };
    Some((sub, value))
}

/// An attribute name as RFC 7643 §2.1 allows: a letter, then letters, digits, `_`, `-` or `$`.
fn name(text: &str) -> Option<String> {
    let mut chars = text.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'));
    ok.then(|| text.to_string())
}

/// A key of `obj` equal to `name` without regard to case (SCIM attribute names are case-insensitive).
pub fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
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
