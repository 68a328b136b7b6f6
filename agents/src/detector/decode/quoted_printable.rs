//! Quoted-printable: `=XX` escapes and `=` soft line breaks, kept only when the result reads as
//! English (mail bodies are mostly that already).

use super::{Candidate, Scheme, decode_items, hex_val, reads_as_english, scan_escape_runs};

/// A quoted-printable item at `i`: `=XX` with two uppercase hex digits (the byte), or a soft line
/// break `=` + line end (nothing). Returns its end and the byte.
pub(super) fn quoted_printable_at(b: &[u8], i: usize) -> Option<(usize, Option<u8>)> {
    let upper_hex = |x: u8| x.is_ascii_digit() || (b'A'..=b'F').contains(&x);
    match b.get(i..(i + 3).min(b.len()))? {
        [b'=', b'\n', ..] => Some((i + 2, None)),
        [b'=', b'\r', b'\n'] => Some((i + 3, None)),
        [b'=', h, l] if upper_hex(*h) && upper_hex(*l) => Some((i + 3, Some(hex_val(*h)? << 4 | hex_val(*l)?))),
        _ => None,
    }
}

/// Runs of at least three quoted-printable escapes, with short literal gaps.
pub(super) fn scan_quoted_printable(b: &[u8], out: &mut Vec<Candidate>) {
    scan_escape_runs(
        b,
        b'=',
        |b, i| quoted_printable_at(b, i).map(|(end, _)| (end, Scheme::QuotedPrintable)),
        out,
    );
}

/// As the escape-like schemes, but kept only when the result reads as English: `=XX` runs are
/// also what assignments of hex-looking numbers look like (`a=10;b=20;c=30`).
pub(super) fn decode_quoted_printable(region: &str, cap: usize) -> (Option<String>, usize) {
    let (decoded, produced) = decode_items(region, cap, |b, i, out| {
        let (end, byte) = quoted_printable_at(b, i)?;
        out.extend(byte);
        Some(end)
    });
    (decoded.filter(|t| reads_as_english(t)), produced)
}
