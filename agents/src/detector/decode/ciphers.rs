//! Letter substitutions without syntax: Caesar shifts, Atbash and upside-down text, tried only
//! on stretches that do not read as English.

use super::{
    LETTER_CODE, MAX_WORD_LETTERS, MIN_ENGLISH, MIN_KNOWN_LETTERS, MIN_TRANSFORM_LETTERS, Scores, is_known_word,
    reads_as_english, sentence_runs,
};

/// The letter a rotated look-alike stands for, for the look-alikes that are not themselves ASCII
/// letters (`q`, `p`, `b`, `d`, `u`, `n` stand for `b`, `d`, `q`, `p`, `n`, `u` when turned).
pub(super) fn unturned(c: char) -> Option<char> {
    Some(match c {
        'ɐ' | '∀' => 'a',
        'ɔ' | 'Ɔ' => 'c',
        'ǝ' | 'Ǝ' => 'e',
        'ɟ' | 'Ⅎ' => 'f',
        'ƃ' | '⅁' => 'g',
        'ɥ' => 'h',
        'ᴉ' | 'ı' => 'i',
        'ɾ' | 'ſ' => 'j',
        'ʞ' | 'ꓘ' => 'k',
        'ן' | '˥' => 'l',
        'ɯ' => 'm',
        'ɹ' | 'ᴚ' => 'r',
        'ʇ' | '⊥' | 'ꓕ' => 't',
        'ʌ' | 'Λ' => 'v',
        'ʍ' => 'w',
        'ʎ' | '⅄' => 'y',
        '∩' => 'u',
        'Ԁ' => 'p',
        'ᗡ' => 'd',
        '¡' => '!',
        '¿' => '?',
        '˙' => '.',
        _ => return None,
    })
}

/// Fewest rotated look-alikes on a line before it is read upside down.
pub(super) const MIN_TURNED: usize = 4;

/// A line read upside down (backwards, each look-alike and each of `q p b d u n` turned back),
/// when it holds at least [`MIN_TURNED`] look-alikes and the reading is English. Phonetic
/// transcriptions use some of the same letters (ɐ ɔ ɥ ɯ ɹ ʌ ʍ ʎ) and read as nothing.
pub(super) fn upside_down(line: &str) -> Option<String> {
    // The look-alikes are U+0180..U+02FF, U+1D09, U+2132..U+22A5, U+A4D5, U+A7B0, U+05DF, ¡ and ¿;
    // a turned English line always holds some of the first range (ǝ, ɐ, ɹ, ʇ …), whose lead
    // bytes 0xC6..0xCB are the cheap gate: a line without one is not read.
    if !line.bytes().any(|b| matches!(b, 0xC6..=0xCB)) {
        return None;
    }
    if line
        .chars()
        .filter(|&c| unturned(c).is_some_and(|u| u.is_ascii_alphabetic()))
        .count()
        < MIN_TURNED
    {
        return None;
    }
    let read: String = line
        .trim()
        .chars()
        .rev()
        .map(|c| {
            unturned(c).unwrap_or(match c {
                'q' => 'b',
                'b' => 'q',
                'p' => 'd',
                'd' => 'p',
                'u' => 'n',
                'n' => 'u',
                ',' => '\'',
                '\'' => ',',
                _ => c,
            })
        })
        .collect();
    reads_as_english(&read).then_some(read)
}

/// A letter substitution other than ROT13: a Caesar shift (the letter `n` places on) or Atbash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Substitution {
    Shift(u8),
    Atbash,
}

impl Substitution {
    /// Every candidate: the 24 shifts that are neither the identity nor ROT13, and Atbash.
    pub(super) fn all() -> impl Iterator<Item = Substitution> {
        (1..26u8)
            .filter(|&n| n != 13)
            .map(Substitution::Shift)
            .chain(std::iter::once(Substitution::Atbash))
    }

    /// The letter (0..26) that letter `l` (0..26) reads as.
    pub(super) fn letter(self, l: u8) -> u8 {
        match self {
            Substitution::Shift(n) => (l + n) % 26,
            Substitution::Atbash => 25 - l,
        }
    }

    pub(super) fn apply(self, text: &str) -> String {
        text.chars()
            .map(|c| match c {
                'a'..='z' => char::from(b'a' + self.letter(c as u8 - b'a')),
                'A'..='Z' => char::from(b'A' + self.letter(c as u8 - b'A')),
                _ => c,
            })
            .collect()
    }
}

/// ln of each letter's share of English text, ×100 (a … z): a substitution whose letters score
/// highest reads most like English letter by letter, before any word is looked up.
pub(super) const ENGLISH_LETTER_LOG: [i32; 26] = [
    -250, -420, -358, -315, -206, -382, -391, -280, -266, -650, -487, -322, -373, -270, -259, -396, -696, -281, -276,
    -240, -358, -463, -373, -650, -391, -721,
];

