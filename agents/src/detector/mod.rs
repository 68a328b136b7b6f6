//! The fast-path detector. (skeleton: filled in by the detection-core work)
pub mod decode;
pub mod normalize;
pub mod rules;
pub mod skills;
pub mod validate;

use aimds_runtime::Finding;

#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error(transparent)]
    Skill(#[from] skills::SkillError),
}

#[derive(Debug, Clone, Default)]
pub struct Detection { pub findings: Vec<Finding>, pub risk: f32 }

pub struct Detector;
