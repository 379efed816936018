//! Sensitive values (credentials, sensitive parameters and outputs) never
//! appear in anything porter prints while a bundle runs: every line of a
//! command's output, every message of a mixin, every error goes through
//! [`Masker::mask`] first.

/// What replaces a sensitive value (Porter's mask).
pub const MASK: &str = "*******";

#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Longest first, so a value that contains another is masked whole.
    secrets: Vec<String>,
}

impl Masker {
    /// Adds a value to mask. Empty values are not masked (they would
    /// match everywhere); a value's lines are masked one by one too, so a
    /// multi-line secret printed line by line is still masked.
    pub fn add(&mut self, secret: &str) {
        let mut add = |s: &str| {
            let s = s.trim_end_matches('\r');
            if !s.trim().is_empty() && !self.secrets.iter().any(|k| k == s) {
                self.secrets.push(s.to_string());
            }
        };
        add(secret);
        if secret.contains('\n') {
            secret.lines().for_each(&mut add);
        }
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    pub fn mask(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASK);
            }
        }
        text
    }

    pub fn mask_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        self.mask(&String::from_utf8_lossy(bytes)).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_secret_longest_first() {
        let mut m = Masker::default();
        m.add("abc");
        m.add("abcdef");
        m.add("");
        m.add("line1\nline2");
        assert_eq!(m.mask("x abcdef y abc z"), "x ******* y ******* z");
        assert_eq!(m.mask("line2 only"), "******* only");
        assert_eq!(m.mask("nothing"), "nothing");
    }
}
