//! Masking of personal data in free text, so that what goes into an event or a log never
//! carries an email, a phone number, a card number or a national id (SPEC section 7).
//!
//! Three linear passes over the text, no regex engine (it would cost wasm size): the first
//! replaces emails, the second IBANs, the third numbers. Each pass looks at every character a
//! bounded number of times: a candidate that turns out not to match is copied as a whole and
//! scanning goes on after it, never back into it. Digits are the decimal digits of every
//! common script (ASCII, full-width, Arabic-Indic, Devanagari, ...), and numbers may be grouped
//! by any Unicode space (no-break and thin spaces included) or hyphen, because that is how
//! people (and phones' keyboards) type them; any other text passes through unchanged.

/// What an email becomes.
pub const EMAIL: &str = "[email]";
/// What a phone number becomes.
pub const PHONE: &str = "[phone]";
/// What a card number becomes.
pub const CARD: &str = "[card]";
/// What a 12-digit national id becomes.
pub const NATIONAL_ID: &str = "[id]";
/// What an IBAN (a bank account number with a valid check) becomes.
pub const IBAN: &str = "[iban]";

/// Replaces emails, IBANs, phone numbers, card numbers and 12-digit national ids in `text` by
/// [`EMAIL`], [`IBAN`], [`PHONE`], [`CARD`] and [`NATIONAL_ID`].
///
/// - email: `local@domain.tld` (ASCII letters, digits and `._%+-`, or a quoted local part
///   such as `"ana silva"@example.com`), a trailing sentence `.` kept;
/// - IBAN: two letters, two check digits and up to 30 letters or digits, together or in
///   groups, that pass the ISO 13616 mod-97 check (masked whole, never half);
/// - card: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check,
///   even glued to letters (`card4111111111111111`);
/// - national id: 12 digits, together or in groups of four (`1234 5678 9012`);
/// - phone: 7 to 15 digits (the E.164 limit) grouped by spaces, dashes, dots or parentheses,
///   with an optional leading `+`; a date such as `2024-01-15` is not a phone.
///
/// Shorter digit runs glued to letters (`order7654321x`, hex hashes) are left alone: they are
/// codes, not numbers a person typed. Digit runs of 16 to 19 digits that fail the Luhn check
/// are left alone too (order numbers, timestamps with milliseconds are 13 digits and become
/// `[phone]`: masking errs on the side of privacy).
///
/// ```
/// use sendonce::core::mask::mask;
/// assert_eq!(
///     mask("Ana <ana.silva@example.com>, +55 (11) 98765-4321, card 4111 1111 1111 1111"),
///     "Ana <[email]>, [phone], card [card]"
/// );
/// assert_eq!(mask("Order 42 shipped"), "Order 42 shipped");
/// ```
pub fn mask(text: &str) -> String {
    mask_numbers(&mask_ibans(&mask_emails(text)))
}

/// The value of a decimal digit of any common script (Unicode `Nd` blocks of ten): ASCII,
/// Arabic-Indic, Extended Arabic-Indic, NKo, the Indic scripts, Thai, Lao, Tibetan, Myanmar,
/// Khmer, Mongolian, full-width and the mathematical digits.
fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if (c as u32) < 0x660 {
        return None;
    }
    const ZEROS: [u32; 27] = [
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
        0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0xFF10, 0x1D7CE, 0x1D7D8,
        0x1D7E2, 0x1D7EC, 0x1D7F6,
    ];
    let c = c as u32;
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&c))
        .map(|z| (c - z) as u8)
}

fn is_digit(c: char) -> bool {
    digit_value(c).is_some()
}

/// Spaces that group digits: ASCII space, no-break space and the other Unicode spaces
/// (figure, thin, narrow no-break, ideographic). Not tabs or newlines.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// `-` and the Unicode hyphens and dashes people (and word processors) put between digits.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{ff0d}'
    )
}

fn is_plus(c: char) -> bool {
    matches!(c, '+' | '\u{ff0b}')
}

fn is_open(c: char) -> bool {
    matches!(c, '(' | '\u{ff08}')
}

fn is_close(c: char) -> bool {
    matches!(c, ')' | '\u{ff09}')
}

fn is_email_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@')
}

