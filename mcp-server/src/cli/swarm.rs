//! `aimds swarm status`: the live topology of the swarm a config describes — roles, instances, health, queue
//! depths — as JSON.

use std::path::Path;

use super::exit;

#[derive(Debug, clap::Subcommand)]
pub enum SwarmCommand {
    /// Start the swarm of the config and print its topology (JSON).
    Status,
}

pub fn run(cmd: SwarmCommand, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    match cmd {
        SwarmCommand::Status => {
            let config = crate::load_config(config)?;
            let rt = crate::runtime()?;
            rt.block_on(async {
                let swarm = crate::start_swarm(config, db)?;
                let status = swarm.status();
                println!("{}", serde_json::to_string_pretty(&status)?);
                swarm.shutdown(std::time::Duration::from_secs(1)).await;
                Ok(exit::OK)
            })
        }
    }
}
