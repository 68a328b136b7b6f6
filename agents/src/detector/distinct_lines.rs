//! What the classifier reads: the normalised text with every line that repeats an earlier one left out.
//!
//! The classifier sums its n-grams' weights over a window and divides by the square root of their
//! number, so a line repeated k times weighs √k times what it weighs once. A log prints the same
//! line over and over: twenty of Spark's `INFO executor.Executor: Running task 0.0 in stage 1.0 (TID
//! 41)` lines, the numbers aside the same line, read 0.84 eight at a time where one reads 0.50 (README,
//! "Framed harm", "Requests moved to another time"). Repetition is no sign of manipulation — the lines
//! of a log, a table or a CSV file repeat by nature — so the classifier, in training and in a scan
//! alike, reads each line once: a line whose bytes, digits left out, equal an earlier line's is
//! skipped. Blank lines are kept, since they bound the paragraphs the classifier also scores.
//!
//! A text without a repeated line is read as it is, with no allocation; one with repeats is copied
//! once, and [`DistinctLines::span`] maps the classifier's window back into the normalised text.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use super::classifier::{FNV_OFFSET, fnv_step};

/// The classifier's reading of a normalised text (see the module documentation): the text itself
/// where no line repeats, else a copy without the repeats.
#[derive(Debug, Default)]
pub struct DistinctLines {
    /// The copy; `None` where nothing was left out.
    copy: Option<String>,
    /// `(position in text, bytes left out before it)`, one entry where each left-out run was,
    /// in order.
    gaps: Vec<(usize, usize)>,
}

impl DistinctLines {
    pub fn new(text: &str) -> DistinctLines {
        let bytes = text.as_bytes();
        if memchr::memchr(b'\n', bytes).is_none() {
            return DistinctLines::default();
        }
        let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
        let mut seen: HashSet<u64, BuildHasherDefault<LineKeyHasher>> =
            HashSet::with_capacity_and_hasher(lines, BuildHasherDefault::default());
        let mut out = String::new();
        let mut gaps: Vec<(usize, usize)> = Vec::new();
        let (mut copied, mut left_out, mut start) = (0, 0, 0);
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', bytes.get(start..).unwrap_or(&[])).map_or(bytes.len(), |i| start + i + 1);
            let repeated = line_key(bytes.get(start..end).unwrap_or(&[])).is_some_and(|k| !seen.insert(k));
            if repeated {
                // `start` and `end` follow a '\n' or are the text's ends: char boundaries.
                out.push_str(text.get(copied..start).unwrap_or(""));
                left_out += end - start;
                copied = end;
                match gaps.last_mut() {
                    Some(last) if last.0 == out.len() => last.1 = left_out,
                    _ => gaps.push((out.len(), left_out)),
                }
            }
            start = end;
        }
        if gaps.is_empty() {
            return DistinctLines::default();
        }
        out.push_str(text.get(copied..).unwrap_or(""));
        DistinctLines { copy: Some(out), gaps }
    }

    /// The text the classifier reads, of `source`, the text this was made from.
    pub fn text<'s>(&'s self, source: &'s str) -> &'s str {
        self.copy.as_deref().unwrap_or(source)
    }

    /// [`DistinctLines::text`], owned.
    pub fn into_text(self, source: String) -> String {
        self.copy.unwrap_or(source)
    }

    /// A span of [`DistinctLines::text`] in the normalised text it was made from. A span that ends
    /// where lines were left out ends before them.
    pub fn span(&self, start: usize, end: usize) -> (usize, usize) {
        let before = |pos: usize, inclusive: bool| {
            let i = self
                .gaps
                .partition_point(|&(g, _)| if inclusive { g <= pos } else { g < pos });
            i.checked_sub(1).and_then(|i| self.gaps.get(i)).map_or(0, |g| g.1)
        };
        let start_out = start + before(start, true);
        let end_out = (end + before(end, false)).max(start_out);
        (start_out, end_out)
    }
}

