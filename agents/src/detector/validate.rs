//! Checksums and plausibility checks that turn a regex match into a finding.
//!
//! A PII or secret regex only says "this has the right shape"; most digit runs of the right length are order
//! numbers, dates or versions. A validator is the second opinion: a checksum where the format has one (Luhn,
//! IBAN mod-97), the issuing rules where it has none (SSN areas, IP octets), and a randomness test for
//! free-form secrets. Every check is total: any `&str` (empty, non-ASCII, megabytes long) gets `true` or `false`
//! in time linear in a bounded prefix, never a panic.

use std::net::Ipv6Addr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Longest candidate any validator looks at. Real values are far shorter (an IBAN is at most 34 characters, a
/// JWT a few kilobytes); anything longer is not one of them, and refusing it keeps the work bounded.
const MAX_CANDIDATE_LEN: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Payment card number: 13–19 digits (spaces/dashes allowed) passing the Luhn checksum.
    Luhn,
    /// International bank account number: known country, that country's length, ISO 7064 mod-97 == 1.
    Iban,
    /// US social security number as issued (no area 000/666/9xx, group 00, serial 0000, or published fakes).
    UsSsn,
    /// Dotted-quad IPv4 address that can identify a host (not loopback, unspecified, multicast, reserved, or a
    /// version-number-shaped quad of single digits).
    Ipv4,
    /// IPv6 address (std parser) in a range that names a host: global unicast, unique-local, link-local, mapped IPv4.
    Ipv6,
    /// Phone number: 7–15 digits with the usual separators, not one repeated digit, not a date or an address.
    Phone,
    /// A free-form secret value: long, random-looking (Shannon entropy), mixed character classes, no placeholder.
    Entropy,
    /// E-mail address (RFC 5321 lengths, sane labels), not an asset name such as `logo@2x.png`.
    Email,
    /// JSON Web Token: three base64url parts; the header is JSON naming `alg`, the payload JSON with a registered
    /// claim (exp, iat, sub, iss, aud, nbf, jti).
    Jwt,
    /// A quote that breaks out of a SQL string literal rather than closing one: the match starts with the quote,
    /// and either an OR that follows compares a value with itself (`' OR '1'='1`) or the quote opens no literal
    /// of its own line, i.e. an even number of the same quote stands before it there (`admin' UNION SELECT`).
    /// A whole query that closes its own literal (`WHERE state = 'NY' OR state = 'CA'`, `= "T" UNION SELECT`)
    /// is ordinary SQL. The only validator that reads text before the match ([`Validator::check_in`]).
    QuoteBreakout,
}

impl Validator {
    /// Whether `candidate` (the rule's match, or its capture group 1) is a plausible real value of this kind,
    /// read alone: as [`Validator::check_in`] with nothing before it.
    pub fn check(self, candidate: &str) -> bool {
        self.check_in(candidate, 0, candidate.len())
    }

    /// Whether the match `start..end` of `text` is a plausible real value of this kind: what the rule engine
    /// calls. The context-free validators read the match alone; [`Validator::QuoteBreakout`] also reads its
    /// line before it (at most [`QUOTE_LOOKBACK`] bytes). A span that is not on char boundaries inside `text`
    /// is no match.
    pub fn check_in(self, text: &str, start: usize, end: usize) -> bool {
        let Some(candidate) = text.get(start..end) else {
            return false;
        };
        if candidate.is_empty() || candidate.len() > MAX_CANDIDATE_LEN {
            return false;
        }
        match self {
            Validator::Luhn => luhn(candidate),
            Validator::Iban => iban(candidate),
            Validator::UsSsn => us_ssn(candidate),
            Validator::Ipv4 => ipv4(candidate),
            Validator::Ipv6 => ipv6(candidate),
            Validator::Phone => phone(candidate),
            Validator::Entropy => high_entropy_secret(candidate),
            Validator::Jwt => jwt(candidate),
            Validator::Email => email(candidate),
            Validator::QuoteBreakout => quote_breakout(text.as_bytes(), start, candidate.as_bytes()),
        }
    }
}

