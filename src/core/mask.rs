//! Masking of personal data in free text, so that what goes into an event or a log never
//! carries an email, a phone number, a card number or a national id (SPEC section 7).
//!
//! Three linear passes over the text, no regex engine (it would cost wasm size): the first
//! replaces emails, the second IBANs, the third numbers. Each pass looks at every character a
//! bounded number of times: a candidate that turns out not to match is copied as a whole and
//! scanning goes on after it, never back into it. Digits are the decimal digits of every
//! common script (ASCII, full-width, Arabic-Indic, Devanagari, ...), and numbers may be grouped
//! by any Unicode space (no-break and thin spaces included), hyphen, `/`, `_` or `,`, because
//! that is how people (and phones' keyboards) type them. Invisible characters (zero-width
//! spaces and joiners, the soft hyphen, the word joiner, byte-order and direction marks) are
//! looked through: they hide nothing. Any other text passes through unchanged.
//!
//! Where text must be short, mask it first and cut it after ([`mask_cut`]): an address cut
//! first (`ana.silva@example.c`) is no longer an address, and leaks.

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
/// - email: `local@domain.tld` (letters and digits of any script and `._%+-`, or a quoted
///   local part such as `"ana silva"@example.com`; internationalised domains such as
///   `josé@exämple.com`, `ana@пример.рф` or `ana@xn--e1afmkfd.xn--p1ai`; `%40` for the `@`, as a
///   URL path or query writes it), a trailing sentence `.` kept;
/// - IBAN: two letters, two check digits and up to 30 letters or digits, together or in
///   groups (spaces or hyphens), that pass the ISO 13616 mod-97 check (masked whole, never
///   half), also glued to a word before (`IBANDE89...`) or after (`...3000EUR`);
/// - card: 13 to 19 digits, grouped by any separator or none, that pass the Luhn check, even
///   glued to letters (`card4111111111111111`);
/// - national id: 12 digits, together or in groups of four (`1234 5678 9012`);
/// - phone: 7 to 15 digits (the E.164 limit) grouped by spaces, dashes, dots, slashes, commas
///   or parentheses, with an optional leading `+` (or `%2B`), also followed by an extension
///   (`555-123-4567ext89`, `x89`), or by any word when it starts with `+`; a date such as `2024-01-15` or `1/15/2024` is not a phone,
///   nor is a number with thousands separators (`1,234,567`).
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

/// Every placeholder [`mask`] writes.
const PLACEHOLDERS: [&str; 5] = [EMAIL, PHONE, CARD, NATIONAL_ID, IBAN];

/// [`mask`], then at most `max_chars` characters of the result, with `…` after a cut. Masking
/// comes first: cut first, an address or number split at the cut (`ana.silva@example.c`) is
/// no longer recognised and shows. A cut never splits a placeholder.
///
/// ```
/// use sendonce::core::mask::mask_cut;
/// let text = format!("{} ana.silva@example.com", "x".repeat(100));
/// assert_eq!(mask_cut(&text, 110), format!("{} [email]", "x".repeat(100)));
/// assert_eq!(mask_cut(&text, 104), format!("{} …", "x".repeat(100)));
/// assert_eq!(mask_cut("short", 120), "short");
/// ```
pub fn mask_cut(text: &str, max_chars: usize) -> String {
    let masked = mask(text);
    let Some((cut, _)) = masked.char_indices().nth(max_chars) else {
        return masked;
    };
    let mut head = masked.get(..cut).unwrap_or_default();
    // Not half a placeholder ("[ema…"): a placeholder that the cut would split goes whole.
    if let Some(open) = head.rfind('[') {
        let rest = masked.get(open..).unwrap_or_default();
        if PLACEHOLDERS
            .iter()
            .any(|p| rest.starts_with(p) && open + p.len() > cut)
        {
            head = masked.get(..open).unwrap_or_default();
        }
    }
    let mut out = String::with_capacity(head.len() + 3);
    out.push_str(head);
    out.push('…');
    out
}