/// [`ENGLISH_LETTER_LOG`] twice over: a shift of `n` reads letter `l` as `SHIFTED[n + l]`.
pub(super) static SHIFTED_LETTER_LOG: [i32; 52] = {
    let mut t = [0; 52];
    let mut i = 0;
    while i < 52 {
        t[i] = ENGLISH_LETTER_LOG[i % 26];
        i += 1;
    }
    t
};

/// [`ENGLISH_LETTER_LOG`] backwards: Atbash reads letter `l` as `25 - l`.
pub(super) static MIRRORED_LETTER_LOG: [i32; 26] = {
    let mut t = [0; 26];
    let mut i = 0;
    while i < 26 {
        t[i] = ENGLISH_LETTER_LOG[25 - i];
        i += 1;
    }
    t
};

pub(super) fn dot(counts: &[i32; 26], logs: &[i32]) -> i32 {
    counts.iter().zip(logs).map(|(c, l)| c * l).sum()
}

/// Mean [`ENGLISH_LETTER_LOG`] above which a stretch's letters are English-like as they stand:
/// 95 % of the hand-written chat's sentences (median -294) and of the dependencies' code (median
/// -293) score above it, 95 % of their Caesar shifts and Atbash below (-332 to -390).
pub(super) const ENGLISH_LIKE_LETTERS: i32 = -320;

/// Letters of a substitution's reading that fall in known words.
pub(super) fn substituted_hits(b: &[u8], sub: Substitution) -> usize {
    let mut hits = 0;
    let (mut word, mut len) = (0u64, 0usize);
    for &x in b.iter().chain(std::iter::once(&b' ')) {
        let code = LETTER_CODE[usize::from(x)];
        if code != 0 {
            if len < MAX_WORD_LETTERS {
                word = (word << 5) | u64::from(sub.letter(code - 1) + 1);
            }
            len += 1;
            continue;
        }
        if len > 0 {
            if len <= MAX_WORD_LETTERS && is_known_word(word) {
                hits += len;
            }
            (word, len) = (0, 0);
        }
    }
    hits
}

/// The runs of consecutive sentences of a line that do not read as English (as they are, as
/// ROT13 or reversed) and read as English under one substitution, with that substitution:
/// `f(start, end, substitution)` for each. Letter counts pick the substitution; its words must
/// then pass the test ROT13's do ([`Scores::reads_better_as`]).
pub(super) fn substituted_runs(
    text: &[u8],
    sentences: &[(usize, usize, Scores)],
    mut f: impl FnMut(usize, usize, Substitution),
) {
    let foreign = |sc: &Scores| {
        sc.letters > 0
            && (sc.plain as f32) < MIN_ENGLISH * sc.letters as f32
            && (sc.rot13 as f32) < MIN_ENGLISH * sc.letters as f32
    };
    sentence_runs(sentences, foreign, |s, e, sc| {
        if sc.letters < MIN_TRANSFORM_LETTERS {
            return;
        }
        let Some(b) = text.get(s..e) else { return };
        let mut counts = [0i32; 26];
        let mut visible = 0usize;
        for &x in b {
            visible += usize::from(!x.is_ascii_whitespace());
            if let Some(c) = LETTER_CODE[usize::from(x)].checked_sub(1) {
                counts[usize::from(c)] += 1;
            }
        }
        // A cipher keeps prose's shape: letters, with a few stops and digits (URLs, paths and
        // code are far more punctuation).
        if sc.letters * 4 < visible * 3 {
            return;
        }
        let letters: i32 = counts.iter().sum();
        let plain = dot(&counts, &ENGLISH_LETTER_LOG);
        // Letters already spread as English's are (code, names, other Latin-script languages):
        // not a substitution. Shifted English averages about -3.9 a letter, prose -2.9.
        if plain >= ENGLISH_LIKE_LETTERS * letters {
            return;
        }
        let Some((best, best_score)) = Substitution::all()
            .map(|sub| {
                let table = match sub {
                    Substitution::Shift(n) => SHIFTED_LETTER_LOG.get(usize::from(n)..usize::from(n) + 26),
                    Substitution::Atbash => Some(&MIRRORED_LETTER_LOG[..]),
                };
                (sub, table.map_or(i32::MIN, |t| dot(&counts, t)))
            })
            .max_by_key(|&(_, v)| v)
        else {
            return;
        };
        if best_score <= plain {
            return;
        }
        let hits = substituted_hits(b, best);
        if hits >= MIN_KNOWN_LETTERS
            && hits as f32 >= MIN_ENGLISH * sc.letters as f32
            && hits >= 2 * sc.plain
            && hits > sc.plain
        {
            f(s, e, best);
        }
    });
}
