//! `aimds approve --session ID`: a person approved what the session is about to do. The approval is an event
//! of the session's trace (atom `approved`), so temporal policies such as "no egress after a secret was read,
//! unless approved since" let the next call through; a new secret read or injection needs a new approval.

use std::path::Path;

use serde_json::json;

use crate::{ScanRequest, Source};

use super::exit;

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    #[arg(long, value_name = "ID")]
    pub session: String,
    /// Who approved what (kept in the trace and the audit log).
    #[arg(long, default_value = "approved by the user")]
    pub note: String,
}

pub fn run(args: ApproveArgs, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    let config = crate::load_config(config)?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let swarm = crate::start_swarm(config, db)?;
        let mut meta = serde_json::Map::new();
        meta.insert("approved".into(), json!(true));
        meta.insert("kind".into(), json!("approval"));
        let result = swarm
            .scan(ScanRequest {
                text: args.note,
                source: Source::User,
                session_id: Some(args.session.clone()),
                meta,
            })
            .await;
        swarm.shutdown(std::time::Duration::from_secs(5)).await;
        match result {
            Ok(v) => {
                println!(
                    "{}",
                    json!({"session": args.session, "approved": true, "audit_id": v.audit_id})
                );
                Ok(exit::OK)
            }
            Err(e) => {
                eprintln!("aimds: {e}");
                Ok(exit::INTERNAL)
            }
        }
    })
}
