//! Small text helpers that keep heavy standard library machinery out of the wasm: `Debug`
//! quoting needs Unicode tables, and `str::contains` / `str::replace` with a `&str` pattern
//! bring the two-way string searcher and its panic paths. Payload-sized inputs are not
//! searched with these; content types, templates and storage keys are a few dozen bytes.

/// `s` between `q` quotes, escaped as `format!("{s:?}")` (or `'c'` for a char) writes it, except
/// that invisible and combining characters other than control characters are written as they
/// are: `Debug` needs the standard library's Unicode tables for those (about 4 KB of wasm), and
/// these messages are for people.
pub(crate) fn quoted(s: &str, q: char) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            '\\' => out.push_str("\\\\"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                out.push_str("\\u{");
                push_hex(&mut out, c as u32, 1);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Where `needle` first occurs in `hay` (a byte offset), like `hay.find(needle)`.
pub(crate) fn find(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(0);
    }
    hay.as_bytes().windows(n.len()).position(|w| w == n)
}

/// Whether `needle` occurs in `hay`, like `hay.contains(needle)`.
pub(crate) fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// `hay` with every `needle` replaced by `with`, like `hay.replace(needle, with)` for a
/// non-empty `needle`.
pub(crate) fn replace(hay: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = find(rest, needle).filter(|_| !needle.is_empty()) {
        // `i` and `i + needle.len()` are on character boundaries: `needle` is whole text.
        out.push_str(rest.get(..i).unwrap_or_default());
        out.push_str(with);
        rest = rest.get(i + needle.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Appends `n` in lower-case hex with at least `width` digits (at most 8), as
/// `{n:0width$x}` writes it: the core's only hex formatting, without `core::fmt`'s
/// `LowerHex` and padding.
pub(crate) fn push_hex(out: &mut String, n: u32, width: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (8 - n.leading_zeros() as usize / 4)
        .max(width.min(8))
        .max(1);
    for i in (0..digits).rev() {
        out.push(char::from(HEX[((n >> (4 * i)) & 15) as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_debug() {
        for s in [
            "",
            "abc",
            "a\"b",
            "it's",
            "x\\y",
            "\t\r\n\0",
            "\u{1}\u{7f}\u{85}",
            "é😀",
        ] {
            assert_eq!(quoted(s, '"'), format!("{s:?}"));
            for c in s.chars() {
                assert_eq!(quoted(c.encode_utf8(&mut [0; 4]), '\''), format!("{c:?}"));
            }
        }
    }

    #[test]
    fn writes_hex_like_format() {
        for n in [0u32, 1, 0xf, 0x10, 0x7f, 0xabc, 0x1f600, u32::MAX] {
            let (mut one, mut four) = (String::new(), String::new());
            push_hex(&mut one, n, 1);
            push_hex(&mut four, n, 4);
            assert_eq!(one, format!("{n:x}"));
            assert_eq!(four, format!("{n:04x}"));
        }
    }

    #[test]
    fn searches_like_str() {
        for (hay, needle) in [
            ("application/json", "json"),
            ("", "a"),
            ("abc", ""),
            ("aaa", "aa"),
            ("é{reason}é", "{reason}"),
        ] {
            assert_eq!(find(hay, needle), hay.find(needle));
            assert_eq!(contains(hay, needle), hay.contains(needle));
            if !needle.is_empty() {
                assert_eq!(replace(hay, needle, "<x>"), hay.replace(needle, "<x>"));
            }
        }
    }
}