/// An idempotency key as an event or a log line may show it: a UUID (what sendonce makes) as
/// it is, since it is random, not personal, and it is what a reader matches events by; any
/// other key (a caller's own, which may hold an email or a phone number) [`mask`]ed.
///
/// ```
/// use sendonce::core::mask::mask_key;
/// let uuid = "12345678-1234-4123-8123-123456789012";
/// assert_eq!(mask_key(uuid), uuid);
/// assert_eq!(mask_key("order:ana@example.com"), "order:[email]");
/// ```
pub fn mask_key(key: &str) -> String {
    let b = key.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if uuid {
        key.to_string()
    } else {
        mask(key)
    }
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

/// Characters that show nothing (soft hyphen, combining grapheme joiner, Mongolian vowel
/// separator, zero-width space / non-joiner / joiner, direction marks and embeddings, word
/// joiner, invisible operators, isolates, byte-order mark), which a copy and paste or a
/// person's keyboard slips into a number or an address: looked through, never a boundary.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// `@` and its full-width and small forms.
fn is_at(c: char) -> bool {
    matches!(c, '@' | '\u{ff20}' | '\u{fe6b}')
}

/// The dots between domain labels: `.` and the ideographic, full-width and half-width full
/// stops that IDNA reads as one.
fn is_dot(c: char) -> bool {
    matches!(c, '.' | '\u{3002}' | '\u{ff0e}' | '\u{ff61}')
}

/// A character of an address: ASCII letters and digits, `_%+-`, dots and at-signs, letters and
/// digits of any script (internationalised addresses), and invisible characters.
fn is_email_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '%' | '+' | '-')
        || is_dot(c)
        || is_at(c)
        || is_invisible(c)
        // `is_alphanumeric`'s tables are in the wasm already (`is_word`).
        || (!c.is_ascii() && c.is_alphanumeric())
}

/// True when `s` has a character that shows.
fn has_visible(s: &str) -> bool {
    s.chars().any(|c| !is_invisible(c))
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
        .find(|(_, c)| !is_email_char(*c) || is_at(*c))
        .map_or(after.len(), |(k, _)| k);
    let domain = after
        .get(..run_len)?
        .trim_end_matches(|c| is_dot(c) || c == '-' || is_invisible(c));
    if !domain_ok(domain) {
        return None;
    }
    Some(open + 1 + close + 2 + domain.len())
}

fn domain_ok(domain: &str) -> bool {
    domain.contains(is_dot)
        && domain.len() <= 1024
        && !domain.starts_with(|c| is_dot(c) || c == '-')
        && domain.split(is_dot).all(|label| {
            has_visible(label) && !label.contains(|c| is_at(c) || matches!(c, '%' | '+' | '_'))
        })
        && domain.rsplit(is_dot).next().is_some_and(tld_ok)
}

/// A top-level domain: two or more letters of any script (`com`, `рф`, `中国`), or an
/// ASCII-compatible IDN label (`xn--p1ai`).
fn tld_ok(tld: &str) -> bool {
    let mut letters = 0;
    let all_letters = tld.chars().filter(|c| !is_invisible(*c)).all(|c| {
        letters += 1;
        c.is_alphabetic()
    });
    let ace = tld.len() > 4
        && tld.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
        && tld.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (all_letters && letters >= 2) || ace
}

