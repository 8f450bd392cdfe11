//! Writes a finite `f64` in the same digits as Rust's `Display` (`format!("{n}")`): the
//! shortest decimal that reads back as the same double (ties broken the same way), written
//! without an exponent.
//!
//! Why not `Display` itself: on wasm it pulls in the standard library's float formatting
//! (Grisu with the Dragon fallback and their tables, about 18 KB). This is the Dragon
//! "shortest" mode alone (Steele & White, as in `core::num::flt2dec::strategy::dragon`) over a
//! small fixed-size bignum: slower than Grisu, but numbers with a fraction are rare in
//! payloads, and integers take the integer path. The canonical spelling is pinned by tests
//! that compare it with `format!("{n}")` on random doubles.

use std::cmp::Ordering;

/// 40 x 32 bits: the largest operand is about 2^1077 * 10 (the scale of the smallest
/// subnormal) or 2^1024 * 10 (the largest double), well under 1280 bits.
const LIMBS: usize = 40;

/// A fixed-size bignum that works only on its used limbs: the numbers of everyday payloads
/// (prices, quantities) need two or three of the forty.
#[derive(Clone, Copy)]
struct Big {
    limbs: [u32; LIMBS],
    /// Limbs in use: `limbs[len..]` are zero and, when `len > 0`, `limbs[len - 1]` is not.
    len: usize,
}

impl Big {
    fn from_u64(n: u64) -> Big {
        let mut limbs = [0u32; LIMBS];
        limbs[0] = n as u32;
        limbs[1] = (n >> 32) as u32;
        let len = if n >> 32 != 0 { 2 } else { usize::from(n != 0) };
        Big { limbs, len }
    }

    /// Appends a carry as a new top limb (the operands never outgrow `LIMBS`).
    fn push(&mut self, carry: u32) {
        if carry != 0 {
            if let Some(slot) = self.limbs.get_mut(self.len) {
                *slot = carry;
                self.len += 1;
            }
        }
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in self.limbs.iter_mut().take(self.len) {
            let v = *limb as u64 * m as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        self.push(carry as u32);
    }

    fn mul_pow2(&mut self, bits: usize) {
        for _ in 0..bits / 31 {
            self.mul_small(1 << 31);
        }
        self.mul_small(1 << (bits % 31));
    }

    fn mul_pow10(&mut self, n: usize) {
        for _ in 0..n / 9 {
            self.mul_small(1_000_000_000);
        }
        for _ in 0..n % 9 {
            self.mul_small(10);
        }
    }

    fn add(mut self, other: &Big) -> Big {
        let n = self.len.max(other.len);
        let mut carry = 0u64;
        for (a, b) in self.limbs.iter_mut().zip(other.limbs.iter()).take(n) {
            let v = *a as u64 + *b as u64 + carry;
            *a = v as u32;
            carry = v >> 32;
        }
        self.len = n;
        self.push(carry as u32);
        self
    }

    /// `self -= other`, for `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (a, b) in self.limbs.iter_mut().zip(other.limbs.iter()).take(self.len) {
            let v = *a as i64 - *b as i64 - borrow;
            *a = v as u32;
            borrow = (v < 0) as i64;
        }
        while self.len > 0 && self.limbs.get(self.len - 1) == Some(&0) {
            self.len -= 1;
        }
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.len.cmp(&other.len).then_with(|| {
            let a = self.limbs.iter().take(self.len).rev();
            a.cmp(other.limbs.iter().take(other.len).rev())
        })
    }
}

