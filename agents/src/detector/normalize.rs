//! Text normalisation with a byte map back to the original text. (stub: replaced by the real module)
use aimds_runtime::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenKind { ZeroWidth, Bidi, TagChars }

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden { pub span: Span, pub kind: HiddenKind, pub payload: Option<String> }

#[derive(Debug, Clone)]
pub struct Normalized { pub text: String, offsets: Vec<u32>, original_len: usize, pub hidden: Vec<Hidden> }

impl Normalized {
    pub fn new(original: &str) -> Normalized {
        let text = original.to_lowercase();
        let offsets = Vec::new();
        Normalized { text, offsets, original_len: original.len(), hidden: Vec::new() }
    }
    pub fn to_original(&self, start: usize, end: usize) -> Span {
        let _ = &self.offsets;
        Span::new(start.min(self.original_len), end.min(self.original_len))
    }
}