/// How far back from a quote its line is read for the literal count. A SQL line longer than this is cut at
/// this point, which is where its count starts. It also bounds the work: a 100 KB line of whole queries holds
/// thousands of matches, each read back this far (the `sql_whole_queries` bench).
pub const QUOTE_LOOKBACK: usize = 1024;

/// See [`Validator::QuoteBreakout`]. `candidate` is the match, at `start` inside `text`; its first byte is
/// its quote.
fn quote_breakout(text: &[u8], start: usize, candidate: &[u8]) -> bool {
    let Some(&quote @ (b'\'' | b'"' | b'`')) = candidate.first() else {
        return false;
    };
    if or_tautology(candidate) {
        return true;
    }
    // A quote that comments the rest out (`admin'#`, `1' --`, `josé'--`, `%' --`, `1)' --`) ends the value it
    // closes; one after an opening bracket, a space or `=` opens a literal that the text was cut off inside
    // (`querySelector('#`, `<a href="#`).
    let rest = after_quote(candidate);
    let after_value = start == 0
        || text
            .get(start - 1)
            .is_some_and(|&c| is_word_byte(c) || matches!(c, b'%' | b')'));
    if (rest.starts_with(b"#") || rest.starts_with(b"--")) && !after_value {
        return false;
    }
    let before = &text[start.saturating_sub(QUOTE_LOOKBACK)..start];
    let line = match memchr::memrchr(b'\n', before) {
        Some(i) => &before[i + 1..],
        None => before,
    };
    literal_quotes(line, quote).is_multiple_of(2)
}

/// The quotes of kind `quote` in `line` that can open or close a literal: not escaped with a backslash, and,
/// for `'`, not an apostrophe between two letters or digits ("it's", "O'Brien"; a byte of a multi-byte
/// character counts as a letter).
fn literal_quotes(line: &[u8], quote: u8) -> usize {
    let word = |i: usize| line.get(i).copied().is_some_and(is_word_byte);
    memchr::memchr_iter(quote, line)
        .filter(|&i| i == 0 || line[i - 1] != b'\\')
        .filter(|&i| quote != b'\'' || i == 0 || !(word(i - 1) && word(i + 1)))
        .count()
}

/// A letter or digit of a word, a byte of a multi-byte character counting as a letter.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// What follows a quote match's quote and the `)` that may close a group after it, spaces skipped.
fn after_quote(candidate: &[u8]) -> &[u8] {
    let rest = candidate.get(1..).unwrap_or_default();
    rest.strip_prefix(b")").unwrap_or(rest).trim_ascii_start()
}

/// Whether `candidate` (a quote, an optional `)`, then `OR`/`||` and a comparison) compares one value with
/// itself: `' OR '1'='1`, `" or x=x`, `') OR 'a' LIKE 'a`.
fn or_tautology(candidate: &[u8]) -> bool {
    let lower = candidate.to_ascii_lowercase();
    let rest = after_quote(&lower);
    let Some(after_or) = rest.strip_prefix(b"or").or_else(|| rest.strip_prefix(b"||")) else {
        return false;
    };
    /// A comparison's operand at the start of `s` (spaces, an optional quote, a word, its closing quote):
    /// the word, and how many bytes of `s` it took.
    fn operand(s: &[u8]) -> (&[u8], usize) {
        let s_trim = s.trim_ascii_start();
        let skipped = s.len() - s_trim.len();
        let body = s_trim
            .strip_prefix(b"'")
            .or_else(|| s_trim.strip_prefix(b"\""))
            .unwrap_or(s_trim);
        let quoted = body.len() != s_trim.len();
        let n = body
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let mut used = skipped + usize::from(quoted) + n;
        if quoted && matches!(body.get(n), Some(b'\'' | b'"')) {
            used += 1;
        }
        (&body[..n], used)
    }
    let (left, used) = operand(after_or);
    let rest = after_or[used..].trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b"=").or_else(|| rest.strip_prefix(b"like")) else {
        return false;
    };
    let (right, _) = operand(rest);
    !left.is_empty() && left == right
}

