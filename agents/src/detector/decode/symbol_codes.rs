//! Letters written as symbols: Morse code, Unicode Braille and bytes in binary digits.

use super::{Candidate, Scheme, finish, is_text_like, pack_bits};

/// Fewest bytes written in binary that make a run worth decoding (as for Morse and Braille:
/// shorter readings are too short for a rule to read anything into).
pub(super) const MIN_BINARY_BYTES: usize = MIN_CODED_LETTERS;

/// Eight binary digits at `i` that stand alone: not inside a longer word or number.
pub(super) fn binary_token(b: &[u8], i: usize) -> bool {
    b.get(i..i + 8)
        .is_some_and(|t| t.iter().all(|&x| matches!(x, b'0' | b'1')))
        && !b.get(i + 8).is_some_and(u8::is_ascii_alphanumeric)
}

/// Separated binary bytes ("01001001 01100111 …", also split by commas or line breaks) from
/// the eight-digit token at `i`; the candidate holds at least [`MIN_BINARY_BYTES`] of them.
/// Returns where the run ends. (Called from [`scan_hex_tokens`], which already visits every
/// token start: a second pass over the text cost digit-heavy JSON 5 %.) Unbroken runs are
/// classified with the other alphabet runs ([`classify_run`]).
pub(super) fn scan_binary_at(b: &[u8], i: usize, out: &mut Vec<Candidate>) -> usize {
    let is_gap = |x: u8| matches!(x, b' ' | b',' | b'\n' | b'\r' | b'\t');
    let (mut end, mut bytes) = (i + 8, 1usize);
    loop {
        let mut k = end;
        let mut gap = 0;
        while b.get(k).copied().is_some_and(is_gap) && gap < 3 {
            k += 1;
            gap += 1;
        }
        if gap == 0 || !binary_token(b, k) {
            break;
        }
        bytes += 1;
        end = k + 8;
    }
    if bytes >= MIN_BINARY_BYTES {
        out.push(Candidate {
            start: i,
            end,
            scheme: Scheme::Binary,
        });
    }
    end
}

/// Runs of Unicode Braille patterns (spaces between words allowed) with at least
/// [`MIN_CODED_LETTERS`] cells. Braille cells are `E2 A0..=A3 xx` in UTF-8.
pub(super) fn scan_braille(b: &[u8], out: &mut Vec<Candidate>) {
    let cell = |i: usize| b.get(i) == Some(&0xE2) && b.get(i + 1).is_some_and(|x| (0xA0..=0xA3).contains(x));
    let mut i = 0;
    while let Some(at) = b.get(i..).and_then(|rest| memchr::memchr(0xE2, rest)) {
        i += at;
        if !cell(i) {
            i += 1;
            continue;
        }
        let start = i;
        let (mut end, mut cells) = (i, 0usize);
        let mut k = i;
        loop {
            if cell(k) {
                cells += 1;
                k += 3;
                end = k;
            } else if b.get(k) == Some(&b' ') && cell(k + 1) {
                k += 1;
            } else {
                break;
            }
        }
        if cells >= MIN_CODED_LETTERS {
            out.push(Candidate {
                start,
                end,
                scheme: Scheme::Braille,
            });
        }
        i = end.max(start + 1);
    }
}

/// Fewest letters (Morse codes, Braille cells) that make a run worth decoding.
pub(super) const MIN_CODED_LETTERS: usize = 8;

/// Runs of Morse code: letters of one to seven `.`/`-` separated by spaces (a `/` or `|`, or
/// a line break, between words) with at least [`MIN_CODED_LETTERS`] letters, dots and dashes both.
pub(super) fn scan_morse(b: &[u8], out: &mut Vec<Candidate>) {
    let is_mark = |x: u8| matches!(x, b'.' | b'-');
    let is_gap = |x: u8| matches!(x, b' ' | b'/' | b'|' | b'\n' | b'\r' | b'\t');
    let mut i = 0;
    // (marks are rare in prose: jump from one to the next)
    while let Some(at) = b.get(i..).and_then(|rest| memchr::memchr2(b'.', b'-', rest)) {
        i += at;
        // a run starts with a mark at the text's start or after a gap
        if i.checked_sub(1).and_then(|p| b.get(p)).is_some_and(|&p| !is_gap(p)) {
            i += 1;
            continue;
        }
        let start = i;
        let (mut end, mut letters, mut dots, mut dashes) = (i, 0usize, false, false);
        let mut k = i;
        loop {
            let letter = k;
            while b.get(k).copied().is_some_and(is_mark) {
                dots |= b.get(k) == Some(&b'.');
                dashes |= b.get(k) == Some(&b'-');
                k += 1;
            }
            // a letter is one to seven marks, then a gap or the end
            if k - letter == 0 || k - letter > 7 || b.get(k).is_some_and(|&x| !is_gap(x)) {
                break;
            }
            letters += 1;
            end = k;
            while b.get(k).copied().is_some_and(is_gap) {
                k += 1;
            }
        }
        if letters >= MIN_CODED_LETTERS && dots && dashes {
            out.push(Candidate {
                start,
                end,
                scheme: Scheme::Morse,
            });
        }
        i = end.max(start + 1);
    }
}

