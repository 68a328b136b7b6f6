//! uuencoded lines: a length character, then four characters per three bytes.

use super::{Candidate, Scheme, finish};

/// A uuencoded line: its first char gives the byte count (`!`–`M`: 1–45), and exactly four
/// chars in `` `-` ``…`` ` `` per three bytes follow (trailing padding may be trimmed to the
/// count's need). Returns the byte count.
pub(super) fn uuencoded_line(line: &[u8]) -> Option<usize> {
    let (&first, body) = line.split_first()?;
    let n = usize::from(first.checked_sub(32)?);
    if !(1..=45).contains(&n) {
        return None;
    }
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let need = n.div_ceil(3) * 4;
    let body = body.get(..need)?;
    body.iter().all(|x| (b' '..=b'`').contains(x)).then_some(n)
}

/// Runs of uuencoded lines holding at least 16 bytes (a `begin`/`end` frame is not required).
pub(super) fn scan_uuencode(b: &[u8], out: &mut Vec<Candidate>) {
    let (mut run_start, mut run_bytes, mut run_end) = (0usize, 0usize, 0usize);
    let mut line_start = 0usize;
    let flush = |start: usize, end: usize, bytes: usize, out: &mut Vec<Candidate>| {
        if bytes >= 16 {
            out.push(Candidate {
                start,
                end,
                scheme: Scheme::Uuencode,
            });
        }
    };
    while line_start < b.len() {
        let line_end = b
            .get(line_start..)
            .and_then(|r| memchr::memchr(b'\n', r))
            .map_or(b.len(), |p| line_start + p);
        let line = b.get(line_start..line_end).unwrap_or(&[]);
        // only lines as long as their count says (a prose line with a capital first letter has
        // lowercase letters, which uuencode never writes)
        match uuencoded_line(line).filter(|&n| line.len() <= n.div_ceil(3) * 4 + 2) {
            Some(n) => {
                if run_bytes == 0 {
                    run_start = line_start;
                }
                run_bytes += n;
                run_end = line_end;
            }
            None => {
                flush(run_start, run_end, run_bytes, out);
                run_bytes = 0;
            }
        }
        line_start = line_end + 1;
    }
    flush(run_start, run_end, run_bytes, out);
}

pub(super) fn decode_uuencode(region: &str, cap: usize) -> (Option<String>, usize) {
    let mut out = Vec::with_capacity((region.len() / 4 * 3).min(cap));
    let mut truncated = false;
    for line in region.as_bytes().split(|&x| x == b'\n') {
        let Some(n) = uuencoded_line(line) else { continue };
        if out.len() + n > cap {
            truncated = true;
            break;
        }
        let body = line.get(1..1 + n.div_ceil(3) * 4).unwrap_or(&[]);
        // whole groups of three bytes, then the line's count keeps the ones it holds
        let line_start = out.len();
        for quad in body.chunks(4) {
            let v = |k: usize| quad.get(k).map_or(0, |&c| u32::from(c.wrapping_sub(32) & 0x3F));
            let word = v(0) << 18 | v(1) << 12 | v(2) << 6 | v(3);
            out.extend_from_slice(&word.to_be_bytes()[1..]);
        }
        out.truncate(line_start + n);
    }
    let produced = out.len();
    (finish(out, truncated), produced)
}