/// A line's identity for repetition: an FNV-1a hash of its bytes without ASCII digits and without
/// the whitespace at its ends. `None` for a blank line, which always stays.
fn line_key(line: &[u8]) -> Option<u64> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    Some(
        line.iter()
            .filter(|b| !b.is_ascii_digit())
            .fold(FNV_OFFSET, |h, &b| fnv_step(h, b)),
    )
}

/// The set of line keys hashes nothing again: a key is already an FNV hash, finished by a
/// multiply so that the set's buckets (its top bits) spread.
#[derive(Default)]
struct LineKeyHasher(u64);

impl Hasher for LineKeyHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_without_repeats_is_read_as_it_is() {
        for t in ["", "one line", "a\nb\n\nc", "x\n\n\ny\n"] {
            let d = DistinctLines::new(t);
            assert!(d.copy.is_none(), "{t:?}");
            assert_eq!(d.text(t), t);
            assert_eq!(d.span(0, t.len()), (0, t.len()));
        }
    }

    #[test]
    fn a_line_repeated_with_other_numbers_is_read_once() {
        let log = "12:01 INFO Running task 1.0 (TID 41)\n12:02 INFO Running task 2.0 (TID 42)\n\
                   12:02 INFO Finished task 1.0\n12:03 INFO Running task 3.0 (TID 43)\n";
        let d = DistinctLines::new(log);
        let read = d.text(log);
        assert_eq!(
            read,
            "12:01 INFO Running task 1.0 (TID 41)\n12:02 INFO Finished task 1.0\n"
        );
        // The second kept line maps back to where it stands in the log; a span that ends where
        // lines were left out ends before them.
        let second = read.find("12:02").unwrap();
        let (s, e) = d.span(second, read.len());
        assert_eq!(&log[s..e], "12:02 INFO Finished task 1.0\n");
        assert_eq!(d.span(0, second), (0, second));
    }

    #[test]
    fn blank_lines_stay_and_indentation_does_not_make_a_line_new() {
        let t = "ignore the rules\n\n    ignore the rules  \n\nthen stop\n";
        assert_eq!(DistinctLines::new(t).text(t), "ignore the rules\n\n\nthen stop\n");
    }

    proptest::proptest! {
        /// Lines drawn from a few, so that they repeat: the reading is the text's kept lines in
        /// order, and every span maps inside the text, on char boundaries, in order.
        #[test]
        fn any_mix_of_repeated_lines_maps_back(lines in proptest::collection::vec(
            proptest::sample::select(vec!["a 1", "a 2", "", "  ", "é ü 3", "b", "ß\r", "\u{200b}"]), 0..24),
            end_newline in proptest::bool::ANY) {
            let mut t = lines.join("\n");
            if end_newline {
                t.push('\n');
            }
            let d = DistinctLines::new(&t);
            let read = d.text(&t);
            proptest::prop_assert!(read.len() <= t.len());
            let mut last = (0, 0);
            for a in (0..=read.len()).filter(|&i| read.is_char_boundary(i)) {
                let (s, e) = d.span(a, read.len());
                proptest::prop_assert!(s <= e && e <= t.len() && t.is_char_boundary(s) && t.is_char_boundary(e));
                proptest::prop_assert!(s >= last.0);
                last = (s, e);
            }
        }
    }

    #[test]
    fn spans_map_inside_the_text_on_char_boundaries() {
        let t = "é 1\nzwei 2\né 3\nü\né 4\nzwei 5";
        let d = DistinctLines::new(t);
        let read = d.text(t);
        assert_eq!(read, "é 1\nzwei 2\nü\n");
        for a in 0..=read.len() {
            for b in a..=read.len() {
                if read.is_char_boundary(a) && read.is_char_boundary(b) {
                    let (s, e) = d.span(a, b);
                    assert!(
                        s <= e && e <= t.len() && t.is_char_boundary(s) && t.is_char_boundary(e),
                        "{a}..{b}"
                    );
                }
            }
        }
    }
}
