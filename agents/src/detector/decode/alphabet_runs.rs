//! Runs of one encoding's alphabet (base64, base64url, base32, hex), found by one table lookup
//! per byte, and their decoders.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::{BASE64_PROBE, Candidate, MIN_BINARY_BYTES, MIN_RUN, Scheme, finish, hex_val, prefix_is_text};

pub(super) const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(false)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
pub(super) const BASE64_STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
pub(super) const BASE64_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Byte classes of the candidate scans, one table lookup per byte.
pub(super) const BASE64: u8 = 1;
pub(super) const ALNUM: u8 = 2;
pub(super) const HEX: u8 = 4;

pub(super) const fn byte_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() {
            t[i] |= BASE64 | ALNUM;
        }
        if matches!(b, b'+' | b'/' | b'-' | b'_') {
            t[i] |= BASE64;
        }
        if b.is_ascii_hexdigit() {
            t[i] |= HEX;
        }
        i += 1;
    }
    t
}

pub(super) static BYTE_CLASS: [u8; 256] = byte_classes();

#[inline]
pub(super) fn class(b: u8) -> u8 {
    BYTE_CLASS[usize::from(b)]
}

#[inline]
pub(super) fn is_base64_byte(b: u8) -> bool {
    class(b) & BASE64 != 0
}

/// A byte that may close a line of wrapped base64 (end of line, or the end of a quoted value).
pub(super) fn ends_base64_line(b: Option<&u8>) -> bool {
    matches!(
        b,
        None | Some(b'\n' | b'\r' | b'"' | b'\'' | b',' | b';' | b')' | b']' | b'}' | b'<' | b' ' | b'\t')
    )
}

/// Base64 runs (with `=` padding and line wrapping) and contiguous hex runs.
pub(super) fn scan_alphabet_runs(b: &[u8], out: &mut Vec<Candidate>) {
    let mut i = 0;
    while let Some(&x) = b.get(i) {
        if !is_base64_byte(x) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = run_end(b, i);
        let first_len = end - start;
        let mut padded = 0;
        while padded < 2 && b.get(end) == Some(&b'=') {
            end += 1;
            padded += 1;
        }
        // base32 pads with up to six
        if padded == 2
            && b.get(end) == Some(&b'=')
            && b.get(start..end - 2)
                .is_some_and(|r| r.iter().all(|x| matches!(x, b'A'..=b'Z' | b'2'..=b'7')))
        {
            while padded < 6 && b.get(end) == Some(&b'=') {
                end += 1;
                padded += 1;
            }
        }
        // Wrapped base64 has lines of one length and a last line no longer.
        if padded == 0 && first_len >= MIN_RUN {
            loop {
                let mut k = end;
                if b.get(k) == Some(&b'\r') {
                    k += 1;
                }
                if b.get(k) != Some(&b'\n') {
                    break;
                }
                k += 1;
                while matches!(b.get(k), Some(b' ' | b'\t')) && k - end < 16 {
                    k += 1;
                }
                let seg_end = run_end(b, k);
                let seg_len = seg_end - k;
                let mut next = seg_end;
                let mut pad = 0;
                while pad < 2 && b.get(next) == Some(&b'=') {
                    next += 1;
                    pad += 1;
                }
                if seg_len == 0 || seg_len > first_len || !ends_base64_line(b.get(next)) {
                    break;
                }
                end = next;
                if seg_len < first_len || pad > 0 {
                    break;
                }
            }
        }
        if end - start >= MIN_RUN
            && let Some(c) = classify_run(b, start, end)
        {
            out.push(c);
        }
        i = end.max(start + 1);
    }
}

pub(super) fn run_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&x| is_base64_byte(x)) {
        i += 1;
    }
    i
}

