//! The text of one file as it is gathered, never longer than `Limits::extract_text_bytes`.

/// Gathers text up to a cap. Once full it takes nothing more and says so, so every reader
/// can stop early instead of reading on into text nobody will search.
#[derive(Debug)]
pub(super) struct Sink {
    text: String,
    max: usize,
    full: bool,
}

impl Sink {
    pub(super) fn new(max: usize) -> Self {
        Sink { text: String::new(), max, full: false }
    }

    /// Append `s`; past the cap, only what fits (cut at a character boundary). `false` once
    /// the sink is full.
    pub(super) fn push(&mut self, s: &str) -> bool {
        if self.full {
            return false;
        }
        let room = self.max.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return true;
        }
        let cut = s.floor_char_boundary(room);
        self.text.push_str(&s[..cut]);
        self.full = true;
        false
    }

    /// Append one character.
    pub(super) fn push_char(&mut self, c: char) -> bool {
        self.push(c.encode_utf8(&mut [0; 4]))
    }

    /// A line break between paragraphs, cells, slides and pages, unless the text is empty or
    /// already ends with one: separators must keep words apart, not add blank lines.
    pub(super) fn newline(&mut self) -> bool {
        if self.text.is_empty() || self.text.ends_with('\n') {
            return !self.full;
        }
        self.push("\n")
    }

    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    pub(super) fn max(&self) -> usize {
        self.max
    }

    pub(super) fn len(&self) -> usize {
        self.text.len()
    }

    pub(super) fn into_text(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_cap_on_a_character_boundary() {
        let mut s = Sink::new(5);
        assert!(s.push("ab"));
        assert!(!s.push("cdé")); // "cd" fits, "é" (2 bytes) would end at byte 6
        assert!(s.is_full());
        assert!(!s.push("x"));
        assert!(!s.newline());
        assert_eq!(s.into_text(), "abcd");
    }

    #[test]
    fn newlines_separate_without_piling_up() {
        let mut s = Sink::new(100);
        s.newline();
        s.push("a");
        s.newline();
        s.newline();
        s.push_char('b');
        assert_eq!(s.into_text(), "a\nb");
    }
}
