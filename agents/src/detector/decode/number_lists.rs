//! Separated numbers: hex byte tokens (`69 67 6e …`) and decimal or octal character codes
//! (`73 103 110 …`), read by one separated-token reader.

use super::{ALNUM, Candidate, HEX, MIN_HEX_TOKENS, Scheme, binary_token, class, reads_as_english, scan_binary_at};

/// A hex byte token at `i`: optional `0x`, exactly two hex digits, not followed by an
/// alphanumeric. Returns its end.
pub(super) fn hex_token(b: &[u8], i: usize) -> Option<usize> {
    let mut k = i;
    if b.get(k) == Some(&b'0') && matches!(b.get(k + 1), Some(b'x' | b'X')) {
        k += 2;
    }
    let pair = b.get(k..k + 2)?;
    if !pair.iter().all(u8::is_ascii_hexdigit) || b.get(k + 2).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(k + 2)
}

/// Separated hex bytes: "69 67 6e ...", "69:67:6e", "0x69, 0x67, ..."; and separated binary
/// bytes ([`scan_binary_at`]).
pub(super) fn scan_hex_tokens(b: &[u8], out: &mut Vec<Candidate>) {
    let mut i = 0;
    let mut codes_end = 0;
    while let Some(&x) = b.get(i) {
        let c = class(x);
        if c & ALNUM == 0 {
            i += 1;
            continue;
        }
        // A token starts only where a letter-or-digit run starts (after anything but a
        // backslash): inside a run the byte before is alphanumeric.
        let starts_token = c & HEX != 0 && (i == 0 || b.get(i - 1).is_some_and(|&p| p != b'\\'));
        // decimal and octal character codes are digit tokens too (a run of them may also be hex)
        if starts_token && x.is_ascii_digit() && i >= codes_end {
            codes_end = char_code_run(b, i, out).unwrap_or(codes_end);
        }
        if starts_token && matches!(x, b'0' | b'1') && binary_token(b, i) {
            i = scan_binary_at(b, i, out);
            continue;
        }
        let Some(first_end) = starts_token.then(|| hex_token(b, i)).flatten() else {
            i += b
                .get(i..)
                .map_or(1, |rest| rest.iter().take_while(|&&y| class(y) & ALNUM != 0).count());
            continue;
        };
        let digits_before = |e: usize| {
            b.get(e - 2..e)
                .map_or(0, |p| p.iter().filter(|x| x.is_ascii_digit()).count())
        };
        let mut digits = digits_before(first_end);
        let (end, tokens) = separated_tokens(b, first_end, b" :,-", hex_token, |e| digits += digits_before(e));
        // as for runs: digit-heavy (text), but not only digits (numbers, dates)
        if tokens >= MIN_HEX_TOKENS && digits * 2 >= tokens && digits < tokens * 2 {
            out.push(Candidate {
                start: i,
                end,
                scheme: Scheme::Hex,
            });
        }
        i = end;
    }
}

/// Extends a run of separated tokens past its first token (which ends at `end`): a byte of
/// `separators`, then one space more if the separator was not one, then a token that `token`
/// reads (returning its end). Calls `each(token_end)` for every further token; returns the run's
/// end and its number of tokens.
pub(super) fn separated_tokens(
    b: &[u8],
    mut end: usize,
    separators: &[u8],
    token: fn(&[u8], usize) -> Option<usize>,
    mut each: impl FnMut(usize),
) -> (usize, usize) {
    let mut tokens = 1;
    loop {
        let mut k = end;
        match b.get(k) {
            Some(x) if separators.contains(x) => k += 1,
            _ => break,
        }
        if b.get(k) == Some(&b' ') && b.get(k - 1) != Some(&b' ') {
            k += 1;
        }
        match token(b, k) {
            Some(e) => {
                tokens += 1;
                each(e);
                end = e;
            }
            None => break,
        }
    }
    (end, tokens)
}

/// A character-code token at `i`: two to four digits between non-alphanumeric bytes (not after
/// a `.`, which would make it a decimal fraction). Returns its end.
pub(super) fn code_token(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && b.get(i - 1).is_some_and(|&p| p.is_ascii_alphanumeric() || p == b'.') {
        return None;
    }
    let digits = b.get(i..)?.iter().take(5).take_while(|x| x.is_ascii_digit()).count();
    if !(2..=4).contains(&digits) || b.get(i + digits).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(i + digits)
}

/// A separated run of at least [`MIN_HEX_TOKENS`] character-code tokens ("73 103 110 111",
/// "111, 147, 156") from `start`, a candidate when its first tokens are printable codes. Most such
/// runs are numbers (tables, coordinates, versions): the decoder keeps only a reading that is
/// English-like text. Called by [`scan_hex_tokens`] at each token that starts with a digit.
/// Returns the end of the run read (the caller starts no other run inside it: each number of a
/// long run of numbers would otherwise read the rest of it again).
pub(super) fn char_code_run(b: &[u8], start: usize, out: &mut Vec<Candidate>) -> Option<usize> {
    let first_end = code_token(b, start)?;
    let (end, tokens) = separated_tokens(b, first_end, b" ,;", code_token, |_| {});
    // Tables and logs are full of number runs: the first eight must read as printable codes
    // in decimal or in octal before the run spends a candidate.
    let printable = |radix: u32| {
        b.get(start..end)
            .unwrap_or(&[])
            .split(|x| !x.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .take(MIN_HEX_TOKENS)
            .all(|t| {
                std::str::from_utf8(t)
                    .ok()
                    .and_then(|t| printable_code(t, radix))
                    .is_some()
            })
    };
    if tokens >= MIN_HEX_TOKENS && (printable(10) || printable(8)) {
        out.push(Candidate {
            start,
            end,
            scheme: Scheme::CharCodes,
        });
    }
    Some(end)
}

/// The byte a character-code token stands for in `radix`, when it is printable ASCII or a line
/// break: what a run must start with to be a candidate, and what its reading must hold throughout.
fn printable_code(token: &str, radix: u32) -> Option<u8> {
    u8::from_str_radix(token, radix)
        .ok()
        .filter(|&v| (0x20..0x7F).contains(&v) || v == b'\n')
}

/// The decimal reading of a character-code run, else its octal one: whichever gives printable
/// ASCII that reads as English ([`MIN_ENGLISH`] of its letters in known words; numbers that
/// happen to fall in the printable range read as noise).
pub(super) fn decode_char_codes(region: &str, cap: usize) -> (Option<String>, usize) {
    let numbers = || region.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty());
    let mut produced = 0;
    for radix in [10, 8] {
        let mut out = String::with_capacity(region.len() / 3);
        let mut ok = true;
        for token in numbers() {
            if out.len() >= cap {
                break;
            }
            match printable_code(token, radix) {
                Some(v) => out.push(char::from(v)),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        produced += out.len();
        if ok && reads_as_english(&out) {
            return (Some(out), produced);
        }
    }
    (None, produced)
}
