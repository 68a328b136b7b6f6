//! How English a text reads: the embedded word list, its hash tables, per-sentence scores of
//! the text as it stands, as ROT13 and reversed, and the tests built on them.

use super::{MIN_ENGLISH, MIN_TRANSFORM_LETTERS, Scheme, is_text_like};
use crate::detector::suffix::Vocabulary;

pub(super) fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='m' | 'A'..='M' => (c as u8 + 13) as char,
            'n'..='z' | 'N'..='Z' => (c as u8 - 13) as char,
            _ => c,
        })
        .collect()
}

/// Frequent English words and the vocabulary of prompt injections (lowercase, at most 12 letters).
pub(super) const WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "access",
    "act",
    "after",
    "again",
    "all",
    "also",
    "always",
    "am",
    "an",
    "and",
    "answer",
    "any",
    "are",
    "as",
    "ask",
    "assistant",
    "at",
    "back",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "bypass",
    "call",
    "can",
    "code",
    "come",
    "command",
    "confidential",
    "could",
    "data",
    "day",
    "delete",
    "developer",
    "did",
    "disregard",
    "do",
    "does",
    "done",
    "down",
    "each",
    "email",
    "even",
    "every",
    "execute",
    "file",
    "filter",
    "find",
    "first",
    "for",
    "forget",
    "from",
    "full",
    "get",
    "give",
    "go",
    "good",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "hidden",
    "him",
    "his",
    "how",
    "i",
    "if",
    "ignore",
    "in",
    "information",
    "instead",
    "instruction",
    "instructions",
    "into",
    "is",
    "it",
    "its",
    "just",
    "key",
    "know",
    "last",
    "like",
    "list",
    "long",
    "look",
    "made",
    "make",
    "many",
    "may",
    "me",
    "message",
    "mode",
    "more",
    "most",
    "much",
    "must",
    "my",
    "name",
    "need",
    "never",
    "new",
    "next",
    "no",
    "not",
    "now",
    "of",
    "off",
    "old",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "output",
    "over",
    "override",
    "part",
    "password",
    "people",
    "please",
    "pretend",
    "previous",
    "print",
    "prior",
    "private",
    "prompt",
    "rather",
    "read",
    "really",
    "repeat",
    "respond",
    "response",
    "reveal",
    "right",
    "role",
    "rules",
    "safety",
    "said",
    "same",
    "say",
    "secret",
    "secrets",
    "see",
    "send",
    "she",
    "should",
    "show",
    "so",
    "some",
    "something",
    "still",
    "such",
    "system",
    "take",
    "talk",
    "tell",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "think",
    "this",
    "those",
    "through",
    "time",
    "to",
    "token",
    "too",
    "two",
    "under",
    "unrestricted",
    "up",
    "upon",
    "us",
    "use",
    "user",
    "very",
    "want",
    "was",
    "way",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "without",
    "word",
    "words",
    "work",
    "would",
    "write",
    "year",
    "yes",
    "you",
    "your",
];

pub(super) const TABLE_BITS: u32 = 10;
pub(super) const TABLE_SIZE: usize = 1 << TABLE_BITS;
pub(super) const MAX_WORD_LETTERS: usize = 12;
/// Letters of known words a transformed reading needs before it counts as English.
pub(super) const MIN_KNOWN_LETTERS: usize = 8;

/// A lowercase ASCII word packed 5 bits per letter (letters are 1..=26, so lengths differ).
pub(super) const fn pack_word(w: &[u8]) -> u64 {
    let mut key = 0u64;
    let mut i = 0;
    while i < w.len() {
        key = (key << 5) | (w[i] - b'a' + 1) as u64;
        i += 1;
    }
    key
}