/// The digits of `candidate` if every other character is one of `separators`; `None` otherwise.
fn digits_with_separators(candidate: &str, separators: &[char]) -> Option<Vec<u8>> {
    let mut digits = Vec::with_capacity(candidate.len());
    for ch in candidate.chars() {
        if let Some(d) = ch.to_digit(10) {
            digits.push(d as u8);
        } else if !separators.contains(&ch) {
            return None;
        }
    }
    Some(digits)
}

fn all_same(digits: &[u8]) -> bool {
    digits.windows(2).all(|w| w[0] == w[1])
}

fn luhn(candidate: &str) -> bool {
    let Some(digits) = digits_with_separators(candidate, &[' ', '-']) else {
        return false;
    };
    if !(13..=19).contains(&digits.len()) || all_same(&digits) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths from the SWIFT IBAN registry. A country missing here is refused: an unknown two-letter prefix in
/// front of digits that happen to pass mod-97 (1 in 97) is far likelier than an IBAN from a country we lack.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

fn iban(candidate: &str) -> bool {
    // Printed IBANs come in groups of four separated by spaces; the electronic form has none. Case is folded
    // because people type them in lower case too.
    let compact: Vec<u8> = candidate
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 15 || compact.len() > 34 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (country, check) = (&compact[..2], &compact[2..4]);
    if !check.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let expected_len = IBAN_LENGTHS
        .iter()
        .find(|(code, _)| code.as_bytes() == country)
        .map(|(_, len)| *len);
    if expected_len != Some(compact.len()) {
        return false;
    }
    // ISO 13616: move the first four characters to the end, read letters as 10..35, and the whole number mod 97
    // must be 1. Folding the remainder one symbol at a time avoids a 60-digit integer.
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut remainder: u32 = 0;
    for &symbol in rearranged {
        remainder = if symbol.is_ascii_digit() {
            (remainder * 10 + u32::from(symbol - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(symbol - b'A') + 10) % 97
        };
    }
    remainder == 1
}

fn us_ssn(candidate: &str) -> bool {
    let bytes = candidate.as_bytes();
    // Accept the printed forms AAA-GG-SSSS / AAA GG SSSS (one separator kind throughout) and the bare nine digits.
    let digits: Vec<u8> = match bytes.len() {
        9 => bytes.to_vec(),
        11 if bytes[3] == bytes[6] && (bytes[3] == b'-' || bytes[3] == b' ') => bytes[..3]
            .iter()
            .chain(&bytes[4..6])
            .chain(&bytes[7..])
            .copied()
            .collect(),
        _ => return false,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let number =
        |range: std::ops::Range<usize>| digits[range].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    let (area, group, serial) = (number(0..3), number(3..5), number(5..9));
    // Never issued: area 000, 666 and 900-999 (the last are ITINs), group 00, serial 0000.
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    // Published numbers that circulate in ads and examples: the Woolworth wallet card, a 1940s ad card, and the
    // textbook sequence.
    !matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999) | (123, 45, 6789))
}

/// The four octets of a strict dotted quad: 1-3 digits each, no leading zero, at most 255.
fn parse_dotted_quad(candidate: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = candidate.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        *octet = part.parse::<u8>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(octets)
}

fn ipv4(candidate: &str) -> bool {
    let Some(octets) = parse_dotted_quad(candidate) else {
        return false;
    };
    // These name no particular host, so they are not personal data: 0.0.0.0/8 ("this network"), loopback, and
    // multicast/reserved/broadcast (224.0.0.0 and up). Private ranges stay: they map an internal network.
    if matches!(octets[0], 0 | 127 | 224..=255) {
        return false;
    }
    // Four single digits ("1.2.3.4", "2.0.0.1", "1.0.0.0") is a version number far more often than a host; the
    // few real hosts of that shape are public resolvers (1.1.1.1, 8.8.8.8, 9.9.9.9) that identify nobody.
    !octets.iter().all(|&o| o < 10)
}

fn ipv6(candidate: &str) -> bool {
    if candidate.bytes().filter(|b| *b == b':').count() < 2 || !candidate.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(addr) = candidate.parse::<Ipv6Addr>() else {
        return false;
    };
    // Much text that parses as IPv6 is not an address: Python slices ("x[1::2]"), code paths of hex letters
    // ("dead::beef"), "::1". Only the ranges that name a host are kept: global unicast 2000::/3, unique-local
    // fc00::/7, link-local fe80::/10, and IPv4-mapped ::ffff:a.b.c.d (whose IPv4 part must itself qualify).
    let first = addr.segments()[0];
    let host_range = (0x2000..=0x3fff).contains(&first) || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80;
    let mapped_host = addr.to_ipv4_mapped().is_some_and(|v4| ipv4(&v4.to_string()));
    host_range || mapped_host
}

const PHONE_SEPARATORS: &[char] = &[' ', '-', '.', '(', ')', '/'];

fn phone(candidate: &str) -> bool {
    let body = candidate.strip_prefix('+').unwrap_or(candidate);
    let Some(digits) = digits_with_separators(body, PHONE_SEPARATORS) else {
        return false;
    };
    if !(7..=15).contains(&digits.len()) || all_same(&digits) {
        return false;
    }
    !looks_like_date(body) && parse_dotted_quad(body).is_none()
}

/// "2024-01-15", "15.01.2024", "01/15/2024", "2024/01/15": a date's digit count (8) is a phone's too.
fn looks_like_date(text: &str) -> bool {
    let Some(separator) = text.chars().find(|c| matches!(c, '-' | '.' | '/')) else {
        return false;
    };
    let groups: Vec<&str> = text.split(separator).collect();
    let [a, b, c] = groups.as_slice() else {
        return false;
    };
    if ![a, b, c]
        .iter()
        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let value = |g: &str| g.parse::<u32>().unwrap_or(u32::MAX);
    let day_or_month = |g: &str| g.len() <= 2 && (1..=31).contains(&value(g));
    let year = |g: &str| g.len() == 4 && (1800..=2199).contains(&value(g));
    (year(a) && day_or_month(b) && day_or_month(c)) || (day_or_month(a) && day_or_month(b) && year(c))
}

/// Words that mark a value as documentation rather than a credential. Matched case-insensitively as substrings:
/// a real random key contains an English word of five or more letters only by rare chance.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpassword",
    "xxxx",
    "****",
    "....",
    "<",
    ">",
    "dummy",
    "sample",
    "redacted",
    "insert",
    "replace",
    "notreal",
    "not_real",
    "fake",
    "secret_here",
    "key_here",
    "token_here",
    "password_here",
    "abcdef",
    "123456",
];