/// The shortest digits of a finite, positive `v` and the exponent `k` such that
/// `v = 0.d1d2d3... * 10^k`. Returns the digit count; digits go into `buf`.
fn shortest(v: f64, buf: &mut [u8; 17]) -> (usize, i32) {
    // Decode as core::num::flt2dec::decoder does: v = mant * 2^exp, its neighbours are
    // (mant - minus) * 2^exp and (mant + plus) * 2^exp, and the halfway points are included
    // when the binary mantissa is even (round-half-even reading them back).
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mant, minus, plus, exp, even) = if biased == 0 {
        // flt2dec tests evenness on the shifted mantissa, so subnormals always count as even.
        (frac << 1, 1u64, 1u64, -1075, true)
    } else {
        let m = frac | (1u64 << 52);
        let e = biased - 1075;
        if frac == 0 {
            (m << 2, 1, 2, e - 2, true)
        } else {
            (m << 1, 1, 1, e - 1, m & 1 == 0)
        }
    };
    // `a.cmp(b) < rounding` means `a <= b` when the bounds are inclusive, else `a < b`.
    let rounding = if even {
        Ordering::Greater
    } else {
        Ordering::Equal
    };

    // k such that 10^(k-1) < high <= 10^(k+1) (flt2dec's estimate_scaling_factor).
    let nbits = 64 - (mant + plus - 1).leading_zeros() as i64;
    let mut k = (((nbits + exp as i64) * 1_292_913_986) >> 32) as i32;

    let mut mant_b = Big::from_u64(mant);
    let mut minus_b = Big::from_u64(minus);
    let mut plus_b = Big::from_u64(plus);
    let mut scale = Big::from_u64(1);
    if exp < 0 {
        scale.mul_pow2((-exp) as usize);
    } else {
        mant_b.mul_pow2(exp as usize);
        minus_b.mul_pow2(exp as usize);
        plus_b.mul_pow2(exp as usize);
    }
    if k >= 0 {
        scale.mul_pow10(k as usize);
    } else {
        mant_b.mul_pow10((-k) as usize);
        minus_b.mul_pow10((-k) as usize);
        plus_b.mul_pow10((-k) as usize);
    }
    if scale.cmp(&mant_b.add(&plus_b)) < rounding {
        k += 1;
    } else {
        mant_b.mul_small(10);
        minus_b.mul_small(10);
        plus_b.mul_small(10);
    }

    let mut n = 0;
    let (mut down, mut up);
    loop {
        let mut d = 0u8;
        while mant_b.cmp(&scale) != Ordering::Less {
            mant_b.sub_assign(&scale);
            d += 1;
        }
        // A double never needs more than 17 digits, so the loop stops before the buffer ends.
        if let Some(slot) = buf.get_mut(n) {
            *slot = b'0' + d;
        }
        n += 1;
        down = mant_b.cmp(&minus_b) < rounding;
        up = scale.cmp(&mant_b.add(&plus_b)) < rounding;
        if down || up || n >= buf.len() {
            break;
        }
        mant_b.mul_small(10);
        minus_b.mul_small(10);
        plus_b.mul_small(10);
    }

    // Round up when only the upper neighbour is reached, or when both are and the rest is at
    // least one half (ties go up, as in flt2dec).
    let mut twice = mant_b;
    twice.mul_small(2);
    if up && (!down || twice.cmp(&scale) != Ordering::Less) {
        let mut i = n;
        loop {
            if i == 0 {
                // All nines: 99..9 + 1 = 100..0, one more power of ten.
                buf[0] = b'1';
                for slot in buf.iter_mut().take(n).skip(1) {
                    *slot = b'0';
                }
                k += 1;
                break;
            }
            i -= 1;
            if buf[i] == b'9' {
                buf[i] = b'0';
            } else {
                buf[i] += 1;
                break;
            }
        }
    }
    (n, k)
}

/// Appends a finite, non-zero `n` as `format!("{n}")` would.
pub fn write_f64(out: &mut String, n: f64) {
    if n < 0.0 {
        out.push('-');
    }
    let v = n.abs();
    if v < 9_007_199_254_740_992.0 && v.fract() == 0.0 {
        // Integers up to 2^53: the integer path, same digits, no bignum.
        push_u64(out, v as u64);
        return;
    }
    if let Some((m, d)) = short_decimal(v) {
        push_fixed(out, m, d);
        return;
    }
    write_shortest(out, v);
}

/// The slow path of [`write_f64`] for a finite, positive `v`: Dragon's shortest digits.
fn write_shortest(out: &mut String, v: f64) {
    let mut buf = [0u8; 17];
    let (len, k) = shortest(v, &mut buf);
    let digits = buf.get(..len).unwrap_or(&[]);
    if k <= 0 {
        out.push_str("0.");
        push_zeros(out, (-k) as usize);
        push_digits(out, digits);
    } else if (k as usize) < len {
        let (int, frac) = digits.split_at(k as usize);
        push_digits(out, int);
        out.push('.');
        push_digits(out, frac);
    } else {
        push_digits(out, digits);
        push_zeros(out, k as usize - len);
    }
}

/// The largest digit count the fast path of [`write_f64`] answers for.
const SHORT_DIGITS: u64 = 1_000_000_000_000_000; // 10^15

