//! Bounded recursive decoding of encoded payloads. (stub: replaced by the real module)
use std::time::Duration;
use aimds_runtime::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme { Base64, Base64Url, Hex, Percent, Rot13, UnicodeEscape, HexEscape, Reversed }

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded { pub span: Span, pub scheme: Scheme, pub depth: u8, pub text: String }

#[derive(Debug, Clone)]
pub struct DecodeLimits { pub max_depth: u8, pub max_decoded_bytes: usize, pub max_candidates: usize, pub deadline: Duration }

pub fn decode_layers(_original: &str, _limits: &DecodeLimits) -> Vec<Decoded> { Vec::new() }
