//! Reading LDIF content records (RFC 2849): entries separated by blank lines, `name: value`, base64
//! `name:: value`, folded lines (continuations start with one space), `#` comments. Change records and
//! `name:< URL` values are refused. Each entry's `dn` is also given as an attribute named `dn`.

/// One directory entry: its DN and attributes, in file order, repeated names gathered.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub dn: String,
    /// The line of its `dn:`.
    pub line: usize,
    pub attrs: Vec<(String, Vec<String>)>,
}

/// Parses a whole LDIF text. Errors name the line.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    for (line_no, line) in unfold(text) {
        if line.is_empty() {
            entries.extend(current.take());
            continue;
        }
        let at = |e: String| format!("line {line_no}: {e}");
        let (name, value) = attribute(&line).map_err(at)?;
        match (&mut current, name.to_ascii_lowercase().as_str()) {
            (None, "version") if entries.is_empty() => {}
            (None, "dn") => {
                current = Some(Entry { dn: value.clone(), line: line_no, attrs: vec![("dn".into(), vec![value])] })
            }
            (None, _) => return Err(at(format!("an entry must start with dn:, not {name}:"))),
            (Some(_), "changetype") => return Err(at("change records are not supported; give content records".into())),
            (Some(e), _) => match e.attrs.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&name)) {
                Some((_, values)) => values.push(value),
                None => e.attrs.push((name, vec![value])),
            },
        }
    }
    entries.extend(current);
    Ok(entries)
}

/// Logical lines with the number of their first physical line; comments dropped, folds joined.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut in_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = line.strip_prefix(' ') {
            if !in_comment {
                if let Some((_, last)) = out.last_mut().filter(|(_, l)| !l.is_empty()) {
                    last.push_str(cont);
                }
            }
            continue;
        }
        in_comment = line.starts_with('#');
        if !in_comment {
            out.push((i + 1, line.to_string()));
        }
    }
    out
}

fn attribute(line: &str) -> Result<(String, String), String> {
    let (name, rest) = line.split_once(':').ok_or("expected name: value")?;
    if name.is_empty() || name.contains(' ') {
        return Err(format!("{name:?} is not an attribute name"));
    }
    let value = if let Some(b64) = rest.strip_prefix(':') {
        let bytes = base64(b64.trim()).ok_or_else(|| format!("{name}: the base64 value is malformed"))?;
        String::from_utf8(bytes).map_err(|_| format!("{name}: a binary value cannot be provisioned as text"))?
    } else if rest.starts_with('<') {
        return Err(format!("{name}: values by URL (:<) are not supported"));
    } else {
        rest.trim_start_matches(' ').to_string()
    };
    Ok((name.to_string(), value))
}

/// Standard base64 with padding, as RFC 2849 uses.
fn base64(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | digit(c)?;
        }
        n <<= 6 * pad as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "version: 1\n\
# a comment\n \
folded into the comment\n\
dn: uid=jdoe,ou=people,dc=example,dc=org\n\
objectClass: inetOrgPerson\n\
uid: jdoe\n\
cn: Jane\n  Doe\n\
sn:: RMO2ZQ==\n\
mail: jdoe@example.org\n\
MAIL: jane@example.org\n\
\n\
\n\
dn: uid=rroe,ou=people,dc=example,dc=org\r\n\
uid:rroe\r\n";

    #[test]
    fn reads_entries_folds_base64_and_repeats() {
        let entries = parse(SAMPLE).unwrap();
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.dn, "uid=jdoe,ou=people,dc=example,dc=org");
        assert_eq!((e.line, entries[1].line), (4, 14));
        let get = |k: &str| e.attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("cn"), ["Jane Doe"]);
        assert_eq!(get("sn"), ["Döe"]);
        assert_eq!(get("mail"), ["jdoe@example.org", "jane@example.org"]);
        assert_eq!(get("dn"), std::slice::from_ref(&e.dn));
        assert_eq!(entries[1].attrs[1], ("uid".to_string(), vec!["rroe".to_string()]));
    }

    #[test]
    fn refuses_what_it_cannot_read_naming_the_line() {
        for (text, line) in [
            ("uid: x\n", "line 1"),
            ("dn: a\nchangetype: modify\n", "line 2"),
            ("dn: a\nphoto:< file:///x\n", "line 2"),
            ("dn: a\nsn:: ***\n", "line 2"),
            ("dn: a\nphoto:: /w==\n", "line 2"),
            ("dn: a\nnovalue\n", "line 2"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(line), "{text:?}: {e}");
        }
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64("").unwrap(), b"");
        assert_eq!(base64("Zg==").unwrap(), b"f");
        assert_eq!(base64("Zm8=").unwrap(), b"fo");
        assert_eq!(base64("Zm9v").unwrap(), b"foo");
        assert!(base64("Zg=").is_none());
        assert!(base64("Zg==Zg==").is_none());
    }
}