/// `v` (finite, positive, not an integer) as `m / 10^d` with `m` below 10^15 and `d` from 1 to
/// 22, the fewest fraction digits that read back as `v`; `None` when there are none such.
///
/// Why this spells exactly what [`shortest`] spells: with fewer than 16 significant digits the
/// decimals `k / 10^d` are more than `v * 10^-15` apart, while the decimals that read back as
/// `v` lie within one ulp, at most `v * 2^-52`, so at most one of them is at each `d`. The
/// first `d` that has one gives the fewest digits, and being the only one it is also the
/// closest. `v * 10^d` is below 10^15, so its rounding error plus `v`'s half ulp scaled by
/// `10^d` stay under 0.2 and rounding it finds that decimal when there is one. The check is
/// exact: `m < 2^53` and `10^d` (d <= 22) are exact doubles, so `m / 10^d` is one correctly
/// rounded division (Clinger's fast path, as in [`fast_f64`]), the double `m / 10^d` reads as.
/// Prices such as 9.5 or 19.99 answer at the first or second `d`, without a bignum.
fn short_decimal(v: f64) -> Option<(u64, u32)> {
    let mut p10 = 1.0f64;
    for d in 1..=22 {
        p10 *= 10.0;
        let scaled = v * p10;
        if scaled >= SHORT_DIGITS as f64 {
            return None;
        }
        // `scaled` is not negative, so adding a half and truncating rounds it.
        let m = (scaled + 0.5) as u64;
        if m != 0 && m as f64 / p10 == v {
            return Some((m, d));
        }
    }
    None
}

/// Appends `m / 10^d` (`d >= 1`, `m` not a multiple of 10) in the digits `Display` writes:
/// `0.` and leading zeros below one.
fn push_fixed(out: &mut String, m: u64, d: u32) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = m;
    while n != 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let digits = buf.get(i..).unwrap_or(&[]);
    let d = d as usize;
    if digits.len() > d {
        let (int, frac) = digits.split_at(digits.len() - d);
        push_digits(out, int);
        out.push('.');
        push_digits(out, frac);
    } else {
        out.push_str("0.");
        push_zeros(out, d - digits.len());
        push_digits(out, digits);
    }
}

fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push_digits(out, buf.get(i..).unwrap_or(&[]));
}

/// Appends ASCII digits in one copy (`String::push` per digit was a call each).
fn push_digits(out: &mut String, digits: &[u8]) {
    out.push_str(std::str::from_utf8(digits).unwrap_or(""));
}

fn push_zeros(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('0', n));
}

/// True when the text of a JSON number (already checked against JSON's grammar) is already
/// its canonical spelling, the one [`write_f64`] gives the double it reads as: no exponent, at
/// most 15 digits from the first non-zero one to the end (trailing zeros of an integer
/// included), no trailing zero after a `.`, not `-0`, and between 1e-21 and 1e15. The
/// canonical form then copies the text instead of reading and writing the number.
///
/// Why the spelling is the same: a decimal of at most 15 significant digits in the normal
/// range reads back as itself when the double is rounded to 15 digits (IEEE's 15-digit
/// guarantee), so no other decimal of 15 digits or fewer reads as the same double; the
/// shortest digits `write_f64` finds are therefore the text's own, and `write_f64` writes
/// them without an exponent, as the text does. Pinned by tests against the read-and-write
/// path on random numbers (`tests/core_json.rs`, through `json::canonical_text`).
pub(crate) fn is_canonical(text: &str) -> bool {
    let bytes = text.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let digits = bytes.get(usize::from(negative)..).unwrap_or(&[]);
    // One pass: digits before the point, after it, the zeros that lead those after it.
    let (mut int, mut frac, mut zeros, mut dot, mut last) = (0usize, 0usize, 0usize, false, 0u8);
    for &b in digits {
        match b {
            b'0'..=b'9' if dot => {
                if frac == zeros && b == b'0' {
                    zeros += 1;
                }
                frac += 1;
            }
            b'0'..=b'9' => int += 1,
            b'.' if !dot => dot = true,
            _ => return false,
        }
        last = b;
    }
    if int == 0 || int > 15 || (dot && (frac == 0 || last == b'0')) {
        return false;
    }
    if digits.first() == Some(&b'0') {
        return match (int, dot) {
            // `0` is canonical, `-0` is written `0`.
            (1, false) => !negative,
            // Below one: at most 15 digits from the first non-zero one, at most 20 zeros
            // before it.
            (1, true) => zeros <= 20 && frac - zeros <= 15,
            _ => false,
        };
    }
    int + frac <= 15
}

