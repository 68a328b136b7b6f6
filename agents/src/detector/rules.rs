//! Multi-pattern matching of all skill rules at once. (stub)
use super::skills::{RuleDef, SkillError, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHit { pub rule: usize, pub target: Target, pub start: usize, pub end: usize }

#[derive(Debug)]
pub struct RuleSet { rules: Vec<RuleDef> }

impl RuleSet {
    pub fn compile(rules: Vec<RuleDef>) -> Result<RuleSet, SkillError> { Ok(RuleSet { rules }) }
    pub fn rules(&self) -> &[RuleDef] { &self.rules }
    pub fn scan(&self, _normalized: &str, _raw: &str, _out: &mut Vec<RuleHit>) {}
}
