//! The rule index: what loading learns from each embedded regex before any text is scanned (its
//! gate, whether it has capture groups, the bytes a match can begin with), worked out ahead of
//! time.
//!
//! Why: parsing the embedded patterns (case-insensitive, Unicode classes) and extracting their
//! literal sets was most of `Detector::new`, about 35 of 45 ms on a 2-core machine, and the Claude
//! Code hook starts one process per event. The analysis depends on a pattern's text alone, so it
//! is stored per pattern in `agents/data/rule-index.bin` and compiled into the binary. A pattern
//! that is not in it (an edited rule, a skill loaded at run time) is analysed at load as before.
//! The file also names the code that wrote it (a hash of `rules.rs` and this file without their
//! tests, from `build.rs`), and a build of other code does not read it: every rule is then
//! analysed at load. So a stale index costs start-up time, never a match. The test
//! `embedded_rule_index_is_current` fails when the file differs from a fresh analysis of the
//! embedded skills, and tells how to rewrite it
//! (`AIMDS_UPDATE_RULE_INDEX=1 cargo test -p aimds-agents rule_index`).
//!
//! Format (little-endian): the magic, the analysing code's hash, the number of patterns, then per
//! pattern, sorted by pattern: the pattern ([`Reader::bytes`]), its flags and what they announce
//! (see `encode_analysis`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{Analysis, Gate, LineStart, Lits, Placement, Requirement};

/// The index of the embedded skills' patterns.
pub(super) static EMBEDDED: &[u8] = include_bytes!("../../../data/rule-index.bin");

/// Names the format; a new layout gets a new magic, and an index of another is not read.
const MAGIC: &[u8] = b"aimds rule index 2\n";

/// The analysing code this build holds (`build.rs`): an index written by other code is not read.
const ANALYSIS: &str = env!("AIMDS_RULE_ANALYSIS");

/// The embedded index, read once per process: every [`super::RuleSet::compile`] looks its rules up
/// in it (`None` when it was written by other code, see above).
pub(super) fn embedded() -> Option<&'static RuleIndex<'static>> {
    static INDEX: OnceLock<Option<RuleIndex<'static>>> = OnceLock::new();
    INDEX.get_or_init(|| RuleIndex::read(EMBEDDED)).as_ref()
}

/// Where each pattern's analysis lies in an index.
pub(super) struct RuleIndex<'a> {
    entries: HashMap<&'a str, &'a [u8]>,
}

