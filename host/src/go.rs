//! Go's text functions where Porter's behaviour depends on them, so names
//! porter derives (environment variables, build arguments) match Porter's.

/// Go's `unicode.ToUpper`: one rune to one rune. Where Rust's full mapping
/// gives several (`ß` -> `SS`), Go keeps the rune as it is.
pub fn to_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn upper_cases_one_rune_at_a_time_as_go_does() {
        assert_eq!(super::to_upper('a'), 'A');
        assert_eq!(super::to_upper('é'), 'É');
        assert_eq!(super::to_upper('ß'), 'ß');
        assert_eq!(super::to_upper('_'), '_');
    }
}