fn shannon_entropy_bits_per_char(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[usize::from(b)] += 1;
    }
    let total = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum()
}

fn high_entropy_secret(candidate: &str) -> bool {
    const MIN_LEN: usize = 16;
    if candidate.len() < MIN_LEN || !candidate.is_ascii() {
        return false;
    }
    let lower = candidate.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    let has_upper = candidate.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = candidate.bytes().any(|b| b.is_ascii_lowercase());
    let has_digit = candidate.bytes().any(|b| b.is_ascii_digit());
    if u8::from(has_upper) + u8::from(has_lower) + u8::from(has_digit) < 2 {
        return false;
    }
    // Identifiers and dotted paths ("settings.DATABASE_PASSWORD", "MyApp.Config.SecretKey") mix cases but are
    // made of words; a generated secret of this length almost always carries a digit.
    if !has_digit {
        return false;
    }
    if mostly_words(candidate) || reverse_dns_name(candidate) {
        return false;
    }
    // A string of length n has at most log2(n) bits/char, so short secrets cannot reach a flat bar; random
    // base62/hex strings land within ~10% of the maximum, words and repeated patterns far below it.
    let ceiling = (candidate.len() as f64).log2().min(6.0);
    let threshold = (ceiling * 0.83).min(3.5);
    shannon_entropy_bits_per_char(candidate) >= threshold
}

/// Top-level "domains" that are really file extensions: `icon@2x.png`, `bundle@latest.js` (retina assets and
/// package specifiers in READMEs and HTML). Real ccTLDs that double as extensions (.py, .rs, .md) are not here.
const ASSET_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "js", "mjs", "cjs", "css", "scss",
    "map", "json", "html", "htm", "txt", "yml", "yaml", "lock", "php", "webm", "mp4",
];