// Substrings are taken with `get`, not `&text[a..b]`: every offset here comes from
// `char_indices` or an ASCII character, so it is on a character boundary, and range indexing on
// `str` would bring its panic path (with `char`'s Debug and the Unicode tables) into the wasm.

/// Longest quoted local part looked for (RFC 5321 allows 64 octets in a local part).
const MAX_QUOTED_LOCAL: usize = 64;

/// Pass 1: every maximal run of email characters is checked once; a quoted local part
/// (`"ana silva"@example.com`) is checked where its opening quote is.
fn mask_emails(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    // Byte offset up to which the text is consumed by a quoted address.
    let mut skip_to = 0;
    for (i, c) in text.char_indices() {
        if i < skip_to {
            continue;
        }
        if is_email_char(c) {
            run_start.get_or_insert(i);
            continue;
        }
        if let Some(s) = run_start.take() {
            push_email_run(&mut out, text.get(s..i).unwrap_or_default());
        }
        if c == '"' {
            if let Some(end) = quoted_email_end(text, i) {
                out.push_str(EMAIL);
                skip_to = end;
                continue;
            }
        }
        out.push(c);
    }
    if let Some(s) = run_start {
        push_email_run(&mut out, text.get(s..).unwrap_or_default());
    }
    out
}

/// Where a quoted-local-part address starting with the `"` at byte `open` ends (the byte
/// after its domain, sentence punctuation excluded), if there is one: `"..."` (with `\"`
/// escapes, no line break, at most [`MAX_QUOTED_LOCAL`] bytes), `@`, and a valid domain.
fn quoted_email_end(text: &str, open: usize) -> Option<usize> {
    let rest = text.get(open + 1..)?;
    let mut escaped = false;
    let mut close = None;
    for (k, c) in rest.char_indices() {
        if k > MAX_QUOTED_LOCAL || c == '\n' || c == '\r' {
            return None;
        }
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                close = Some(k);
                break;
            }
            _ => {}
        }
    }
    let close = close?;
    if close == 0 {
        return None;
    }
    let after = rest.get(close + 1..)?.strip_prefix('@')?;
    let run_len = after
        .char_indices()
        .find(|(_, c)| !is_email_char(*c) || *c == '@')
        .map_or(after.len(), |(k, _)| k);
    let domain = after.get(..run_len)?.trim_end_matches(['.', '-']);
    if !domain_ok(domain) {
        return None;
    }
    Some(open + 1 + close + 2 + domain.len())
}

fn domain_ok(domain: &str) -> bool {
    domain.contains('.')
        && domain.len() <= 255
        && !domain.starts_with(['.', '-'])
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.contains(['@', '%', '+', '_']))
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

fn push_email_run(out: &mut String, run: &str) {
    // Sentence punctuation after an address is not part of it.
    let trimmed = run.trim_end_matches(['.', '-']);
    let tail = run.get(trimmed.len()..).unwrap_or_default();
    if let Some(at) = trimmed.rfind('@') {
        let local = trimmed
            .get(..at)
            .unwrap_or_default()
            .trim_start_matches('.');
        let domain = trimmed.get(at + 1..).unwrap_or_default();
        if !local.is_empty() && domain_ok(domain) {
            // Whatever sits before the local part in the same run (a stray "." at the start)
            // is kept; everything from the local part on is the address.
            out.push_str(trimmed.get(..at - local.len()).unwrap_or_default());
            out.push_str(EMAIL);
            out.push_str(tail);
            return;
        }
    }
    out.push_str(run);
}

/// Longest IBAN (ISO 13616: 34 letters and digits) and shortest (Norway: 15).
const IBAN_MAX: usize = 34;
const IBAN_MIN: usize = 15;