impl<'a> RuleIndex<'a> {
    /// Reads the table of an index; `None` when it is not one (then every rule is analysed).
    /// Entries are decoded when looked up.
    pub(super) fn read(bytes: &'a [u8]) -> Option<RuleIndex<'a>> {
        let mut r = Reader(bytes.strip_prefix(MAGIC)?);
        if r.bytes()? != ANALYSIS.as_bytes() {
            return None;
        }
        let count = r.u32()?;
        let mut entries = HashMap::with_capacity(count.min(4096) as usize);
        for _ in 0..count {
            let pattern = std::str::from_utf8(r.bytes()?).ok()?;
            let entry = r.bytes()?;
            entries.insert(pattern, entry);
        }
        r.0.is_empty().then_some(RuleIndex { entries })
    }

    /// The stored analysis of `pattern`, if the index has it (and it decodes).
    pub(super) fn get(&self, pattern: &str) -> Option<Analysis> {
        decode_analysis(&mut Reader(self.entries.get(pattern)?))
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// An index of `entries` (pattern, analysis); the same entries give the same bytes in any order.
/// (Only the test that keeps the embedded index current writes one.)
#[cfg(test)]
pub(super) fn encode(entries: &[(&str, &Analysis)]) -> Vec<u8> {
    let mut sorted: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(pattern, analysis)| {
            let mut w = Writer::default();
            encode_analysis(&mut w, analysis);
            (*pattern, w.0)
        })
        .collect();
    sorted.sort();
    sorted.dedup_by(|a, b| a.0 == b.0);
    let mut w = Writer(MAGIC.to_vec());
    w.bytes(ANALYSIS.as_bytes());
    w.len(sorted.len());
    for (pattern, entry) in &sorted {
        w.bytes(pattern.as_bytes());
        w.bytes(entry);
    }
    w.0
}

const GROUPS: u8 = 1;
const PROFILE: u8 = 2;
const GATE: u8 = 4;

/// Flags (`GROUPS`, `PROFILE`, `GATE`); then, if `PROFILE`, the byte profile's length and a
/// 256-bit map per position; then,
/// if `GATE`: the gate literals, the placement, the word-start flag, the requirements (count, then
/// literals and word-start flag each) and the line start (a flag, then its class as a bit map and
/// its two flags).
#[cfg(test)]
fn encode_analysis(w: &mut Writer, a: &Analysis) {
    let flags =
        u8::from(a.groups) * GROUPS + u8::from(a.profile.is_some()) * PROFILE + u8::from(a.gate.is_some()) * GATE;
    w.u8(flags);
    if let Some(profile) = &a.profile {
        w.len(profile.len());
        for set in profile.iter() {
            w.bit_map(set);
        }
    }
    let Some(gate) = &a.gate else { return };
    w.lits(&gate.literals);
    w.bool(gate.placement.at_start);
    w.reach(gate.placement.before);
    w.reach(gate.placement.after);
    w.bool(gate.word_start);
    w.len(gate.require.len());
    for r in &gate.require {
        w.lits(&r.literals);
        w.bool(r.word_start);
    }
    w.bool(gate.line_start.is_some());
    if let Some(line) = &gate.line_start {
        w.bit_map(&line.class);
        w.bool(line.lines);
        w.bool(line.crlf);
    }
}

fn decode_analysis(r: &mut Reader) -> Option<Analysis> {
    let flags = r.u8()?;
    if flags & !(GROUPS | PROFILE | GATE) != 0 {
        return None;
    }
    let profile = if flags & PROFILE != 0 {
        let n = r.u32()? as usize;
        if n > super::PROFILE_BYTES {
            return None;
        }
        let mut sets = Vec::with_capacity(n);
        for _ in 0..n {
            sets.push(r.bit_map()?);
        }
        Some(sets.into_boxed_slice())
    } else {
        None
    };
    let gate = if flags & GATE != 0 {
        let literals = r.lits()?;
        let placement = Placement {
            at_start: r.bool()?,
            before: r.reach()?,
            after: r.reach()?,
        };
        let word_start = r.bool()?;
        let n = r.u32()?;
        // (a scan keeps one bit per requirement next to `OPENED`: more would not fit)
        if n as usize > super::MAX_REQUIREMENTS {
            return None;
        }
        let mut require = Vec::new();
        for _ in 0..n {
            require.push(Requirement {
                literals: r.lits()?,
                word_start: r.bool()?,
            });
        }
        let line_start = if r.bool()? {
            Some(LineStart {
                class: r.bit_map()?,
                lines: r.bool()?,
                crlf: r.bool()?,
            })
        } else {
            None
        };
        Some(Gate {
            literals,
            placement,
            word_start,
            require,
            line_start,
        })
    } else {
        None
    };
    r.0.is_empty().then_some(Analysis {
        gate,
        groups: flags & GROUPS != 0,
        profile,
    })
}

#[cfg(test)]
#[derive(Default)]
struct Writer(Vec<u8>);

#[cfg(test)]
impl Writer {
    fn u8(&mut self, b: u8) {
        self.0.push(b);
    }

    fn bool(&mut self, b: bool) {
        self.0.push(u8::from(b));
    }

    /// A count or length (every one here is far below `u32::MAX`: rules and literals are bounded
    /// at load).
    fn len(&mut self, n: usize) {
        self.0
            .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }

    fn lits(&mut self, lits: &Lits) {
        self.len(lits.len());
        for l in lits.iter() {
            self.bytes(l);
        }
    }

    /// How far a match reaches: 0 for unbounded, else the bytes plus one.
    fn reach(&mut self, n: Option<usize>) {
        let v = n.map_or(0, |n| (n as u64).saturating_add(1));
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn bit_map(&mut self, set: &[bool; 256]) {
        for chunk in set.chunks(8) {
            self.0.push(
                chunk
                    .iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i)),
            );
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(usize::try_from(n).ok()?)
    }

    /// A literal set: never empty, and no literal in it empty (either would shut the rule).
    fn lits(&mut self) -> Option<Lits> {
        let n = self.u32()?;
        // (no capacity from the count: a bad count must not allocate)
        let mut lits = Vec::new();
        for _ in 0..n {
            let l = self.bytes()?;
            if l.is_empty() {
                return None;
            }
            lits.push(l.to_vec());
        }
        (!lits.is_empty()).then(|| lits.into())
    }

    fn reach(&mut self) -> Option<Option<usize>> {
        let v = u64::from_le_bytes(self.take(8)?.try_into().ok()?);
        match v.checked_sub(1) {
            None => Some(None),
            Some(n) => Some(Some(usize::try_from(n).ok()?)),
        }
    }

    fn bit_map(&mut self) -> Option<[bool; 256]> {
        let bits = self.take(32)?;
        let mut set = [false; 256];
        for (i, b) in set.iter_mut().enumerate() {
            *b = bits.get(i / 8).is_some_and(|byte| byte >> (i % 8) & 1 == 1);
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(pattern: &str) -> Analysis {
        super::super::analyse_pattern(pattern).map(|(_, a)| a).unwrap()
    }

    #[test]
    fn an_analysis_reads_back_as_it_was_written() {
        let patterns = [
            r"(?i)\b(?:ignore|disregard)\s+(?:all\s+)?previous\s+instructions",
            r"(?m)^\s*[\[(*]*\s*system\s*:",
            r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}",
            r"(?:^|[^0-9A-Za-z_.\-])([0-9]{3})-[0-9]{2}-[0-9]{4}",
            r"\w+",
        ];
        let analyses: Vec<Analysis> = patterns.iter().map(|p| analysis(p)).collect();
        let entries: Vec<(&str, &Analysis)> = patterns.iter().copied().zip(&analyses).collect();
        let bytes = encode(&entries);
        let index = RuleIndex::read(&bytes).unwrap();
        assert_eq!(index.len(), patterns.len());
        for (p, a) in patterns.iter().zip(&analyses) {
            assert_eq!(index.get(p).as_ref(), Some(a), "{p}");
        }
        assert!(index.get("not indexed").is_none());
        // the same entries in another order, or twice, give the same bytes
        let mut again = entries.clone();
        again.reverse();
        again.extend(entries.iter().take(2).copied());
        assert_eq!(encode(&again), bytes);
    }

    #[test]
    fn a_damaged_index_is_not_read() {
        let a = analysis(r"(?i)\bsystem\s+prompt\b");
        let bytes = encode(&[("p", &a)]);
        // another magic, a cut, bytes left over, a count beyond the data
        let mut other = bytes.clone();
        other[0] ^= 1;
        assert!(RuleIndex::read(&other).is_none());
        for cut in 0..bytes.len() {
            let read = RuleIndex::read(&bytes[..cut]);
            assert!(read.is_none_or(|i| i.get("p").is_none()), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(RuleIndex::read(&longer).is_none());
        let mut counted = MAGIC.to_vec();
        counted.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(RuleIndex::read(&counted).is_none());
        // an entry with a flag no version writes, or a bool that is neither 0 nor 1
        let mut flags = Writer(MAGIC.to_vec());
        flags.bytes(ANALYSIS.as_bytes());
        flags.len(1);
        flags.bytes(b"p");
        flags.bytes(&[0x80]);
        assert!(RuleIndex::read(&flags.0).is_some_and(|i| i.get("p").is_none()));
        let mut r = Reader(&[2]);
        assert!(r.bool().is_none());
        // no literals, an empty literal
        assert!(Reader(&[0, 0, 0, 0]).lits().is_none());
        assert!(Reader(&[1, 0, 0, 0, 0, 0, 0, 0]).lits().is_none());
    }

    /// An index written by other analysing code (an edit of `rules.rs` not followed by a rewrite of
    /// the file) is not read, and neither is one with more requirements than a scan keeps.
    #[test]
    fn an_index_of_other_code_or_too_many_requirements_is_not_read() {
        let a = analysis(r"(?i)\bsystem\s+prompt\b");
        let bytes = encode(&[("p", &a)]);
        let mut other = MAGIC.to_vec();
        let mut w = Writer::default();
        w.bytes(b"0123456789abcdef");
        other.extend_from_slice(&w.0);
        other.extend_from_slice(&bytes[MAGIC.len() + 4 + ANALYSIS.len()..]);
        assert!(RuleIndex::read(&bytes).is_some());
        assert!(RuleIndex::read(&other).is_none());

        let gate = a.gate.clone().unwrap();
        let requirement = Requirement {
            literals: gate.literals.clone(),
            word_start: true,
        };
        let many = Analysis {
            gate: Some(Gate {
                require: vec![requirement; super::super::MAX_REQUIREMENTS + 1],
                ..gate
            }),
            ..a
        };
        let bytes = encode(&[("p", &many)]);
        assert!(RuleIndex::read(&bytes).is_some_and(|i| i.get("p").is_none()));
    }
}
