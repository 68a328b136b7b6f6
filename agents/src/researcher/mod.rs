//! The researcher (DESIGN §3): attacks the guard to measure where it has holes. [`mutate`]
//! turns a known attack into variants (encodings, homoglyphs, splitting, paraphrases,
//! documents hiding the attack) for self red-teaming; [`seeds`] are the attacks shipped to
//! start from.

pub mod mutate;
pub mod seeds;