/// Reads the text of a JSON number (already checked against JSON's grammar by the parser) as
/// the nearest double, as `Number(text)` and Rust's `str::parse::<f64>` both do.
///
/// Most numbers in payloads and records (counts, ids, prices, timestamps) take the exact fast
/// path below: at most 15 significant digits and a small power of ten, where one IEEE division
/// or multiplication of two exact doubles is correctly rounded (Clinger's fast path). The rest
/// go to the platform's correctly rounded parser: Rust's natively, JavaScript's `parseFloat`
/// on wasm, which keeps Rust's float parser and its power-of-five table (about 14 KB of gzip)
/// out of the package.
pub fn parse_f64(text: &str) -> Option<f64> {
    if let Some(n) = fast_f64(text) {
        return Some(n);
    }
    slow_f64(text)
}

#[cfg(not(target_arch = "wasm32"))]
fn slow_f64(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

#[cfg(target_arch = "wasm32")]
fn slow_f64(text: &str) -> Option<f64> {
    // The text is JSON's number grammar, so `parseFloat` reads all of it (no trailing part to
    // skip) and gives the same double as `Number(text)`; a NaN never comes out of it.
    let n = js_sys::parse_float(text);
    (!n.is_nan()).then_some(n)
}

/// Clinger's fast path: `digits * 10^exp` with `digits < 2^53` and `|exp| <= 22` is one
/// correctly rounded operation on two exact doubles. `None` for anything else.
fn fast_f64(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (neg, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mant: u64 = 0;
    let mut sig = 0usize;
    let mut exp: i64 = 0;
    let mut i = 0;
    let mut seen_dot = false;
    while let Some(&b) = rest.get(i) {
        match b {
            b'0'..=b'9' => {
                if mant != 0 || b != b'0' {
                    sig += 1;
                    if sig > 15 {
                        return None;
                    }
                }
                mant = mant * 10 + (b - b'0') as u64;
                if seen_dot {
                    exp -= 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        i += 1;
    }
    if let Some(b'e' | b'E') = rest.get(i) {
        let e = rest.get(i + 1..)?;
        let (eneg, edigits) = match e.split_first() {
            Some((b'-', d)) => (true, d),
            Some((b'+', d)) => (false, d),
            _ => (false, e),
        };
        if edigits.is_empty() || edigits.len() > 4 {
            return None;
        }
        let mut v: i64 = 0;
        for &d in edigits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (d - b'0') as i64;
        }
        exp += if eneg { -v } else { v };
    }
    let m = mant as f64;
    let n = if mant == 0 {
        0.0
    } else if exp == 0 {
        m
    } else if (1..=22).contains(&exp) {
        m * pow10(exp as u32)
    } else if (-22..0).contains(&exp) {
        m / pow10((-exp) as u32)
    } else {
        return None;
    };
    Some(if neg { -n } else { n })
}

/// 10^n for n <= 22, exact (every step is an exact product below 2^53 * 2^22).
fn pow10(n: u32) -> f64 {
    let mut p = 1.0f64;
    for _ in 0..n {
        p *= 10.0;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::{fast_f64, parse_f64, short_decimal, write_f64, write_shortest};

    /// The next value of a xorshift64 sequence: reproducible random inputs for the vectors.
    fn xorshift(mut x: u64) -> u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }

    #[test]
    fn fast_path_reads_what_rust_reads() {
        let fixed = [
            "0",
            "-0",
            "1",
            "-1",
            "0.1",
            "0.3",
            "4.35",
            "19.99",
            "-2.25",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "0.000001",
            "1E5",
            "1e+5",
            "2.5e-5",
            "100.000",
            "0.0000000000000000000001",
            "1.7976931348623157e308",
            "5e-324",
            "1e400",
            "-1e400",
            "0e7",
            "12345678901234.5",
            "999999999999999e22",
        ];
        for t in fixed {
            let want: f64 = t.parse().unwrap();
            let got = parse_f64(t).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{t}");
            if let Some(f) = fast_f64(t) {
                assert_eq!(f.to_bits(), want.to_bits(), "fast {t}");
            }
        }
        // Random decimals of up to 15 digits with random exponents: the fast path (where it
        // answers) must agree with Rust's correctly rounded parser to the bit.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut fast = 0;
        for _ in 0..100_000 {
            x = xorshift(x);
            let digits = (x % 1_000_000_000_000_000) >> (x % 40);
            let point = (x >> 20) % 18;
            let exp = ((x >> 30) % 61) as i64 - 30;
            let s = digits.to_string();
            let t = if (point as usize) < s.len() && point > 0 {
                format!("{}.{}e{exp}", &s[..point as usize], &s[point as usize..])
            } else {
                format!("{s}e{exp}")
            };
            let want: f64 = t.parse().unwrap();
            assert_eq!(parse_f64(&t).unwrap().to_bits(), want.to_bits(), "{t}");
            if let Some(f) = fast_f64(&t) {
                fast += 1;
                assert_eq!(f.to_bits(), want.to_bits(), "fast {t}");
            }
        }
        assert!(fast > 30_000, "the fast path answered only {fast} times");
    }

    fn spell(n: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, n);
        s
    }

    #[test]
    fn same_digits_as_display() {
        let fixed = [
            0.5,
            0.1,
            0.3,
            1.5,
            -2.25,
            1e21,
            1e22,
            1e23,
            1e-7,
            5e-324,
            2.2250738585072014e-308,
            2.225073858507201e-308,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            9007199254740993.0,
            9007199254740992.0,
            123456789012345680000.0,
            0.000001,
            1.7976931348623157e300,
            4.35,
            2.5e-5,
            std::f64::consts::PI,
        ];
        for n in fixed {
            assert_eq!(spell(n), format!("{n}"), "{n:e}");
        }
        // Every binade, both ends and the middle, and a walk of pseudo-random bit patterns.
        for e in 0..2047u64 {
            for frac in [0u64, 1, (1 << 52) - 1, 1 << 51, 0x5555_5555_5555] {
                let n = f64::from_bits((e << 52) | frac);
                if n != 0.0 {
                    assert_eq!(spell(n), format!("{n}"), "{n:e}");
                }
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..30_000 {
            x = xorshift(x);
            // One in four is a subnormal.
            let mask = if i % 4 == 0 {
                (1 << 52) - 1
            } else {
                !(1 << 63)
            };
            let n = f64::from_bits(x & mask);
            if n.is_finite() && n != 0.0 {
                assert_eq!(spell(n), format!("{n}"), "{n:e}");
            }
        }
    }

    /// What the fast path answers for `v`, spelled, or `None` when it leaves `v` to the slow
    /// path.
    fn spell_fast(v: f64) -> Option<String> {
        let (m, d) = short_decimal(v)?;
        let mut s = String::new();
        super::push_fixed(&mut s, m, d);
        Some(s)
    }

    fn spell_slow(v: f64) -> String {
        let mut s = String::new();
        write_shortest(&mut s, v);
        s
    }

    /// Every double the fast path answers for must be spelled as the slow path (and `Display`)
    /// spell it.
    fn check_fast(v: f64) -> bool {
        match spell_fast(v) {
            Some(fast) => {
                assert_eq!(fast, spell_slow(v), "{v:e}");
                assert_eq!(fast, format!("{v}"), "{v:e}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn fast_path_spells_as_the_slow_path() {
        let fixed = [
            0.5,
            9.5,
            19.99,
            4.35,
            0.1,
            0.3,
            0.7,
            1.005,
            2.675,
            0.000001,
            1e-7,
            1.5e-22,
            123.456,
            99999999999999.9,
            999999999999.999,
            0.1 + 0.2,
            1.0 / 3.0,
            std::f64::consts::PI,
            4503599627370495.5,
            5e-324,
        ];
        for v in fixed {
            check_fast(v);
        }
        // The decimals of everyday payloads: up to 15 digits with 1 to 22 of them after the
        // point, and their neighbouring doubles (which need more digits or the slow path).
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut answered = 0;
        for _ in 0..200_000 {
            x = xorshift(x);
            let m = (x % 1_000_000_000_000_000) >> (x % 50);
            let d = ((x >> 50) % 22 + 1) as i32;
            let v = m as f64 / 10f64.powi(d);
            if v == 0.0 || v.fract() == 0.0 {
                continue;
            }
            for n in [
                v,
                f64::from_bits(v.to_bits() + 1),
                f64::from_bits(v.to_bits() - 1),
            ] {
                answered += usize::from(check_fast(n));
            }
        }
        assert!(
            answered > 150_000,
            "the fast path answered only {answered} times"
        );
        // Random doubles of every size, subnormals too.
        for _ in 0..200_000 {
            x = xorshift(x);
            let v = f64::from_bits(x & !(1 << 63));
            if v.is_finite() && v != 0.0 && v.fract() != 0.0 {
                check_fast(v);
            }
        }
    }

    #[test]
    fn fast_path_answers_for_prices() {
        for (v, want) in [
            (9.5, "9.5"),
            (19.99, "19.99"),
            (0.05, "0.05"),
            (1e-7, "0.0000001"),
        ] {
            assert_eq!(spell_fast(v).as_deref(), Some(want));
        }
        // Seventeen digits: left to the slow path.
        assert_eq!(spell_fast(0.1 + 0.2), None);
    }
}
