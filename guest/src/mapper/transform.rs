//! Value transforms, applied in order to all of a rule's values: `"trim"`, `"lower"`, `"upper"`,
//! `{"split": ","}` (each value into its non-empty parts) and `{"join": " "}` (all values into one).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    Trim,
    Lower,
    Upper,
    Split(String),
    Join(String),
}

impl Transform {
    /// One transform from its configuration form.
    pub fn parse(v: &Value) -> Result<Transform, String> {
        match v {
            Value::String(s) => match s.as_str() {
                "trim" => Ok(Transform::Trim),
                "lower" => Ok(Transform::Lower),
                "upper" => Ok(Transform::Upper),
                other => Err(format!("unknown transform {other:?} (trim, lower, upper, {{split}}, {{join}})")),
            },
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().expect("one entry");
                let sep = arg.as_str().ok_or_else(|| format!("transform {k:?} takes a string"))?;
                match k.as_str() {
                    "split" if sep.is_empty() => Err("split needs a non-empty separator".into()),
                    "split" => Ok(Transform::Split(sep.into())),
                    "join" => Ok(Transform::Join(sep.into())),
                    other => Err(format!("unknown transform {other:?}")),
                }
            }
            other => Err(format!("a transform is a name or a one-key object, not {other}")),
        }
    }

    /// A list of transforms: an array, or a single transform.
    pub fn parse_all(v: Option<&Value>) -> Result<Vec<Transform>, String> {
        match v {
            None | Some(Value::Null) => Ok(vec![]),
            Some(Value::Array(items)) => items.iter().map(Transform::parse).collect(),
            Some(one) => Ok(vec![Transform::parse(one)?]),
        }
    }

    fn apply(&self, values: Vec<String>) -> Vec<String> {
        match self {
            Transform::Trim => values.into_iter().map(|v| v.trim().to_string()).collect(),
            Transform::Lower => values.into_iter().map(|v| v.to_lowercase()).collect(),
            Transform::Upper => values.into_iter().map(|v| v.to_uppercase()).collect(),
            Transform::Split(sep) => values
                .iter()
                .flat_map(|v| v.split(sep.as_str()))
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
            Transform::Join(sep) if values.is_empty() => values,
            Transform::Join(sep) => vec![values.join(sep)],
        }
    }
}

/// Applies every transform, then drops empty values (a blank directory value is no value).
pub fn apply_all(transforms: &[Transform], mut values: Vec<String>) -> Vec<String> {
    for t in transforms {
        values = t.apply(values);
    }
    values.retain(|v| !v.is_empty());
    values
}

/// The inverse of the reversible transforms (split ↔ join), for `to-attributes`; the others lose information
/// and are skipped.
pub fn reverse(transforms: &[Transform], mut values: Vec<String>) -> Vec<String> {
    for t in transforms.iter().rev() {
        values = match t {
            Transform::Join(sep) => Transform::Split(sep.clone()).apply(values),
            Transform::Split(sep) => Transform::Join(sep.clone()).apply(values),
            _ => values,
        };
    }
    values.retain(|v| !v.is_empty());
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn applies_in_order_and_drops_blanks() {
        let ts = Transform::parse_all(Some(&json!(["trim", "lower", {"split": ";"}]))).unwrap();
        assert_eq!(apply_all(&ts, strings(&[" A;B ", "  ", "c"])), strings(&["a", "b", "c"]));
        let join = Transform::parse_all(Some(&json!({"join": ", "}))).unwrap();
        assert_eq!(apply_all(&join, strings(&["x", "y"])), strings(&["x, y"]));
        assert!(apply_all(&join, vec![]).is_empty());
    }

    #[test]
    fn unknown_or_malformed_transforms_are_refused() {
        for bad in [json!("reverse"), json!({"split": ""}), json!({"split": 1}), json!(3), json!({"a": "b", "c": "d"})]
        {
            assert!(Transform::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_and_join_reverse_each_other() {
        let ts = Transform::parse_all(Some(&json!(["upper", {"join": "|"}]))).unwrap();
        assert_eq!(reverse(&ts, strings(&["A|B"])), strings(&["A", "B"]));
        let ts = Transform::parse_all(Some(&json!({"split": ","}))).unwrap();
        assert_eq!(reverse(&ts, strings(&["a", "b"])), strings(&["a,b"]));
    }
}
