//! Text from clients bound for a terminal (`scimkit logs`, the server's stderr): control characters (C0, DEL,
//! C1 such as U+009B, which terminals read as an escape sequence) and bidirectional formatting characters
//! (which reorder what is shown) are written as `\u{…}`, so a request cannot drive or disguise the display.

use std::fmt;

/// `text`, displayed with its unsafe characters escaped.
pub struct Escaped<'a>(pub &'a str);

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if unsafe_char(c) {
                write!(f, "\\u{{{:04x}}}", c as u32)?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    #[test]
    fn control_and_bidirectional_characters_are_escaped() {
        let hostile = "/Users/\u{9b}31m\u{1b}[2J\u{202e}gpj.exe\u{2066}\r\n\u{7f}é";
        assert_eq!(
            Escaped(hostile).to_string(),
            "/Users/\\u{009b}31m\\u{001b}[2J\\u{202e}gpj.exe\\u{2066}\\u{000d}\\u{000a}\\u{007f}é"
        );
    }
}
