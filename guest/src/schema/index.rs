//! Names looked up without regard to case (RFC 7643 §2.1) without a scan: every key of every resource a request
//! reads or writes is looked up in its schema, and a linear case-insensitive search per key was a measurable
//! part of writing a page of resources.

use std::collections::BTreeMap;

/// The positions of names in a list, keyed by their ASCII lower-case form. Of names equal but for case, the
/// first wins, as a search from the start would find it. (A BTreeMap: a HashMap needs a random seed, which
/// the component is not given.)
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex(BTreeMap<Box<str>, usize>);

/// Names at most this long are folded on the stack.
const SHORT: usize = 64;

impl NameIndex {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut map = BTreeMap::new();
        for (i, name) in names.into_iter().enumerate() {
            map.entry(name.to_ascii_lowercase().into_boxed_str()).or_insert(i);
        }
        NameIndex(map)
    }

    /// The position of `name`, in any case.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        let mut buf = [0u8; SHORT];
        let Some(folded) = buf.get_mut(..name.len()) else {
            return self.0.get(name.to_ascii_lowercase().as_str()).copied();
        };
        folded.copy_from_slice(name.as_bytes());
        folded.make_ascii_lowercase();
        // Folding ASCII letters keeps the text valid UTF-8.
        std::str::from_utf8(folded).ok().and_then(|n| self.0.get(n)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_name_in_any_case_and_nothing_else() {
        let names = ["userName", "name", "emails", "urn:ietf:params:scim:schemas:core:2.0:User"];
        let index = NameIndex::new(names);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(index.get(name), Some(i), "{name}");
            assert_eq!(index.get(&name.to_ascii_uppercase()), Some(i), "{name}");
            assert_eq!(index.get(&name.to_ascii_lowercase()), Some(i), "{name}");
        }
        for absent in ["", "user", "usernames", "email", "names", "urn:ietf:params:scim:schemas:core:2.0:Group"] {
            assert_eq!(index.get(absent), None, "{absent}");
        }
    }

    #[test]
    fn the_first_of_names_equal_but_for_case_wins() {
        let index = NameIndex::new(["Title", "title", "TITLE"]);
        assert_eq!(index.get("title"), Some(0));
        assert_eq!(index.get("TITLE"), Some(0));
    }

    #[test]
    fn long_and_non_ascii_names_are_found() {
        let long = format!("urn:example:{}:Device", "x".repeat(SHORT));
        let index = NameIndex::new([long.as_str(), "naïve", "Ünïcode"]);
        assert_eq!(index.get(&long.to_ascii_uppercase()), Some(0));
        assert_eq!(index.get("NAïVE"), Some(1));
        // Only ASCII letters fold, as `eq_ignore_ascii_case` compares.
        assert_eq!(index.get("NAÏVE"), None);
        assert_eq!(index.get("Ünïcode"), Some(2));
        assert_eq!(index.get("ünïcode"), None);
    }
}