/// Pass 2: IBANs. A candidate starts at two ASCII letters (not after a letter or digit)
/// followed by two ASCII digits, and takes letters and digits, single spaces between groups
/// allowed, up to 34; the longest prefix that ends a group and passes the mod-97 check is
/// masked whole. Bounded work per start, and scanning goes on after a masked IBAN.
fn mask_ibans(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied_to = 0;
    let mut i = 0;
    while i < chars.len() {
        let starts = !(i > 0 && is_word(chars[i - 1].1))
            && chars.get(i + 3).is_some()
            && chars[i].1.is_ascii_alphabetic()
            && chars[i + 1].1.is_ascii_alphabetic()
            && chars[i + 2].1.is_ascii_digit()
            && chars[i + 3].1.is_ascii_digit();
        if !starts {
            i += 1;
            continue;
        }
        // Collect up to IBAN_MAX alphanumerics; remember where each group ends.
        let mut alnum: Vec<u8> = Vec::with_capacity(IBAN_MAX);
        let mut ends: Vec<(usize, usize)> = Vec::new(); // (alnum count, char index after)
        let mut j = i;
        while j < chars.len() && alnum.len() < IBAN_MAX {
            let c = chars[j].1;
            if c.is_ascii_alphanumeric() {
                alnum.push(c.to_ascii_uppercase() as u8);
                j += 1;
                let next = chars.get(j).map(|(_, c)| *c);
                if !next.is_some_and(|n| n.is_ascii_alphanumeric()) {
                    ends.push((alnum.len(), j));
                }
            } else if is_space(c)
                && j > i
                && chars
                    .get(j + 1)
                    .is_some_and(|(_, n)| n.is_ascii_alphanumeric())
            {
                j += 1;
            } else {
                break;
            }
        }
        // Glued to a longer word: not an IBAN here.
        let found = ends.iter().rev().find(|(n, end)| {
            *n >= IBAN_MIN
                && !chars.get(*end).is_some_and(|(_, c)| is_word(*c))
                && iban_check(&alnum[..*n])
        });
        match found {
            Some(&(_, end)) => {
                out.push_str(text.get(copied_to..chars[i].0).unwrap_or_default());
                out.push_str(IBAN);
                copied_to = chars.get(end).map_or(text.len(), |(b, _)| *b);
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(text.get(copied_to..).unwrap_or_default());
    out
}

/// The ISO 13616 check: the first four characters moved to the end, letters read as 10..35,
/// the number mod 97 must be 1. The country code must be letters and the check digits digits.
fn iban_check(iban: &[u8]) -> bool {
    if iban.len() < 4
        || !iban[..2].iter().all(u8::is_ascii_uppercase)
        || !iban[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn is_separator(c: char) -> bool {
    is_space(c) || is_dash(c) || is_open(c) || is_close(c) || matches!(c, '.' | '\u{ff0e}')
}

/// Pass 2: numbers. A span starts at a digit, `+` or `(` that does not follow a letter or
/// digit, and takes digits and separators (at most two separators in a row). Its digit groups
/// are then cut into numbers: from each group, the longest run of groups (19 digits at most)
/// that is a card, an id or a phone is masked, so that "4111 1111 1111 1111 123456789012" is
/// a card and an id, not one long number left alone.
fn mask_numbers(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied_to = 0; // byte offset in `text` up to which `out` is written
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let prev = (i > 0).then(|| chars[i - 1].1);
        let after_word = prev.is_some_and(is_word);
        let next = chars.get(i + 1).map(|(_, c)| *c);
        // A run of digits starts a span wherever it starts, even right after a letter, where
        // only a card may be found at its start (`card4111111111111111`); a `+` or `(` starts
        // one only outside words.
        let glued_start = after_word && is_digit(c);
        let starts = (is_digit(c) && !prev.is_some_and(is_digit))
            || !after_word
                && ((is_plus(c) && next.is_some_and(|n| is_digit(n) || is_open(n)))
                    || (is_open(c) && next.is_some_and(is_digit)));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut seps_in_row = 0;
        while let Some(&(_, d)) = chars.get(j) {
            if is_digit(d) {
                seps_in_row = 0;
            } else if is_separator(d) && seps_in_row < 2 {
                seps_in_row += 1;
            } else {
                break;
            }
            j += 1;
        }
        mask_span(text, &chars, (i, j), glued_start, &mut out, &mut copied_to);
        // Never scan into a span again: each character is looked at a bounded number of times.
        i = j;
    }
    out.push_str(text.get(copied_to..).unwrap_or_default());
    out
}

/// Most digits a number can have (the longest card numbers).
const MAX_DIGITS: usize = 19;

/// Masks the numbers inside the span of `chars[from..to]`.
fn mask_span(
    text: &str,
    chars: &[(usize, char)],
    (from, to): (usize, usize),
    glued_start: bool,
    out: &mut String,
    copied_to: &mut usize,
) {
    let byte = |k: usize| chars.get(k).map_or(text.len(), |(b, _)| *b);
    // The digit groups: (first char index, end char index, digit count).
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut k = from;
    while k < to {
        if is_digit(chars[k].1) {
            let s = k;
            while k < to && is_digit(chars[k].1) {
                k += 1;
            }
            groups.push((s, k));
        } else {
            k += 1;
        }
    }
    // A span glued to a word at its end ("5551234x") or start ("x5551234") is a code: its
    // glued group is not a phone or an id, only a card number (which a person may well have
    // typed without a space after "card").
    let glued = groups
        .last()
        .and_then(|(_, end)| chars.get(*end))
        .is_some_and(|(_, c)| is_word(*c));
    let mut g = 0;
    while g < groups.len() {
        // Where a number starting at group g starts: the span's start for the first group (a
        // leading '+' or '('), else the group, with a '(' right before it.
        let start = if g == 0 {
            from
        } else if is_open(chars[groups[g].0 - 1].1) {
            groups[g].0 - 1
        } else {
            groups[g].0
        };
        let mut found = None;
        let mut digits = 0;
        let mut h = g;
        while h < groups.len() {
            digits += groups[h].1 - groups[h].0;
            if digits > MAX_DIGITS {
                break;
            }
            h += 1;
        }
        // Longest first: groups g..h, then g..h-1, down to g alone.
        while h > g {
            let card_only = (h == groups.len() && glued) || (g == 0 && glued_start);
            let candidate = text
                .get(byte(start)..byte(groups[h - 1].1))
                .unwrap_or_default();
            if let Some(p) = classify(candidate).filter(|p| !card_only || *p == CARD) {
                found = Some((p, h));
                break;
            }
            h -= 1;
        }
        match found {
            Some((placeholder, h)) => {
                out.push_str(text.get(*copied_to..byte(start)).unwrap_or_default());
                out.push_str(placeholder);
                *copied_to = byte(groups[h - 1].1);
                g = h;
            }
            None => g += 1,
        }
    }
}

/// Letters and digits of any script, and `_`: a number glued to one is part of a word.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// What a candidate number is, if anything worth masking.
fn classify(candidate: &str) -> Option<&'static str> {
    // One pass, no allocation: this runs for every run of groups of every span.
    let mut digits = [0u8; MAX_DIGITS];
    let mut n = 0;
    let mut phone_marks = false;
    let mut only_space_dash = true;
    // The digit count of the first four groups, and how many groups there are.
    let mut groups = [0usize; 4];
    let mut group_count = 0;
    let mut in_group = false;
    for c in candidate.chars() {
        match digit_value(c) {
            Some(d) => {
                if n < MAX_DIGITS {
                    digits[n] = d;
                }
                n += 1;
                if !in_group {
                    in_group = true;
                    group_count += 1;
                }
                if let Some(g) = groups.get_mut(group_count - 1) {
                    *g += 1;
                }
            }
            None => {
                phone_marks |= is_plus(c) || is_open(c) || is_close(c);
                only_space_dash &= is_space(c) || is_dash(c);
                if is_separator(c) {
                    in_group = false;
                }
            }
        }
    }
    let groups_are = |expected: &[usize]| {
        group_count == expected.len() && groups.get(..expected.len()) == Some(expected)
    };
    if !phone_marks && only_space_dash && (13..=MAX_DIGITS).contains(&n) && luhn(&digits[..n]) {
        return Some(CARD);
    }
    if !phone_marks && n == 12 && (groups_are(&[12]) || (only_space_dash && groups_are(&[4, 4, 4])))
    {
        return Some(NATIONAL_ID);
    }
    let date = !phone_marks && (groups_are(&[4, 2, 2]) || groups_are(&[2, 2, 4]));
    if (7..=15).contains(&n) && !date {
        return Some(PHONE);
    }
    None
}

/// The Luhn check of card numbers: from the right, every second digit doubled (minus 9 when
/// over 9); the sum must end in 0.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}
