//! Escapes: percent-encoding, `\uXXXX`/`\xXX` escapes and HTML numeric character references.

use super::{Candidate, MAX_ESCAPE_GAP, MIN_ESCAPES, Scheme, finish};

pub(super) fn percent_at(b: &[u8], i: usize) -> Option<u8> {
    match b.get(i..i + 3)? {
        [b'%', h, l] => Some(hex_val(*h)? << 4 | hex_val(*l)?),
        _ => None,
    }
}

pub(super) fn hex_val(x: u8) -> Option<u8> {
    match x {
        b'0'..=b'9' => Some(x - b'0'),
        b'a'..=b'f' => Some(x - b'a' + 10),
        b'A'..=b'F' => Some(x - b'A' + 10),
        _ => None,
    }
}

pub(super) fn is_token_delimiter(x: u8) -> bool {
    x.is_ascii_whitespace()
        || matches!(
            x,
            b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'`'
        )
}

/// Whitespace-delimited tokens with at least three `%XX` escapes.
pub(super) fn scan_percent(b: &[u8], out: &mut Vec<Candidate>) {
    let mut i = 0;
    while let Some(p) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(|&x| x == b'%'))
        .map(|p| i + p)
    {
        let mut start = p;
        while start > i && b.get(start - 1).is_some_and(|&x| !is_token_delimiter(x)) {
            start -= 1;
        }
        let mut end = p;
        let mut escapes = 0;
        while let Some(&x) = b.get(end) {
            if is_token_delimiter(x) {
                break;
            }
            if percent_at(b, end).is_some() {
                escapes += 1;
                end += 3;
            } else {
                end += 1;
            }
        }
        if escapes >= MIN_ESCAPES {
            out.push(Candidate {
                start,
                end,
                scheme: Scheme::Percent,
            });
        }
        i = end.max(p + 1);
    }
}

/// An escape at `i`: `\xXX`, `\uXXXX`, `\u{X..}` or `\UXXXXXXXX`. Returns (end, is unicode).
pub(super) fn escape_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    if b.get(i) != Some(&b'\\') {
        return None;
    }
    let hex_run = |from: usize, n: usize| {
        b.get(from..from + n)
            .is_some_and(|s| s.iter().all(u8::is_ascii_hexdigit))
    };
    match b.get(i + 1)? {
        b'x' if hex_run(i + 2, 2) => Some((i + 4, false)),
        b'u' if b.get(i + 2) == Some(&b'{') => {
            let digits = b.get(i + 3..)?.iter().take(7).position(|&x| x == b'}')?;
            (digits >= 1 && hex_run(i + 3, digits)).then_some((i + 4 + digits, true))
        }
        b'u' if hex_run(i + 2, 4) => Some((i + 6, true)),
        b'U' if hex_run(i + 2, 8) => Some((i + 10, true)),
        _ => None,
    }
}

/// Runs of at least three escapes, with short literal gaps allowed between them.
pub(super) fn scan_escapes(b: &[u8], out: &mut Vec<Candidate>) {
    scan_escape_runs(
        b,
        b'\\',
        |b, i| escape_at(b, i).map(|(end, u)| (end, if u { Scheme::UnicodeEscape } else { Scheme::HexEscape })),
        out,
    );
}

/// Runs of at least three HTML numeric character references (`&#105;&#103;n&#111;re`).
pub(super) fn scan_entities(b: &[u8], out: &mut Vec<Candidate>) {
    scan_escape_runs(
        b,
        b'&',
        |b, i| entity_at(b, i).map(|(end, _)| (end, Scheme::HtmlEntity)),
        out,
    );
}

/// Runs of escapes that begin with `lead`, found by `at` (returns the escape's end and scheme; a
/// `\u` escape anywhere in a `\x` run makes it a Unicode run), with short literal gaps.
pub(super) fn scan_escape_runs(
    b: &[u8],
    lead: u8,
    at: impl Fn(&[u8], usize) -> Option<(usize, Scheme)>,
    out: &mut Vec<Candidate>,
) {
    let mut i = 0;
    while let Some(p) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(|&x| x == lead))
        .map(|p| i + p)
    {
        let Some((first_end, first)) = at(b, p) else {
            i = p + 1;
            continue;
        };
        let (mut end, mut escapes, mut scheme) = (first_end, 1usize, first);
        loop {
            let mut k = end;
            while k < end + MAX_ESCAPE_GAP
                && b.get(k)
                    .is_some_and(|&x| x != lead && !matches!(x, b'\n' | b'"' | b'\''))
            {
                k += 1;
            }
            match at(b, k) {
                Some((e, s)) => {
                    escapes += 1;
                    if s == Scheme::UnicodeEscape {
                        scheme = s;
                    }
                    end = e;
                }
                None => break,
            }
        }
        if escapes >= MIN_ESCAPES {
            // Letters written plainly around the escapes belong to the same words ("ign\u006fre").
            let mut start = p;
            while start > i && p - start < MAX_ESCAPE_GAP && b.get(start - 1).is_some_and(u8::is_ascii_alphanumeric) {
                start -= 1;
            }
            let last = end;
            while end - last < MAX_ESCAPE_GAP && b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                end += 1;
            }
            out.push(Candidate { start, end, scheme });
        }
        i = end;
    }
}