/// Decides whether a base64-alphabet run is hex, base64 or nothing worth decoding.
pub(super) fn classify_run(b: &[u8], start: usize, end: usize) -> Option<Candidate> {
    let run = b.get(start..end)?;
    let (body, prefixed) = match run {
        [b'0', b'x' | b'X', rest @ ..] => (rest, true),
        _ => (run, false),
    };
    // An unbroken run of binary digits (hex would take it for a number): bytes of eight.
    if !prefixed
        && run.len() >= 8 * MIN_BINARY_BYTES
        && run.len() % 8 == 0
        && run.iter().all(|&x| matches!(x, b'0' | b'1'))
    {
        return Some(Candidate {
            start,
            end,
            scheme: Scheme::Binary,
        });
    }
    if body.len() >= MIN_RUN && body.iter().all(u8::is_ascii_hexdigit) {
        let digits = body.iter().filter(|x| x.is_ascii_digit()).count();
        // Hex of text is at least half digits (every ASCII byte starts with 2..7) but not all
        // digits (that is a number); a run of hex letters is a word.
        let plausible = digits * 4 >= body.len() && digits < body.len();
        return (body.len() % 2 == 0 && plausible).then_some(Candidate {
            start,
            end,
            scheme: Scheme::Hex,
        });
    }
    if prefixed && body.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    // Capitals and 2-7 only: base32 (base64 of text has small letters; a word in capitals
    // this long without a space is rare, and decodes to no text).
    if run
        .iter()
        .all(|&x| matches!(x, b'A'..=b'Z' | b'2'..=b'7' | b'=' | b'\n' | b'\r' | b' ' | b'\t'))
    {
        return Some(Candidate {
            start,
            end,
            scheme: Scheme::Base32,
        });
    }
    let (mut chars, mut digits, mut upper, mut std_sym, mut url_sym) = (0usize, 0usize, 0usize, false, false);
    for &x in run {
        match x {
            b'0'..=b'9' => digits += 1,
            b'A'..=b'Z' => upper += 1,
            b'+' | b'/' => std_sym = true,
            b'-' | b'_' => url_sym = true,
            b'a'..=b'z' => {}
            _ => continue,
        }
        chars += 1;
    }
    if chars < MIN_RUN || (std_sym && url_sym) {
        return None;
    }
    // Identifiers, words and paths (camelCase, kebab-case, /usr/local/bin) are not base64:
    // base64 of text is about 40% upper case, or digit-heavy for non-Latin scripts.
    if upper * 5 < chars && digits * 5 < chars {
        return None;
    }
    let scheme = if url_sym { Scheme::Base64Url } else { Scheme::Base64 };
    Some(Candidate { start, end, scheme })
}

pub(super) fn decode_base64(region: &str, url: bool, cap: usize) -> (Option<String>, usize) {
    let clean: Vec<u8> = region.bytes().filter(|&x| is_base64_byte(x)).collect();
    let max_chars = cap / 3 * 4;
    let mut len = clean.len();
    let truncated = len > max_chars;
    if truncated {
        len = max_chars;
    }
    if len % 4 == 1 {
        len -= 1;
    }
    if len < MIN_RUN {
        return (None, 0);
    }
    let engine = if url { &BASE64_URL } else { &BASE64_STD };
    if len > BASE64_PROBE {
        // Reject images, archives and keys after 48 bytes instead of decoding them whole.
        let Some(head) = clean.get(..BASE64_PROBE).and_then(|p| engine.decode(p).ok()) else {
            return (None, 0);
        };
        if !prefix_is_text(&head) {
            return (None, head.len());
        }
    }
    // (the probe's bytes are a prefix of these, so they are not counted twice)
    let Some(bytes) = clean.get(..len).and_then(|p| engine.decode(p).ok()) else {
        return (None, 0);
    };
    let produced = bytes.len();
    (finish(bytes, truncated), produced)
}

/// RFC 4648 base32 (capitals and 2-7; `=` padding and whitespace skipped), at most `cap` bytes.
pub(super) fn decode_base32(region: &str, cap: usize) -> (Option<String>, usize) {
    let mut out = Vec::with_capacity((region.len() * 5 / 8).min(cap));
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut truncated = false;
    for x in region.bytes() {
        let v = match x {
            b'A'..=b'Z' => x - b'A',
            b'2'..=b'7' => x - b'2' + 26,
            b'=' | b'\n' | b'\r' | b' ' | b'\t' => continue,
            _ => return (None, 0),
        };
        acc = (acc << 5 | u32::from(v)) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            if out.len() >= cap {
                truncated = true;
                break;
            }
            out.push((acc >> bits) as u8);
        }
    }
    let produced = out.len();
    (finish(out, truncated), produced)
}

pub(super) fn decode_hex(region: &str, cap: usize) -> (Option<String>, usize) {
    let b = region.as_bytes();
    let mut out = Vec::with_capacity((b.len() / 2).min(cap));
    let mut high: Option<u8> = None;
    let mut i = 0;
    let mut truncated = false;
    while let Some(&x) = b.get(i) {
        if x == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X')) && high.is_none() {
            i += 2;
            continue;
        }
        i += 1;
        let Some(v) = hex_val(x) else { continue };
        match high.take() {
            None => high = Some(v),
            Some(h) => {
                if out.len() >= cap {
                    truncated = true;
                    break;
                }
                out.push(h << 4 | v);
            }
        }
    }
    let produced = out.len();
    (finish(out, truncated), produced)
}
