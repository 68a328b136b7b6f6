//! `aimds feedback --label attack|benign TEXT`: teach the swarm. Attacks become learned patterns once the
//! learning gate finds they flag no ordinary text; benign reports become allowlist entries. Prints the report as
//! JSON; exits 1 when the report was refused.

use std::path::Path;

use aimds_runtime::{Category, Feedback, FeedbackLabel};

use super::exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LabelArg {
    Attack,
    Benign,
}

#[derive(Debug, clap::Args)]
pub struct FeedbackArgs {
    /// What the text is.
    #[arg(long, value_enum)]
    pub label: LabelArg,
    /// The text (a prompt, a tool output, …).
    pub text: String,
    /// For attacks: the category to file it under (default: the detector's guess, else prompt_injection).
    #[arg(long)]
    pub category: Option<String>,
    /// Why (kept with an allowlist entry).
    #[arg(long)]
    pub note: Option<String>,
}

pub fn run(args: FeedbackArgs, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    let category = match &args.category {
        Some(c) => match c.parse::<Category>() {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("aimds: --category: {e}");
                return Ok(exit::USAGE);
            }
        },
        None => None,
    };
    let config = crate::load_config(config)?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let swarm = crate::start_swarm(config, db)?;
        let result = swarm
            .feedback(Feedback {
                text: args.text,
                label: match args.label {
                    LabelArg::Attack => FeedbackLabel::Attack,
                    LabelArg::Benign => FeedbackLabel::Benign,
                },
                category,
                reporter: "cli".into(),
                note: args.note,
            })
            .await;
        swarm.shutdown(std::time::Duration::from_secs(5)).await;
        match result {
            Ok(report) => {
                println!("{}", serde_json::to_string(&report)?);
                Ok(if report.status == "refused" {
                    exit::FLAGGED
                } else {
                    exit::OK
                })
            }
            Err(e) => {
                eprintln!("aimds: {e}");
                Ok(exit::USAGE)
            }
        }
    })
}
