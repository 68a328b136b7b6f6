//! `aimds skills list`: the skills the detector loaded, with their rule counts.

use std::path::Path;

use crate::Guard;

#[derive(Debug, clap::Subcommand)]
pub enum SkillsCommand {
    /// Show the loaded skills with rule counts.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: SkillsCommand, config: Option<&Path>) -> anyhow::Result<i32> {
    let guard = Guard::from_config_file(config)?;
    let SkillsCommand::List { json } = cmd;
    let skills = guard.detector().skills();
    if json {
        println!("{}", serde_json::to_string_pretty(skills)?);
        return Ok(super::exit::OK);
    }
    println!(
        "{:<20} {:<20} {:>7} {:>6}  description",
        "skill", "category", "version", "rules"
    );
    for s in skills {
        let assets = if s.assets.is_empty() {
            String::new()
        } else {
            format!(" [{}]", s.assets.join(", "))
        };
        println!(
            "{:<20} {:<20} {:>7} {:>6}  {}{}",
            s.name, s.category, s.version, s.rules, s.description, assets
        );
    }
    let total: usize = skills.iter().map(|s| s.rules).sum();
    println!(
        "{} skills, {} rules, classifier {}",
        skills.len(),
        total,
        if guard.detector().has_classifier() {
            "loaded"
        } else {
            "off"
        }
    );
    Ok(super::exit::OK)
}