pub(super) const fn slot(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

/// Where `key` goes in an open-addressing `table` of packed keys: its own slot, or the first
/// empty one on its probe path (the table is never full: a few hundred keys in 1,024 slots).
pub(super) const fn insert_slot(table: &[u64; TABLE_SIZE], key: u64) -> usize {
    let mut s = slot(key);
    while table[s] != 0 && table[s] != key {
        s = (s + 1) & (TABLE_SIZE - 1);
    }
    s
}

/// Open-addressing set of packed words, built at compile time.
pub(super) const fn build_table(words: &[&str]) -> [u64; TABLE_SIZE] {
    let mut table = [0u64; TABLE_SIZE];
    let mut i = 0;
    while i < words.len() {
        let key = pack_word(words[i].as_bytes());
        table[insert_slot(&table, key)] = key;
        i += 1;
    }
    table
}

pub(super) static WORD_TABLE: [u64; TABLE_SIZE] = build_table(WORDS);

/// Words for reading leetspeak, with [`WORDS`]: the vocabulary of jailbreaks and injections that a
/// frequent-word list lacks, including the override and extraction words of the multilingual rules
/// (Spanish, French, German, Portuguese, Italian, Dutch; accents stripped, as the normaliser leaves
/// them): "!gnoriere" and "0u8|!e" read as "ignoriere" and "oublie" only if the vocabulary knows
/// them. Kept apart from [`WORDS`], which the ROT13 and reversal scores use.
pub(super) const LEET_WORDS: &[&str] = &[
    "activation",
    "admin",
    "affiche",
    "agent",
    "alle",
    "alles",
    "allowed",
    "anterieures",
    "anteriores",
    "anweisung",
    "anweisungen",
    "anyone",
    "anything",
    "approve",
    "archive",
    "assistant",
    "befehle",
    "bisherigen",
    "bypass",
    "called",
    "censored",
    "character",
    "command",
    "commands",
    "comment",
    "confidential",
    "consignes",
    "content",
    "contents",
    "context",
    "credentials",
    "dangerous",
    "delete",
    "dimentica",
    "disable",
    "disabled",
    "disregard",
    "document",
    "earlier",
    "eerdere",
    "enable",
    "enabled",
    "esqueca",
    "ethical",
    "ethics",
    "everything",
    "evil",
    "execute",
    "exploit",
    "filter",
    "filters",
    "follow",
    "following",
    "forbidden",
    "forget",
    "forward",
    "grandmother",
    "guidelines",
    "hack",
    "hacker",
    "harmful",
    "hidden",
    "ignora",
    "ignorez",
    "ignoriere",
    "ignoriert",
    "illegal",
    "include",
    "initial",
    "insert",
    "instrucoes",
    "instructies",
    "istruzioni",
    "jailbreak",
    "jailbroken",
    "keys",
    "kill",
    "leak",
    "limit",
    "limits",
    "malware",
    "mention",
    "messages",
    "mode",
    "model",
    "moral",
    "mostra",
    "mostre",
    "muestra",
    "negeer",
    "obigen",
    "olvida",
    "olvide",
    "omite",
    "oublie",
    "oubliez",
    "override",
    "password",
    "passwords",
    "policies",
    "policy",
    "precedentes",
    "precedenti",
    "pretend",
    "previas",
    "print",
    "processing",
    "prompt",
    "reading",
    "recommend",
    "refuse",
    "refuses",
    "regeln",
    "regels",
    "reglas",
    "regles",
    "regole",
    "regras",
    "replace",
    "repository",
    "request",
    "restricted",
    "restriction",
    "restrictions",
    "reveal",
    "revela",
    "revele",
    "rivela",
    "roleplay",
    "rules",
    "safe",
    "safety",
    "secret",
    "secrets",
    "shell",
    "shit",
    "simulate",
    "sistema",
    "steal",
    "summarise",
    "summarize",
    "systeem",
    "system",
    "systeme",
    "ticket",
    "todas",
    "token",
    "tokens",
    "tool",
    "toon",
    "toutes",
    "tutte",
    "unfiltered",
    "unlimited",
    "unlocked",
    "unrestricted",
    "upload",
    "vergeet",
    "vergesst",
    "vergiss",
    "vorherigen",
    "vorige",
    "weapon",
    "weapons",
    "will",
    "without",
    "zeige",
];

pub(super) static LEET_TABLE: [u64; TABLE_SIZE] = build_table(LEET_WORDS);

pub(super) fn is_known_word(key: u64) -> bool {
    in_table(&WORD_TABLE, key)
}

/// Whether `word` (lowercase ASCII letters) is a frequent English word or one of the vocabulary
/// of attacks: the normaliser's test of a leetspeak reading ("f0|10w" is "follow").
pub(crate) fn is_vocabulary_word(word: &[u8]) -> bool {
    if word.is_empty() || word.len() > MAX_WORD_LETTERS || !word.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    is_vocabulary_key(pack_word(word))
}

/// Whether a word game's reading of a word (lowercase ASCII letters) is a word: one of the
/// vocabulary, or, from three letters, of the larger English list when the detector has one (the
/// jailbreak skill's `english-words.txt`, 20,000 words of benign English text; its one- and
/// two-letter entries are mostly code's abbreviations, so they do not count).
pub(super) fn is_word(word: &[u8], more: Option<&Vocabulary>) -> bool {
    is_vocabulary_word(word) || (word.len() >= 3 && more.is_some_and(|v| v.contains_lowercase(word)))
}

/// [`is_vocabulary_word`] for a word already packed by [`pack_word`].
pub(super) fn is_vocabulary_key(key: u64) -> bool {
    in_table(&WORD_TABLE, key) || in_table(&LEET_TABLE, key)
}

pub(super) fn in_table(table: &[u64; TABLE_SIZE], key: u64) -> bool {
    find_slot(table, key).is_some()
}

/// The slot of `key` in an open-addressing `table` of packed keys, if it is there.
pub(super) fn find_slot(table: &[u64; TABLE_SIZE], key: u64) -> Option<usize> {
    let mut s = slot(key);
    for _ in 0..TABLE_SIZE {
        match table.get(s) {
            Some(&v) if v == key => return Some(s),
            Some(&0) | None => return None,
            Some(_) => s = (s + 1) & (TABLE_SIZE - 1),
        }
    }
    None
}

/// Letters in known words of a text read as is, as ROT13 and reversed. Weighting by letters
/// keeps one- and two-letter coincidences ("v" is "i" in ROT13, "os" is "so" reversed) from
/// making code look like English.
///
/// The same pass measures the word shapes that the word-game readers (`pig_latin.rs`,
/// `vowelless.rs`, `unspaced.rs`) look for, so that a line without them costs those readers
/// nothing: the longest streaks of consecutive words of two letters or more without a vowel, of
/// words of three or more that end in "ay" (one-letter words neither extend nor break either
/// streak), of one-letter words one byte apart ("I.g.n.o.r.e"), and the longest word.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scores {
    pub(super) letters: usize,
    pub(super) plain: usize,
    pub(super) rot13: usize,
    pub(super) reversed: usize,
    pub(super) vowelless_run: usize,
    pub(super) ay_run: usize,
    pub(super) spelled_run: usize,
    pub(super) longest: usize,
}

