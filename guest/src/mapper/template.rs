//! `"${givenName} ${sn}"`: literal text with attribute placeholders. `$$` is a literal `$`.

/// One parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Attr(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            literal.push_str(&rest[..pos]);
            rest = &rest[pos + 1..];
            if let Some(after) = rest.strip_prefix('$') {
                literal.push('$');
                rest = after;
            } else if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or_else(|| format!("unclosed `${{` in template {text:?}"))?;
                let name = after[..end].trim();
                if name.is_empty() {
                    return Err(format!("empty `${{}}` in template {text:?}"));
                }
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Attr(name.to_string()));
                rest = &after[end + 1..];
            } else {
                return Err(format!("a `$` must start `${{name}}` or be doubled in template {text:?}"));
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The names the template refers to.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Attr(n) => Some(n.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text, or none when a placeholder has no value (so that a missing attribute never yields a
    /// half-filled value such as `" Doe"`).
    pub fn render(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Attr(n) => out.push_str(&lookup(n)?),
            }
        }
        Some(out)
    }

    /// The reverse of [`render`](Self::render) for a template with exactly one placeholder: the placeholder's
    /// name and the part of `text` that fills it, when the literal text around it matches.
    pub fn capture(&self, text: &str) -> Option<(&str, String)> {
        let mut names = self.names();
        let name = names.next()?;
        if names.next().is_some() {
            return None;
        }
        let mut prefix = "";
        let mut suffix = "";
        let mut seen = false;
        for p in &self.parts {
            match p {
                Part::Text(t) if seen => suffix = t,
                Part::Text(t) => prefix = t,
                Part::Attr(_) => seen = true,
            }
        }
        let inner = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
        (!inner.is_empty()).then(|| (name, inner.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::Template;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "givenName" => Some("Ada".into()),
            "sn" => Some("Lovelace".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_placeholders_and_escapes() {
        let t = Template::parse("${givenName} ${ sn } costs $$5").unwrap();
        assert_eq!(t.render(&lookup).as_deref(), Some("Ada Lovelace costs $5"));
        assert_eq!(t.names().collect::<Vec<_>>(), ["givenName", "sn"]);
    }

    #[test]
    fn a_missing_value_renders_nothing() {
        assert_eq!(Template::parse("${givenName} ${title}").unwrap().render(&lookup), None);
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in ["${", "${}", "a $b", "$"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn captures_the_single_placeholder() {
        let t = Template::parse("class-${value}!").unwrap();
        assert_eq!(t.capture("class-3A!"), Some(("value", "3A".to_string())));
        assert_eq!(t.capture("class-!"), None);
        assert_eq!(t.capture("other-3A!"), None);
        assert_eq!(Template::parse("${a}${b}").unwrap().capture("xy"), None);
    }
}