fn email(candidate: &str) -> bool {
    if candidate.len() > 254 || !candidate.is_ascii() {
        return false;
    }
    let Some((local, domain)) = candidate.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') || domain.len() > 253 {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, _)) = labels.split_last() else {
        return false;
    };
    if labels.len() < 2 || tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !labels.iter().all(label_ok) {
        return false;
    }
    let tld = tld.to_ascii_lowercase();
    !ASSET_EXTENSIONS.contains(&tld.as_str())
}

/// Whether `candidate` is a reverse-DNS name with an optional numeric suffix, as macOS and Android logs name
/// their services and activities ("stream/token: com.apple.xpc.activity/4505"): three or more dot-separated
/// labels of lowercase letters and hyphens, then nothing or `/` and digits. A generated secret has no such
/// shape (and a JWT's dotted parts are base64url, with capitals and digits).
fn reverse_dns_name(candidate: &str) -> bool {
    let (name, suffix) = candidate.split_once('/').unwrap_or((candidate, ""));
    let label = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    name.split('.').count() >= 3 && name.split('.').all(label) && suffix.bytes().all(|b| b.is_ascii_digit())
}

/// Whether most of `text` is made of word-like pieces of four or more letters ("config.get_database_password_v2",
/// "settings.getDatabasePasswordV2"): code paths and identifiers, not generated values. Pieces are split at
/// non-letters and at lower-to-upper case changes; in a random mixed-case string such pieces are rare and short.
fn mostly_words(text: &str) -> bool {
    let mut word_letters = 0usize;
    let mut piece_len = 0usize;
    let mut prev_lower = false;
    for b in text.bytes() {
        let starts_new_piece = !b.is_ascii_alphabetic() || (b.is_ascii_uppercase() && prev_lower);
        if starts_new_piece {
            if piece_len >= 4 {
                word_letters += piece_len;
            }
            piece_len = 0;
        }
        if b.is_ascii_alphabetic() {
            piece_len += 1;
        }
        prev_lower = b.is_ascii_lowercase();
    }
    if piece_len >= 4 {
        word_letters += piece_len;
    }
    word_letters * 5 >= text.len() * 3
}

/// Claims registered by RFC 7519. Access and ID tokens carry at least one (an expiry, a subject, an issuer);
/// a payload with none is a library's documentation example (`{"some": "payload"}`) rather than a credential.
const JWT_REGISTERED_CLAIMS: &[&str] = &[
    "\"exp\"", "\"iat\"", "\"sub\"", "\"iss\"", "\"aud\"", "\"nbf\"", "\"jti\"",
];

/// The decoded JSON object of one base64url JWT part, if it is one. `max_len` bounds the decode.
fn jwt_json_part(part: &str, max_len: usize) -> Option<String> {
    if part.is_empty() || part.len() > max_len {
        return None;
    }
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.trim_start().starts_with('{').then_some(text)
}

