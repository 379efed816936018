//! Porter's splitting of flag tokens into words.

/// Splits one flag token (a flag's name or one of its values) into the
/// words Porter passes as separate arguments.
///
/// Words are separated by unquoted spaces, tabs and newlines. A word that
/// starts with `'` or `"` runs to the same quote and loses both quotes, so
/// `"a b" c` gives `a b`, `c`. A backslash stops the next character from
/// acting as a quote or separator but is itself kept: `"say \"hi\""` gives
/// `say \"hi\"`. An empty token gives no word at all (`--name ""` in YAML
/// becomes just `--name`). If a quote is never closed, the whole token is
/// kept as one word, unchanged.
///
/// This is a port of Porter's splitter, including what it does with unusual
/// input: a closing quote ends the word even when letters follow it
/// (`"a b"c` gives `a b`, `c`); a quote inside a word drops the word's
/// first character (`x="a b"` gives `="a b`); and a token of only
/// whitespace gives one empty word.
pub fn split_words(token: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut next = token;
    while !next.is_empty() {
        match next_word(next) {
            Some((word, rest)) => {
                words.push(word.to_string());
                next = rest;
            }
            None => return vec![token.to_string()],
        }
    }
    words
}

/// The first word of `input` and what follows it; None on an unmatched
/// quote.
fn next_word(input: &str) -> Option<(&str, &str)> {
    let input = input.trim_start_matches([' ', '\n', '\t']);
    let mut escaped = false;
    let mut word_start = 0;
    let mut word_stop = 0;
    // '\0' plays Go's "no quote open" zero rune: like Porter, a NUL
    // character then ends a word.
    let mut closing_quote = '\0';
    for (i, c) in input.char_indices() {
        let c = if escaped {
            escaped = false;
            None
        } else {
            Some(c)
        };
        match c {
            Some('\\') => {
                escaped = true;
                continue;
            }
            Some(c) if c == closing_quote => {
                word_stop = i;
                closing_quote = '\0';
            }
            Some(c @ ('\'' | '"')) => {
                if closing_quote != '\0' {
                    continue;
                }
                word_start = 1;
                closing_quote = c;
            }
            Some(' ' | '\t' | '\n') => {
                if closing_quote != '\0' {
                    continue;
                }
                word_start = 0;
                word_stop = i;
            }
            _ => {}
        }
        if word_stop > 0 {
            return Some((&input[word_start..word_stop], &input[word_stop + 1..]));
        }
    }
    if closing_quote != '\0' {
        return None;
    }
    Some((input, ""))
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[track_caller]
    fn check(token: &str, want: &[&str]) {
        assert_eq!(split_words(token), want, "splitting {token:?}");
    }

    #[test]
    fn whitespace_separates_words() {
        check("val1 val2", &["val1", "val2"]);
        check("val1\tval2", &["val1", "val2"]);
        check("val1\nval2", &["val1", "val2"]);
        check("  lead  and   trail ", &["lead", "and", "trail"]);
        check("--name", &["--name"]);
    }

    #[test]
    fn quotes_group_and_are_removed() {
        check(r#""val1 val2" val3"#, &["val1 val2", "val3"]);
        check("'val1 val2' val3", &["val1 val2", "val3"]);
        check(r#""Patty O'Brien" true"#, &["Patty O'Brien", "true"]);
        check("'k=v'", &["k=v"]);
        check(r#"'say "hi"'"#, &[r#"say "hi""#]);
    }

    #[test]
    fn backslash_escapes_but_stays() {
        check(
            r#""echo { \"test\": \"myvalue\" }""#,
            &[r#"echo { \"test\": \"myvalue\" }"#],
        );
        check(
            r#""echo $'I\'m a linux admin.'""#,
            &[r#"echo $'I\'m a linux admin.'"#],
        );
        check(r"a\ b", &[r"a\ b"]);
    }

    #[test]
    fn empty_token_disappears() {
        check("", &[]);
        check(r#""""#, &[""]);
    }

    #[test]
    fn unmatched_quote_keeps_the_token_whole() {
        check(r#""Patty O"Brien" true"#, &[r#""Patty O"Brien" true"#]);
        check("'Patty O'Brien' true", &["'Patty O'Brien' true"]);
        check(r#"abc "def"#, &[r#"abc "def"#]);
    }

    #[test]
    fn porters_oddities_are_kept() {
        check(r#""a b"c"#, &["a b", "c"]);
        check(r#"x="a b""#, &[r#"="a b"#]);
        check("   ", &[""]);
        check("a\0b", &["a", "b"]);
        check("é \"ü ö\"", &["é", "ü ö"]);
    }
}