/// An HTML numeric character reference at `i`: `&#` and 1-7 decimal digits, or `&#x` and 1-6 hex
/// digits, then `;` (which HTML lets a page leave out). Returns its end and the code point.
pub(super) fn entity_at(b: &[u8], i: usize) -> Option<(usize, u32)> {
    if b.get(i..i + 2)? != b"&#" {
        return None;
    }
    let (from, radix, max) = match b.get(i + 2)? {
        b'x' | b'X' => (i + 3, 16, 6),
        _ => (i + 2, 10, 7),
    };
    let digits = b
        .get(from..)?
        .iter()
        .take(max + 1)
        .take_while(|d| d.is_ascii_digit() || (radix == 16 && d.is_ascii_hexdigit()))
        .count();
    if digits == 0 || digits > max {
        return None;
    }
    let text = std::str::from_utf8(b.get(from..from + digits)?).ok()?;
    let value = u32::from_str_radix(text, radix).ok()?;
    let end = from + digits;
    Some((if b.get(end) == Some(&b';') { end + 1 } else { end }, value))
}

pub(super) fn decode_percent(region: &str, cap: usize) -> (Option<String>, usize) {
    decode_items(region, cap, |b, i, out| {
        let v = percent_at(b, i)?;
        out.push(v);
        Some(i + 3)
    })
}

pub(super) fn decode_escapes(region: &str, cap: usize) -> (Option<String>, usize) {
    let mut buf = [0u8; 4];
    decode_items(region, cap, |b, i, out| {
        let (end, unicode) = escape_at(b, i)?;
        let digits = b.get(i + 2..end).unwrap_or(&[]);
        let digits: Vec<u8> = digits.iter().copied().filter(u8::is_ascii_hexdigit).collect();
        let value = digits
            .iter()
            .fold(0u32, |acc, &d| acc.wrapping_shl(4) | u32::from(hex_val(d).unwrap_or(0)));
        if !unicode {
            out.push(value as u8);
            return Some(end);
        }
        let mut next = end;
        let c = if (0xD800..0xDC00).contains(&value) {
            // a UTF-16 surrogate pair written as two \u escapes
            match escape_at(b, end) {
                Some((e2, true)) if e2 == end + 6 => {
                    let low = b.get(end + 2..e2).and_then(|d| std::str::from_utf8(d).ok());
                    let low = low.and_then(|d| u32::from_str_radix(d, 16).ok()).unwrap_or(0);
                    if (0xDC00..0xE000).contains(&low) {
                        next = e2;
                        char::from_u32(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00))
                    } else {
                        None
                    }
                }
                _ => None,
            }
        } else {
            char::from_u32(value)
        };
        out.extend_from_slice(c.unwrap_or('\u{FFFD}').encode_utf8(&mut buf).as_bytes());
        Some(next)
    })
}

pub(super) fn decode_entities(region: &str, cap: usize) -> (Option<String>, usize) {
    let mut buf = [0u8; 4];
    decode_items(region, cap, |b, i, out| {
        let (end, value) = entity_at(b, i)?;
        // HTML maps NUL, surrogates and out-of-range values to U+FFFD as well
        let c = char::from_u32(value).filter(|&c| c != '\0').unwrap_or('\u{FFFD}');
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Some(end)
    })
}

/// Decodes `region` where `decode_at(bytes, i, out)` recognises an encoded item at `i` (appends
/// its bytes to `out` and returns the index after it); every other byte is kept as it is. Stops
/// at `cap` output bytes. Shared by the escape-like schemes, whose items sit among plain text.
pub(super) fn decode_items(
    region: &str,
    cap: usize,
    mut decode_at: impl FnMut(&[u8], usize, &mut Vec<u8>) -> Option<usize>,
) -> (Option<String>, usize) {
    let b = region.as_bytes();
    let mut out = Vec::with_capacity(b.len().min(cap));
    let mut i = 0;
    let mut truncated = false;
    while let Some(&x) = b.get(i) {
        if out.len() >= cap {
            truncated = true;
            break;
        }
        match decode_at(b, i, &mut out) {
            Some(next) => i = next,
            None => {
                out.push(x);
                i += 1;
            }
        }
    }
    let produced = out.len();
    (finish(out, truncated), produced)
}
