//! Ascii85 (Adobe, btoa) and base85 (RFC 1924, Git) tokens: found by their alphabets, probed
//! before they are decoded, so the long identifiers of code cost little.

use super::{Candidate, Scheme, finish};

/// Shortest Ascii85/base85 token worth decoding (16 bytes of payload).
pub(super) const MIN_BASE85_TOKEN: usize = 20;

/// Each byte's value as an Ascii85 digit (`!` = 0 … `u` = 84), 0xFF for none.
pub(super) static ASCII85_DIGITS: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 85 {
        t[33 + i] = i as u8;
        i += 1;
    }
    t
};

/// Each byte's value as a base85 digit of RFC 1924's alphabet (Python's `b85encode`, Git).
pub(super) static BASE85_DIGITS: [u8; 256] = {
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 85 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Whitespace-delimited tokens (`<~ ~>` stripped) written wholly in the Ascii85 or base85
/// alphabet, at least [`MIN_BASE85_TOKEN`] long, with at least two bytes outside base64's
/// alphabet (a plain base64 run is base64's candidate).
pub(super) fn scan_base85_tokens(b: &[u8], out: &mut Vec<Candidate>) {
    let mut i = 0;
    while i < b.len() {
        let len = b
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|x| !x.is_ascii_whitespace()).count());
        if len == 0 {
            i += 1;
            continue;
        }
        let (mut start, mut end) = (i, i + len);
        i = end;
        if b.get(start..start + 2) == Some(b"<~") {
            start += 2;
        }
        if end >= start + 2 && b.get(end - 2..end) == Some(b"~>") {
            end -= 2;
        }
        let Some(token) = b.get(start..end) else { continue };
        if token.len() < MIN_BASE85_TOKEN
            || token
                .iter()
                .filter(|x| !x.is_ascii_alphanumeric() && !matches!(x, b'+' | b'/' | b'='))
                .count()
                < 2
        {
            continue;
        }
        let scheme = if token
            .iter()
            .all(|&x| ASCII85_DIGITS[usize::from(x)] != 0xFF || x == b'z')
        {
            Scheme::Ascii85
        } else if token.iter().all(|&x| BASE85_DIGITS[usize::from(x)] != 0xFF) {
            Scheme::Base85
        } else {
            continue;
        };
        // Code is full of long tokens in these alphabets (`_mm256_movemask_epi8(x);`): its first
        // two groups decode to binary. Probed here, so that code spends none of the candidates.
        if base85_probe(token, scheme == Scheme::Ascii85) {
            out.push(Candidate { start, end, scheme });
        }
    }
}

/// Whether the first two groups of a base85 token decode to printable ASCII (at most one byte
/// of the eight not).
pub(super) fn base85_probe(token: &[u8], ascii85: bool) -> bool {
    let Some(head) = token.get(..10) else { return false };
    if ascii85 && head.contains(&b'z') {
        return true;
    }
    let digits = if ascii85 { &ASCII85_DIGITS } else { &BASE85_DIGITS };
    let mut odd = 0;
    for group in head.chunks(5) {
        let v = group
            .iter()
            .fold(0u64, |acc, &x| acc * 85 + u64::from(digits[usize::from(x)]));
        let Ok(v) = u32::try_from(v) else { return false };
        odd += v
            .to_be_bytes()
            .iter()
            .filter(|&&b| !(0x20..0x7F).contains(&b) && !matches!(b, b'\n' | b'\t' | b'\r'))
            .count();
    }
    odd <= 1
}

/// Groups of five base85 digits to four bytes (a short last group padded with the top digit),
/// `z` as four zero bytes in Ascii85. A group that overflows 32 bits is not base85.
pub(super) fn decode_base85(region: &str, cap: usize, ascii85: bool) -> (Option<String>, usize) {
    let digits = if ascii85 { &ASCII85_DIGITS } else { &BASE85_DIGITS };
    let b = region.as_bytes();
    let mut out = Vec::with_capacity((b.len() / 5 * 4 + 4).min(cap));
    let (mut group, mut n) = (0u64, 0usize);
    let mut truncated = false;
    let push_group = |group: u64, bytes: usize, out: &mut Vec<u8>| -> bool {
        if group > u64::from(u32::MAX) {
            return false;
        }
        out.extend_from_slice(&(group as u32).to_be_bytes()[..bytes]);
        true
    };
    for &x in b {
        if out.len() >= cap {
            truncated = true;
            break;
        }
        if ascii85 && x == b'z' && n == 0 {
            out.extend_from_slice(&[0; 4]);
            continue;
        }
        let d = digits[usize::from(x)];
        if d == 0xFF {
            return (None, out.len());
        }
        group = group * 85 + u64::from(d);
        n += 1;
        if n == 5 {
            if !push_group(group, 4, &mut out) {
                return (None, out.len());
            }
            (group, n) = (0, 0);
        }
    }
    if n > 1 && !truncated {
        for _ in n..5 {
            group = group * 85 + 84;
        }
        if !push_group(group, n - 1, &mut out) {
            return (None, out.len());
        }
    }
    let produced = out.len();
    (finish(out, truncated), produced)
}
