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

/// Pass 1: every maximal run of email characters is checked once.
fn mask_emails(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_email_char(c) {
            run_start.get_or_insert(i);
        } else {
            if let Some(s) = run_start.take() {
                push_email_run(&mut out, &text[s..i]);
            }
            out.push(c);
        }
    }
    if let Some(s) = run_start {
        push_email_run(&mut out, &text[s..]);
    }
    out
}

fn push_email_run(out: &mut String, run: &str) {
    // Sentence punctuation after an address is not part of it.
    let trimmed = run.trim_end_matches(['.', '-']);
    let tail = &run[trimmed.len()..];
    if let Some(at) = trimmed.rfind('@') {
        let local = trimmed[..at].trim_start_matches('.');
        let domain = &trimmed[at + 1..];
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
            out.push_str(&trimmed[..at - local.len()]);
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

/// Pass 2: numbers. A candidate starts at a digit, `+` or `(` that does not follow a letter
/// or digit, and takes digits and separators (at most two separators in a row).
fn mask_numbers(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied_to = 0; // byte offset in `text` up to which `out` is written
    while i < chars.len() {
        let (start, c) = chars[i];
        let after_word = i > 0 && is_word(chars[i - 1].1);
        let next_is = |j: usize, f: fn(char) -> bool| chars.get(j).is_some_and(|(_, c)| f(*c));
        let starts = !after_word
            && (c.is_ascii_digit()
                || (c == '+'
                    && (next_is(i + 1, |c| c.is_ascii_digit()) || next_is(i + 1, |c| c == '(')))
                || (c == '(' && next_is(i + 1, |c| c.is_ascii_digit())));
        if !starts {
            i += 1;
            continue;
        }
        // Take the candidate: digits and separators, no more than two separators in a row.
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
        // Trailing separators are punctuation of the sentence, not part of the number.
        let mut end = j;
        while end > i + 1 && !chars[end - 1].1.is_ascii_digit() {
            end -= 1;
        }
        let end_byte = chars.get(end).map_or(text.len(), |(b, _)| *b);
        let glued = chars.get(end).is_some_and(|(_, c)| is_word(*c));
        let candidate = &text[start..end_byte];
        let placeholder = if glued { None } else { classify(candidate) };
        if let Some(p) = placeholder {
            out.push_str(&text[copied_to..start]);
            out.push_str(p);
            copied_to = end_byte;
        }
        // Either way, go on after the candidate: never scan into it again.
        i = j.max(i + 1);
    }
    out.push_str(&text[copied_to..]);
    out
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