/// Whether a lowercase ASCII letter is a vowel (a, e, i, o, u: what the word games drop or move).
pub(super) const fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Bit `code` set for the letter codes of a, e, i, o and u.
pub(super) const VOWEL_CODES: u32 = (1 << 1) | (1 << 5) | (1 << 9) | (1 << 15) | (1 << 21);

/// Per byte: 0 for anything but an ASCII letter, else the letter's code 1..=26 (either case).
pub(super) const fn letter_codes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'a' as usize + i] = i as u8 + 1;
        t[b'A' as usize + i] = i as u8 + 1;
        i += 1;
    }
    t
}

pub(super) static LETTER_CODE: [u8; 256] = letter_codes();

/// The ROT13 of each letter code (index 1..=26).
pub(super) const fn rot13_codes() -> [u8; 27] {
    let mut t = [0u8; 27];
    let mut l = 0;
    while l < 26 {
        t[l + 1] = ((l + 13) % 26 + 1) as u8;
        l += 1;
    }
    t
}

pub(super) static ROT13_CODE: [u8; 27] = rot13_codes();

impl Scores {
    pub(super) fn of(b: &[u8]) -> Scores {
        let mut s = Scores::default();
        let (mut plain, mut rot, mut rev, mut len) = (0u64, 0u64, 0u64, 0usize);
        // word-game streaks so far, and where the last word ended; all read at word ends only
        let (mut vowelless, mut ay, mut spelled, mut last_end) = (0usize, 0usize, 0usize, usize::MAX);
        for (i, &x) in b.iter().chain(std::iter::once(&b' ')).enumerate() {
            let code = LETTER_CODE[usize::from(x)];
            if code != 0 {
                if len < MAX_WORD_LETTERS {
                    let code = u64::from(code);
                    plain = (plain << 5) | code;
                    rot = (rot << 5) | u64::from(ROT13_CODE[code as usize]);
                    rev |= code << (5 * len);
                }
                len += 1;
                s.letters += 1;
                continue;
            }
            if len > 0 {
                if len <= MAX_WORD_LETTERS {
                    s.plain += len * usize::from(is_known_word(plain));
                    s.rot13 += len * usize::from(is_known_word(rot));
                    s.reversed += len * usize::from(is_known_word(rev));
                }
                s.longest = s.longest.max(len);
                if len == 1 {
                    // after a one-letter word that ended one byte before this one
                    spelled = if spelled > 0 && last_end.wrapping_add(2) == i {
                        spelled + 1
                    } else {
                        1
                    };
                    s.spelled_run = s.spelled_run.max(spelled);
                } else {
                    let word = b.get(i - len..i).unwrap_or(&[]);
                    let vowel = word
                        .iter()
                        .any(|&c| (VOWEL_CODES >> LETTER_CODE[usize::from(c)]) & 1 != 0);
                    let ends_in_ay = matches!(word, [.., a, y] if a | 0x20 == b'a' && y | 0x20 == b'y');
                    spelled = 0;
                    vowelless = if vowel { 0 } else { vowelless + 1 };
                    ay = if len >= 3 && ends_in_ay { ay + 1 } else { 0 };
                    s.vowelless_run = s.vowelless_run.max(vowelless);
                    s.ay_run = s.ay_run.max(ay);
                }
                last_end = i;
                (plain, rot, rev, len) = (0, 0, 0, 0);
            }
        }
        s
    }

