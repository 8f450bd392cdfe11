//! Masking of personal data in free text, so that what goes into an event or a log never
//! carries an email, a phone number, a card number or a national id (SPEC section 7).
//!
//! Two linear passes over the text, no regex engine (it would cost wasm size): the first
//! replaces emails, the second numbers. Each pass looks at every character a bounded number of
//! times: a candidate that turns out not to match is copied as a whole and scanning goes on
//! after it, never back into it. Only ASCII digits and ASCII email characters are matched, so
//! any other text, in any script, passes through unchanged.

/// What an email becomes.
pub const EMAIL: &str = "[email]";
/// What a phone number becomes.
pub const PHONE: &str = "[phone]";
/// What a card number becomes.
pub const CARD: &str = "[card]";
/// What a 12-digit national id becomes.
pub const NATIONAL_ID: &str = "[id]";

/// Replaces emails, phone numbers, card numbers and 12-digit national ids in `text` by
/// [`EMAIL`], [`PHONE`], [`CARD`] and [`NATIONAL_ID`].
///
/// - email: `local@domain.tld` (ASCII letters, digits and `._%+-`), a trailing sentence
///   `.` kept;
/// - card: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check;
/// - national id: 12 digits, together or in groups of four (`1234 5678 9012`);
/// - phone: 7 to 15 digits (the E.164 limit) grouped by spaces, dashes, dots or parentheses,
///   with an optional leading `+`; a date such as `2024-01-15` is not a phone.
///
/// Digits glued to letters (`order7654321x`, hex hashes) are left alone: they are codes, not
/// numbers a person typed. Digit runs of 16 to 19 digits that fail the Luhn check are left
/// alone too (order numbers, timestamps with milliseconds are 13 digits and become `[phone]`:
/// masking errs on the side of privacy).
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
    mask_numbers(&mask_emails(text))
}

fn is_email_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@')
}

// Substrings are taken with `get`, not `&text[a..b]`: every offset here comes from
// `char_indices` or an ASCII character, so it is on a character boundary, and range indexing on
// `str` would bring its panic path (with `char`'s Debug and the Unicode tables) into the wasm.

/// Pass 1: every maximal run of email characters is checked once.
fn mask_emails(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_email_char(c) {
            run_start.get_or_insert(i);
        } else {
            if let Some(s) = run_start.take() {
                push_email_run(&mut out, text.get(s..i).unwrap_or_default());
            }
            out.push(c);
        }
    }
    if let Some(s) = run_start {
        push_email_run(&mut out, text.get(s..).unwrap_or_default());
    }
    out
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
        let domain_ok = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.contains(['@', '%', '+', '_']))
            && domain
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
        if !local.is_empty() && domain_ok {
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

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')')
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
        let after_word = i > 0 && is_word(chars[i - 1].1);
        let next = chars.get(i + 1).map(|(_, c)| *c);
        let starts = !after_word
            && (c.is_ascii_digit()
                || (c == '+' && next.is_some_and(|n| n.is_ascii_digit() || n == '('))
                || (c == '(' && next.is_some_and(|n| n.is_ascii_digit())));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut seps_in_row = 0;
        while let Some(&(_, d)) = chars.get(j) {
            if d.is_ascii_digit() {
                seps_in_row = 0;
            } else if is_separator(d) && seps_in_row < 2 {
                seps_in_row += 1;
            } else {
                break;
            }
            j += 1;
        }
        mask_span(text, &chars, i, j, &mut out, &mut copied_to);
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
    from: usize,
    to: usize,
    out: &mut String,
    copied_to: &mut usize,
) {
    let byte = |k: usize| chars.get(k).map_or(text.len(), |(b, _)| *b);
    // The digit groups: (first char index, end char index, digit count).
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut k = from;
    while k < to {
        if chars[k].1.is_ascii_digit() {
            let s = k;
            while k < to && chars[k].1.is_ascii_digit() {
                k += 1;
            }
            groups.push((s, k));
        } else {
            k += 1;
        }
    }
    // A span glued to a word at its end ("5551234x") is a code: its last group is not a number.
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
        } else if chars[groups[g].0 - 1].1 == '(' {
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
            let last_in_span = h == groups.len();
            if !(last_in_span && glued) {
                if let Some(p) = classify(
                    text.get(byte(start)..byte(groups[h - 1].1))
                        .unwrap_or_default(),
                ) {
                    found = Some((p, h));
                    break;
                }
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
    let digits: Vec<u8> = candidate
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let n = digits.len();
    let phone_marks = candidate.contains(['+', '(', ')']);
    let groups: Vec<usize> = candidate
        .split(is_separator)
        .filter(|g| !g.is_empty())
        .map(|g| g.trim_start_matches('+').len())
        .collect();
    let only_space_dash = candidate
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if !phone_marks && only_space_dash && (13..=19).contains(&n) && luhn(&digits) {
        return Some(CARD);
    }
    if !phone_marks && n == 12 && (groups == [12] || (only_space_dash && groups == [4, 4, 4])) {
        return Some(NATIONAL_ID);
    }
    let date = !phone_marks && (groups == [4, 2, 2] || groups == [2, 2, 4]);
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