/// The byte range of the last at-sign of an email run: `@` (or a full-width one), or `%40`,
/// how a URL path or query writes it.
fn last_at(run: &str) -> Option<(usize, usize)> {
    let sign = run
        .char_indices()
        .rev()
        .find(|(_, c)| is_at(*c))
        .map(|(i, c)| (i, i + c.len_utf8()));
    // Bytes, not `str::rfind`: its searcher brings str slicing's panic path (and char Debug's
    // Unicode tables) into the wasm.
    let encoded = run
        .as_bytes()
        .windows(3)
        .rposition(|w| w == b"%40")
        .map(|i| (i, i + 3));
    match (sign, encoded) {
        (Some(a), Some(b)) => Some(if a.0 > b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn push_email_run(out: &mut String, run: &str) {
    // Sentence punctuation after an address is not part of it.
    let trimmed = run.trim_end_matches(|c| is_dot(c) || c == '-' || is_invisible(c));
    let tail = run.get(trimmed.len()..).unwrap_or_default();
    if let Some((at, after)) = last_at(trimmed) {
        let local = trimmed
            .get(..at)
            .unwrap_or_default()
            .trim_start_matches(is_dot);
        let domain = trimmed.get(after..).unwrap_or_default();
        if has_visible(local) && domain_ok(domain) {
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

/// Pass 2: IBANs. A candidate starts at two ASCII letters followed by two ASCII digits, not
/// after a letter or digit unless the two letters are capitals (`IBANDE89...`), and takes
/// letters and digits, a single space or hyphen between groups allowed and invisible
/// characters looked through, up to 34; the longest prefix that ends a group (or where its
/// digits run into letters: `...3000EUR`) and passes the mod-97 check is masked whole. Bounded
/// work per start, and scanning goes on after a masked IBAN.
fn mask_ibans(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied_to = 0;
    let mut i = 0;
    while i < chars.len() {
        let shape = chars.get(i + 3).is_some()
            && chars[i].1.is_ascii_alphabetic()
            && chars[i + 1].1.is_ascii_alphabetic()
            && chars[i + 2].1.is_ascii_digit()
            && chars[i + 3].1.is_ascii_digit();
        let glued = i > 0 && is_word(chars[i - 1].1);
        let starts = shape
            && (!glued || (chars[i].1.is_ascii_uppercase() && chars[i + 1].1.is_ascii_uppercase()));
        if !starts {
            i += 1;
            continue;
        }
        // Collect up to IBAN_MAX alphanumerics; remember where each group ends.
        let mut alnum: Vec<u8> = Vec::with_capacity(IBAN_MAX);
        let mut ends: Vec<(usize, usize)> = Vec::new(); // (alnum count, char index after)
        let mut j = i;
        // Characters looked at, invisible ones included: bounded work per start.
        let mut looked = 0;
        while j < chars.len() && alnum.len() < IBAN_MAX && looked < 4 * IBAN_MAX {
            looked += 1;
            let c = chars[j].1;
            if c.is_ascii_alphanumeric() {
                alnum.push(c.to_ascii_uppercase() as u8);
                j += 1;
                let next = chars.get(j).map(|(_, c)| *c);
                let group_ends = !next.is_some_and(|n| n.is_ascii_alphanumeric());
                let runs_into_letters =
                    c.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_alphabetic());
                if group_ends || runs_into_letters {
                    ends.push((alnum.len(), j));
                }
            } else if j > i
                && (is_invisible(c)
                    || ((is_space(c) || is_dash(c))
                        && chars
                            .get(j + 1)
                            .is_some_and(|(_, n)| n.is_ascii_alphanumeric())))
            {
                // Looked through (invisible), or one space or hyphen between groups.
                j += 1;
            } else {
                break;
            }
        }
        let found = ends
            .iter()
            .rev()
            .find(|(n, _)| *n >= IBAN_MIN && iban_check(&alnum[..*n]));
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
    is_space(c)
        || is_dash(c)
        || is_open(c)
        || is_close(c)
        || matches!(c, '.' | '\u{ff0e}' | '/' | '\u{ff0f}' | '\u{2215}')
}

/// `,` and `_` group digits only when a digit follows (`555,123,4567`, `4111_1111`, a dial
/// pause `,,`): after a comma and a space comes a list, after `_` a word.
fn is_tight_separator(c: char) -> bool {
    matches!(c, ',' | '\u{ff0c}' | '_')
}

/// True when the separator at `chars[j]` groups digits: any [`is_separator`], or a tight one
/// with a digit after it (a second tight one and invisible characters between allowed).
fn joins_digits(chars: &[(usize, char)], j: usize) -> bool {
    let Some(&(_, c)) = chars.get(j) else {
        return false;
    };
    if is_separator(c) {
        return true;
    }
    if !is_tight_separator(c) {
        return false;
    }
    // Bounded look-ahead, so that scanning stays linear.
    chars
        .iter()
        .skip(j + 1)
        .take(8)
        .find(|(_, n)| !is_invisible(*n) && !is_tight_separator(*n))
        .is_some_and(|(_, n)| is_digit(*n))
}

/// True when the three characters before `chars[i]` are `%2B`: a `+` as a URL writes it.
fn after_encoded_plus(chars: &[(usize, char)], i: usize) -> bool {
    i >= 3
        && chars[i - 3].1 == '%'
        && chars[i - 2].1 == '2'
        && chars[i - 1].1.eq_ignore_ascii_case(&'b')
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
        let glued_start = after_word && is_digit(c) && !after_encoded_plus(&chars, i);
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
            } else if is_invisible(d) {
                // Looked through: neither a digit nor a separator.
            } else if seps_in_row < 2 && joins_digits(&chars, j) {
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
    // The digit groups: (first char index, end char index, digit count). Invisible
    // characters between digits do not split a group.
    let mut groups: Vec<(usize, usize, usize)> = Vec::new();
    let mut k = from;
    while k < to {
        if is_digit(chars[k].1) {
            let (s, mut end, mut n) = (k, k, 0);
            while k < to && (is_digit(chars[k].1) || is_invisible(chars[k].1)) {
                if is_digit(chars[k].1) {
                    n += 1;
                    end = k + 1;
                }
                k += 1;
            }
            groups.push((s, end, n));
            k = end;
        } else {
            k += 1;
        }
    }
    // A span glued to a word at its end ("5551234x") or start ("x5551234") is a code: its
    // glued group is not a phone or an id, only a card number (which a person may well have
    // typed without a space after "card"). An extension mark is not such a word.
    let glued = groups
        .last()
        .is_some_and(|&(_, end, _)| glued_to_word(chars, end));
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
            digits += groups[h].2;
            if digits > MAX_DIGITS {
                break;
            }
            h += 1;
        }
        // A number written with a leading `+` is a phone number, not a code, even when a word
        // follows it.
        let plus = start < to && is_plus(chars[start].1);
        // Longest first: groups g..h, then g..h-1, down to g alone.
        while h > g {
            let card_only = (h == groups.len() && glued && !plus) || (g == 0 && glued_start);
            let candidate = text
                .get(byte(start)..byte(groups[h - 1].1))
                .unwrap_or_default();
            if let Some(p) = classify(candidate, card_only) {
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

/// True when a number ending before `chars[end]` runs on into a word (`5551234x`, a code),
/// and not into an extension mark: `ext`, `extn`, `extension` (any case), or `x` before a
/// digit (`555-123-4567ext89`, `x89`).
fn glued_to_word(chars: &[(usize, char)], end: usize) -> bool {
    if !chars.get(end).is_some_and(|(_, c)| is_word(*c)) {
        return false;
    }
    let mut word = [0u8; 10];
    let mut len = 0;
    for (_, c) in chars.iter().skip(end) {
        if !c.is_ascii_alphabetic() || len == word.len() {
            break;
        }
        word[len] = c.to_ascii_lowercase() as u8;
        len += 1;
    }
    let after = chars.get(end + len).map(|(_, c)| *c);
    let extension = match &word[..len] {
        b"ext" | b"extn" | b"extension" => {
            !after.is_some_and(is_word) || after.is_some_and(is_digit)
        }
        b"x" => after.is_some_and(is_digit),
        _ => false,
    };
    !extension
}

/// What a candidate number is, if anything worth masking; with `only_card` (a number glued to
/// a word), a card or nothing.
fn classify(candidate: &str, only_card: bool) -> Option<&'static str> {
    // One pass, no allocation: this runs for every run of groups of every span.
    let mut digits = [0u8; MAX_DIGITS];
    let mut n = 0;
    // `+` or parentheses anywhere; after the first digit (a card may follow a `(`); a `+`.
    let mut phone_marks = false;
    let mut marks_inside = false;
    let mut plus = false;
    // Separators all spaces, dashes, slashes or underscores; all commas.
    let mut plain_seps = true;
    let mut only_commas = true;
    // The digit count of the first four groups, how many groups there are, and whether every
    // group after the first has three digits (thousands: `1,234,567`).
    let mut groups = [0usize; 4];
    let mut group_count = 0;
    let mut current = 0;
    let mut later_threes = true;
    let mut in_group = false;
    for c in candidate.chars() {
        if is_invisible(c) {
            continue;
        }
        match digit_value(c) {
            Some(d) => {
                if n < MAX_DIGITS {
                    digits[n] = d;
                }
                n += 1;
                if !in_group {
                    in_group = true;
                    group_count += 1;
                    current = 0;
                }
                current += 1;
                if let Some(g) = groups.get_mut(group_count - 1) {
                    *g += 1;
                }
            }
            None => {
                let mark = is_plus(c) || is_open(c) || is_close(c);
                phone_marks |= mark;
                marks_inside |= mark && n > 0;
                plus |= is_plus(c);
                plain_seps &= is_space(c) || is_dash(c) || matches!(c, '/' | '_');
                only_commas &= matches!(c, ',' | '\u{ff0c}');
                if in_group && group_count > 1 {
                    later_threes &= current == 3;
                }
                in_group = false;
            }
        }
    }
    if in_group && group_count > 1 {
        later_threes &= current == 3;
    }
    let groups_are = |expected: &[usize]| {
        group_count == expected.len() && groups.get(..expected.len()) == Some(expected)
    };
    // A leading `+` makes 13 to 15 digits a phone (unless only a card can be there); more
    // cannot be one, so a card it is.
    let card_size = if plus && !only_card {
        16..=MAX_DIGITS
    } else {
        13..=MAX_DIGITS
    };
    if !marks_inside && card_size.contains(&n) && luhn(&digits[..n]) {
        return Some(CARD);
    }
    if only_card {
        return None;
    }
    if !phone_marks && n == 12 && (groups_are(&[12]) || (plain_seps && groups_are(&[4, 4, 4]))) {
        return Some(NATIONAL_ID);
    }
    let short = |g: usize| (1..=2).contains(&g);
    let date = !phone_marks
        && group_count == 3
        && ((short(groups[0]) && short(groups[1]) && groups[2] == 4)
            || (groups[0] == 4 && short(groups[1]) && short(groups[2])));
    let thousands = !phone_marks
        && only_commas
        && group_count > 1
        && (1..=3).contains(&groups[0])
        && later_threes;
    if (7..=15).contains(&n) && !date && !thousands {
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