    pub(super) fn add(&mut self, o: &Scores) {
        self.letters += o.letters;
        self.plain += o.plain;
        self.rot13 += o.rot13;
        self.reversed += o.reversed;
        self.vowelless_run = self.vowelless_run.max(o.vowelless_run);
        self.ay_run = self.ay_run.max(o.ay_run);
        self.spelled_run = self.spelled_run.max(o.spelled_run);
        self.longest = self.longest.max(o.longest);
    }

    /// Letters in known words of the `scheme` reading (0 for other schemes).
    pub(super) fn hits(&self, scheme: Scheme) -> usize {
        match scheme {
            Scheme::Rot13 => self.rot13,
            Scheme::Reversed => self.reversed,
            _ => 0,
        }
    }

    /// The transformed reading is English enough and twice as English as the text itself.
    pub(super) fn reads_better_as(&self, scheme: Scheme) -> bool {
        let hits = match scheme {
            Scheme::Rot13 => self.rot13,
            Scheme::Reversed => self.reversed,
            _ => return false,
        };
        self.letters >= MIN_TRANSFORM_LETTERS
            && hits >= MIN_KNOWN_LETTERS
            && hits as f32 >= MIN_ENGLISH * self.letters as f32
            && hits >= 2 * self.plain
            && hits > self.plain
    }
}

/// Calls `f(start, end, scores)` for each sentence of a line: the stretches between sentence
/// punctuation (`.`, `!`, `?`, `:` or `;`) next to a space, in either order so that reversed
/// text splits too. Sentences break only between words, so their scores add up to the line's.
pub(super) fn for_each_sentence(line: &[u8], mut f: impl FnMut(usize, usize, Scores)) {
    let is_stop = |b: &u8| matches!(b, b'.' | b'!' | b'?' | b':' | b';');
    let mut start = 0;
    let mut i = 0;
    while let Some(p) = line.get(i..).and_then(|rest| rest.iter().position(is_stop)) {
        let at = i + p;
        // "word. Next" breaks after the stop, "txet. ,desrever" before it
        let cut = if line.get(at + 1) == Some(&b' ') {
            Some(at + 1)
        } else if at > 0 && line.get(at - 1) == Some(&b' ') {
            Some(at)
        } else {
            None
        };
        if let Some(cut) = cut.filter(|&c| c > start) {
            f(start, cut, Scores::of(line.get(start..cut).unwrap_or(&[])));
            start = cut;
        }
        i = at + 1;
    }
    f(start, line.len(), Scores::of(line.get(start..).unwrap_or(&[])));
}

/// The runs of consecutive sentences that each read better as `scheme` than as they are, whose
/// sum reads as English that way ([`Scores::reads_better_as`]): `f(start, end)` for each.
pub(super) fn transformed_runs(sentences: &[(usize, usize, Scores)], scheme: Scheme, mut f: impl FnMut(usize, usize)) {
    sentence_runs(
        sentences,
        |sc| sc.hits(scheme) > sc.plain,
        |s, e, sc| {
            if sc.reads_better_as(scheme) {
                f(s, e);
            }
        },
    );
}

/// Runs of consecutive sentences that each pass `joins`, with their scores added up:
/// `each(start, end, scores)` for every run, in order.
pub(super) fn sentence_runs(
    sentences: &[(usize, usize, Scores)],
    joins: impl Fn(&Scores) -> bool,
    mut each: impl FnMut(usize, usize, Scores),
) {
    let mut run: Option<(usize, usize, Scores)> = None;
    for &(s, e, sc) in sentences {
        if joins(&sc) {
            match &mut run {
                Some(r) => {
                    r.1 = e;
                    r.2.add(&sc);
                }
                None => run = Some((s, e, sc)),
            }
        } else if let Some((s, e, sc)) = run.take() {
            each(s, e, sc);
        }
    }
    if let Some((s, e, sc)) = run {
        each(s, e, sc);
    }
}

/// A reading kept only when it is English text: the test of schemes whose candidates are mostly
/// something else (numbers, phonetic transcriptions).
pub(super) fn reads_as_english(text: &str) -> bool {
    english_likeness(text) >= MIN_ENGLISH && is_text_like(text)
}

/// Share of a text's ASCII letters that belong to frequent English (or injection) words.
pub fn english_likeness(text: &str) -> f32 {
    let s = Scores::of(text.as_bytes());
    if s.letters == 0 {
        0.0
    } else {
        s.plain as f32 / s.letters as f32
    }
}