/// International Morse code: letters and digits (and common punctuation), one per code, a
/// space for each word break (`/`, `|` or a line break). An unknown code makes it no Morse.
pub(super) fn decode_morse(region: &str, cap: usize) -> (Option<String>, usize) {
    #[rustfmt::skip]
    pub(super) const CODES: [(&str, char); 54] = [
        (".-", 'a'), ("-...", 'b'), ("-.-.", 'c'), ("-..", 'd'), (".", 'e'), ("..-.", 'f'),
        ("--.", 'g'), ("....", 'h'), ("..", 'i'), (".---", 'j'), ("-.-", 'k'), (".-..", 'l'),
        ("--", 'm'), ("-.", 'n'), ("---", 'o'), (".--.", 'p'), ("--.-", 'q'), (".-.", 'r'),
        ("...", 's'), ("-", 't'), ("..-", 'u'), ("...-", 'v'), (".--", 'w'), ("-..-", 'x'),
        ("-.--", 'y'), ("--..", 'z'), ("-----", '0'), (".----", '1'), ("..---", '2'),
        ("...--", '3'), ("....-", '4'), (".....", '5'), ("-....", '6'), ("--...", '7'),
        ("---..", '8'), ("----.", '9'), (".-.-.-", '.'), ("--..--", ','), ("..--..", '?'),
        (".----.", '\''), ("-.-.--", '!'), ("-..-.", '/'), ("-.--.", '('), ("-.--.-", ')'),
        (".-...", '&'), ("---...", ':'), ("-.-.-.", ';'), ("-...-", '='), (".-.-.", '+'),
        ("-....-", '-'), ("..--.-", '_'), (".-..-.", '"'), ("...-..-", '$'), (".--.-.", '@'),
    ];
    let mut out = String::new();
    for word in region.split(['/', '|', '\n']) {
        let mut letters = word.split_ascii_whitespace().peekable();
        if letters.peek().is_none() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        for code in letters {
            let Some(&(_, c)) = CODES.iter().find(|(k, _)| *k == code) else {
                return (None, 0);
            };
            out.push(c);
        }
        if out.len() >= cap {
            break;
        }
    }
    let produced = out.len();
    (is_text_like(&out).then_some(out), produced)
}

/// Binary bytes: every group of eight `0`/`1` digits (gaps between groups ignored) is one
/// byte, most significant bit first; the bytes must read as UTF-8 text.
pub(super) fn decode_binary(region: &str, cap: usize) -> (Option<String>, usize) {
    let bits = region.bytes().filter_map(|x| match x {
        b'0' => Some(0),
        b'1' => Some(1),
        _ => None,
    });
    let bytes = pack_bits(bits, cap);
    let produced = bytes.len();
    let truncated = produced >= cap;
    (finish(bytes, truncated), produced)
}

/// English Braille, grade 1: letters, the capital sign (⠠), the number sign (⠼, then a–j are
/// 1–0) and common punctuation; a blank cell (U+2800) or a space is a space. Cells without a
/// meaning here are dropped.
pub(super) fn decode_braille(region: &str, cap: usize) -> (Option<String>, usize) {
    // by dot pattern (the code point's low byte); ' ' where a cell means nothing here
    pub(super) const LETTERS: &[u8; 64] = b" a,b'k;l cif/msp e:h o!r djg ntq    -u?v     x    .  z\"   w  y  ";
    let (mut out, mut capital, mut number) = (String::new(), false, false);
    for c in region.chars() {
        let dots = match u32::from(c) {
            0x2800 => 0,
            cp @ 0x2801..=0x283F => cp - 0x2800,
            _ => {
                if c == ' ' {
                    out.push(' ');
                    number = false;
                }
                continue;
            }
        };
        match dots {
            0 => {
                out.push(' ');
                number = false;
            }
            0x20 => capital = true,
            0x3C => number = true,
            _ => {
                let Some(&x) = LETTERS.get(dots as usize) else { continue };
                let mut ch = char::from(x);
                if number && ch.is_ascii_lowercase() && ch <= 'j' {
                    ch = char::from(b'0' + (x - b'a' + 1) % 10);
                } else if capital {
                    ch = ch.to_ascii_uppercase();
                }
                capital = false;
                if ch != ' ' {
                    out.push(ch);
                }
            }
        }
        if out.len() >= cap {
            break;
        }
    }
    let produced = out.len();
    (is_text_like(&out).then_some(out), produced)
}
