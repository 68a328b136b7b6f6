//! Text smuggled in invisible characters: variation selectors and invisible-operator bits, each
//! run read as the bytes it carries.

use super::is_text_like;

/// Fewest bytes a run of invisible characters must carry to be read as smuggled text (one per
/// variation selector: an emoji or CJK variant takes one, U+FE0F after "❤", never this many).
pub(super) const MIN_SMUGGLED_BYTES: usize = 8;

/// The text smuggled in a run of invisible characters as variation selectors, one byte each
/// (`run`: the run's original text; other invisible characters in it are skipped). Two
/// conventions are in use: VS1–VS16 (U+FE00–FE0F) carry 0–15 and VS17–VS256 (U+E0100–E01EF)
/// 16–255 (emoji smuggling: the bytes ride after one emoji and display as it alone), or
/// U+E0100 + byte for every byte (garak's `InjectUnicodeVariantSelectors`). The reading that
/// decodes to text ([`is_text_like`]) wins, the first one on a tie; `None` when neither does
/// or the run has fewer than `MIN_SMUGGLED_BYTES` (8) selectors.
pub fn variation_selector_payload(run: &str) -> Option<String> {
    let selectors = || {
        run.chars().filter_map(|c| match u32::from(c) {
            cp @ 0xFE00..=0xFE0F => Some((cp - 0xFE00, false)),
            cp @ 0xE0100..=0xE01EF => Some((cp - 0xE0100, true)),
            _ => None,
        })
    };
    // (enough of them)
    selectors().nth(MIN_SMUGGLED_BYTES - 1)?;
    let read = |shift_supplement: bool| {
        let bytes: Vec<u8> = selectors()
            .filter_map(|(v, supplement)| {
                let b = if supplement && shift_supplement { v + 16 } else { v };
                u8::try_from(b).ok()
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        is_text_like(&text).then_some(text)
    };
    read(true).or_else(|| read(false))
}

/// Bits (0 or 1), most significant first, into bytes of eight; trailing bits short of a byte are
/// dropped, and packing stops at `cap` bytes.
pub(super) fn pack_bits(bits: impl Iterator<Item = u8>, cap: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let (mut byte, mut count) = (0u8, 0u8);
    for bit in bits {
        byte = (byte << 1) | bit;
        count += 1;
        if count == 8 {
            bytes.push(byte);
            (byte, count) = (0, 0);
            if bytes.len() >= cap {
                break;
            }
        }
    }
    bytes
}

/// The text smuggled in a run of invisible characters as bits, eight per UTF-8 byte, most
/// significant first: INVISIBLE TIMES (U+2062) for 0 and INVISIBLE PLUS (U+2064) for 1 ("Sneaky
/// Bits"; PyRIT's `SneakyBitsSmugglerConverter`). Other invisible characters in the run are
/// skipped, trailing bits short of a byte dropped; `None` unless at least
/// `MIN_SMUGGLED_BYTES` (8) bytes decode to text.
pub fn invisible_bits_payload(run: &str) -> Option<String> {
    let bits = run.chars().filter_map(|c| match c {
        '\u{2062}' => Some(0),
        '\u{2064}' => Some(1),
        _ => None,
    });
    let bytes = pack_bits(bits, usize::MAX);
    if bytes.len() < MIN_SMUGGLED_BYTES {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    is_text_like(&text).then_some(text)
}