fn jwt(candidate: &str) -> bool {
    let mut parts = candidate.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if signature.is_empty() {
        return false;
    }
    // A header is a few dozen bytes; payloads stay well under the candidate cap.
    let Some(header) = jwt_json_part(header, 1024) else {
        return false;
    };
    let Some(payload) = jwt_json_part(payload, MAX_CANDIDATE_LEN) else {
        return false;
    };
    header.contains("\"alg\"") && JWT_REGISTERED_CLAIMS.iter().any(|claim| payload.contains(claim))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(v: Validator, items: &[&str]) -> Vec<(String, bool)> {
        items.iter().map(|s| (s.to_string(), v.check(s))).collect()
    }

    fn assert_all(v: Validator, expected: bool, items: &[&str]) {
        for (s, got) in all(v, items) {
            assert_eq!(got, expected, "{v:?}.check({s:?}) should be {expected}");
        }
    }

    #[test]
    fn serde_names_are_snake_case() {
        let v: Validator = serde_json::from_str("\"us_ssn\"").unwrap();
        assert_eq!(v, Validator::UsSsn);
        assert_eq!(serde_json::to_string(&Validator::Jwt).unwrap(), "\"jwt\"");
        assert!(serde_json::from_str::<Validator>("\"mod97\"").is_err());
    }

    #[test]
    fn luhn_accepts_test_card_numbers() {
        assert_all(
            Validator::Luhn,
            true,
            &[
                "4111111111111111",
                "5500 0000 0000 0004",
                "378282246310005",
                "4111-1111-1111-1111",
                "6011111111111117",
            ],
        );
    }

    #[test]
    fn luhn_rejects_wrong_digit_length_and_junk() {
        assert_all(
            Validator::Luhn,
            false,
            &[
                "4111111111111112",
                "5500 0000 0000 0005",
                "378282246310006",
                "0000000000000000",
                "4111111111",
                "41111111111111111111111",
                "4111.1111.1111.1111",
                "4111111111111111x",
                "",
                "٤١١١١١١١١١١١١١١١",
            ],
        );
    }

    #[test]
    fn iban_accepts_valid_numbers_in_both_forms() {
        assert_all(
            Validator::Iban,
            true,
            &[
                "GB82WEST12345698765432",
                "GB82 WEST 1234 5698 7654 32",
                "DE89370400440532013000",
                "DE89 3704 0044 0532 0130 00",
                "FR1420041010050500013M02606",
                "gb82west12345698765432",
                "NL91ABNA0417164300",
                "BE68539007547034",
                "NO9386011117947",
            ],
        );
    }

    #[test]
    fn iban_rejects_bad_check_digits_lengths_and_countries() {
        assert_all(
            Validator::Iban,
            false,
            &[
                "GB83WEST12345698765432",
                "DE89370400440532013001",
                "FR1420041010050500013M0260",
                "GB82WEST1234569876543",
                "ZZ82WEST12345698765432",
                "GBXXWEST12345698765432",
                "GB82-WEST-1234-5698-7654-32",
                "GB82WEST1234569876543Ü",
                "",
            ],
        );
    }

    #[test]
    fn ssn_accepts_issued_forms() {
        assert_all(
            Validator::UsSsn,
            true,
            &["536-22-1234", "536 22 1234", "536221234", "001-01-0001", "899-99-9999"],
        );
    }

    #[test]
    fn ssn_rejects_never_issued_and_published_numbers() {
        assert_all(
            Validator::UsSsn,
            false,
            &[
                "000-12-3456",
                "666-12-3456",
                "900-12-3456",
                "999-99-9999",
                "536-00-1234",
                "536-22-0000",
                "078-05-1120",
                "123-45-6789",
                "219-09-9999",
                "536-22 1234",
                "536.22.1234",
                "53622123",
                "5362212345",
                "53a-22-1234",
                "５３６-２２-１２３４",
            ],
        );
    }

    #[test]
    fn ipv4_accepts_host_addresses() {
        assert_all(
            Validator::Ipv4,
            true,
            &[
                "192.168.1.10",
                "10.0.0.1",
                "203.0.113.7",
                "8.8.4.40",
                "81.2.69.142",
                "172.16.254.1",
            ],
        );
    }

    #[test]
    fn ipv4_rejects_malformed_and_non_host_addresses() {
        assert_all(
            Validator::Ipv4,
            false,
            &[
                "256.1.1.1",
                "1.2.3",
                "1.2.3.4.5",
                "01.2.3.4",
                "1.2.3.04",
                "1..3.4",
                "1.2.3.4.",
                "127.0.0.1",
                "0.0.0.0",
                "255.255.255.255",
                "224.0.0.1",
                "1.2.3.-4",
                "1.2.3.+4",
                "1234.1.1.1",
                "1.2.3.4",
                "1.0.0.0",
                "8.8.8.8",
            ],
        );
    }

    #[test]
    fn ipv6_accepts_full_and_compressed_forms() {
        assert_all(
            Validator::Ipv6,
            true,
            &[
                "2001:db8::1",
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                "fe80::1ff:fe23:4567:890a",
                "fd12:3456:789a:1::1",
                "::ffff:192.0.2.1",
                "2606:4700:4700::1111",
            ],
        );
    }

    #[test]
    fn ipv6_rejects_non_addresses() {
        assert_all(
            Validator::Ipv6,
            false,
            &[
                "::1",
                "::",
                "12:30:45",
                "00:1a:2b:3c:4d:5e",
                "dead::beef",
                "ff02::1",
                "2001:db8:::1",
                "1:2",
                "fe80::1%eth0",
                "1::2",
                "::2",
                "::ffff:127.0.0.1",
            ],
        );
    }

    #[test]
    fn phone_accepts_international_and_national_forms() {
        assert_all(
            Validator::Phone,
            true,
            &[
                "+44 20 7946 0958",
                "+1 (555) 010-4477",
                "555-010-4477",
                "020 7946 0958",
                "+4930123456",
                "555.010.4477",
            ],
        );
    }

    #[test]
    fn phone_rejects_dates_repeats_and_wrong_lengths() {
        assert_all(
            Validator::Phone,
            false,
            &[
                "2024-01-15",
                "15.01.2024",
                "01/15/2024",
                "2024/01/15",
                "555-5555",
                "0000000000",
                "123456",
                "+1234567890123456",
                "192.168.100.200",
                "555-010-4477 ext",
                "+44+20 7946",
                "",
            ],
        );
    }

    #[test]
    fn entropy_accepts_generated_secrets() {
        assert_all(
            Validator::Entropy,
            true,
            &[
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXqPLK3e9Q",
                "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                "Zq3vT8mW1xR7pL2k",
                "sk_7Hq2LmP9xVb3TnR8Wc5Yd",
                "django-insecure-8x2k9qv7m3p1z5r0t4w6y8b2n",
                "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",
            ],
        );
    }

    #[test]
    fn entropy_rejects_placeholders_words_and_low_entropy() {
        assert_all(
            Validator::Entropy,
            false,
            &[
                "xxxxxxxxxxxxxxxxxxxx",
                "your_api_key_here",
                "<token>",
                "changeme",
                "changemechangeme1",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "settings.DATABASE_PASSWORD",
                "MyApplicationSecretKey",
                "aaaaaaaaaaaaaaaa1",
                "abababababababab12",
                "1111111111111111",
                "short1A",
                "insert-your-token-here-123",
                "ÄÖÜäöüßÄÖÜäöüß12345",
                "config.get_database_password_v2",
                "settings.getDatabasePasswordV2",
                "MY_APP_SECRET_KEY_NAME_2",
                "com.apple.xpc.activity/4505",
                "com.android.systemui.keyguard/10023",
            ],
        );
    }

    #[test]
    fn email_accepts_addresses() {
        assert_all(
            Validator::Email,
            true,
            &[
                "jane.doe@example.com",
                "j+tag@mail.example.co.uk",
                "a@b.io",
                "first_last@sub-domain.example.org",
            ],
        );
    }

    #[test]
    fn email_rejects_assets_and_malformed_addresses() {
        assert_all(
            Validator::Email,
            false,
            &[
                "logo@2x.png",
                "icon@3x.JPG",
                "jane@example",
                ".jane@example.com",
                "ja..ne@example.com",
                "jane@-example.com",
                "jane@example..com",
                "jane@exa_mple.com",
                "jane@example.c0m",
                "a@b@example.com",
                "jané@example.com",
            ],
        );
    }

    #[test]
    fn jwt_requires_a_json_header() {
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert!(Validator::Jwt.check(token));
        assert!(
            !Validator::Jwt.check("eyJub3RhbGciOjF9.eyJzdWIiOjF9.abc"),
            "header without alg"
        );
        assert!(!Validator::Jwt.check("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9"), "two parts");
        assert!(!Validator::Jwt.check("eyJ!!!.eyJ.abc"), "not base64url");
    }

    /// The matches `ci.sql.quote-break` finds, as (line, where its quote is): the validator decides.
    fn breakout(line: &str, from: &str) -> bool {
        let start = line.find(from).expect("the quote is in the line");
        Validator::QuoteBreakout.check_in(line, start, line.len())
    }

    #[test]
    fn quote_breakout_tells_a_payload_from_a_whole_query() {
        // A payload: its quote closes a literal the application opened, so none opens before it.
        assert!(breakout(
            "admin' UNION SELECT username, password FROM users --",
            "' UNION"
        ));
        assert!(breakout("1' AND SLEEP(5)--", "' AND"));
        assert!(breakout("admin'#", "'#"));
        assert!(breakout("1' --", "' --"));
        assert!(breakout("josé'--", "'--"));
        assert!(breakout("1)' --", "' --"));
        assert!(breakout("' --", "' --"), "a probe that is the whole text");
        assert!(
            !breakout("var m = modal.querySelector('#", "'#"),
            "a comment-out after a bracket: a literal opened where the paste was cut"
        );
        assert!(!breakout("<li><a href=\"#", "\"#"));
        assert!(
            breakout("Don't paste this: ' UNION SELECT 1 --", "' UNION"),
            "the apostrophe is not a quote"
        );
        assert!(
            breakout("x\\' it ' UNION SELECT 1", "' UNION"),
            "an escaped quote is not counted"
        );
        // A tautology is one wherever its quote stands.
        assert!(breakout("SELECT * FROM t WHERE name = 'admin' OR '1'='1'", "' OR"));
        assert!(breakout("name=x' or 1=1 --", "' or"));
        assert!(breakout("x') OR 'a' LIKE 'a", "') OR"));
        assert!(Validator::QuoteBreakout.check("' OR 'x'='x"));
        // A whole query closes its own literals before OR and UNION (Spider's dev set, shapes like these).
        assert!(!breakout(
            "SELECT count(*) FROM votes WHERE state  =  'NY' OR state  =  'CA'",
            "' OR"
        ));
        assert!(!breakout(
            "SELECT name FROM country WHERE lang = \"English\" AND official = \"T\" UNION SELECT name FROM city",
            "\" UNION"
        ));
        assert!(!breakout(
            "WHERE city = 'O''Brien''s town' OR city = 'Leeds'",
            "' OR city = 'L"
        ));
        // The count starts at the line: a literal closed on an earlier line does not pair with this quote.
        assert!(breakout("SELECT 'a';\nadmin' UNION SELECT 1", "' UNION"));
        // Not a quote, or a span outside the text: no match.
        assert!(!Validator::QuoteBreakout.check("x OR 1=1"));
        assert!(!Validator::QuoteBreakout.check_in("' OR 1=1", 0, 99));
        assert!(
            !Validator::QuoteBreakout.check_in("é' OR 1=1", 1, 5),
            "not a char boundary"
        );
    }

    const ALL: [Validator; 10] = [
        Validator::Luhn,
        Validator::Iban,
        Validator::UsSsn,
        Validator::Ipv4,
        Validator::Ipv6,
        Validator::Phone,
        Validator::Entropy,
        Validator::Jwt,
        Validator::Email,
        Validator::QuoteBreakout,
    ];

    proptest::proptest! {
        #[test]
        fn no_validator_panics_on_any_string(s in "\\PC{0,80}") {
            for v in ALL {
                let _ = v.check(&s);
            }
        }

        #[test]
        fn no_validator_panics_on_any_span(s in "['\" a-zA-Z0-9=();#\n\\\\é-]{0,60}", a in 0usize..64, b in 0usize..64) {
            for v in ALL {
                let _ = v.check_in(&s, a.min(b), a.max(b));
            }
        }

        #[test]
        fn no_validator_panics_on_near_miss_shapes(s in "[0-9A-Za-z:.+ ()/@=_-]{0,60}") {
            for v in ALL {
                let _ = v.check(&s);
            }
        }
    }

    #[test]
    fn no_validator_panics_on_odd_input() {
        let huge = "9".repeat(1 << 20);
        let odd = [
            "",
            " ",
            "-",
            "+",
            ":",
            ".",
            "...",
            "::::",
            "é",
            "日本語テキスト",
            "\u{0}\u{FEFF}",
            "١٢٣-٤٥-٦٧٨٩",
            "𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏",
            "GB82WEST1234569876543😀",
            "a.b.c",
            "eyJ.eyJ.",
            huge.as_str(),
        ];
        for v in ALL {
            for s in odd {
                assert!(
                    !v.check(s),
                    "{v:?} accepted {:?}",
                    s.chars().take(20).collect::<String>()
                );
            }
        }
    }
}
