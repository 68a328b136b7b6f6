use clap::Parser;

use aimds::cli::{self, Cli};

fn main() {
    // Logs go to stderr: stdout carries verdicts (and, for `aimds mcp`, the protocol).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("AIMDS_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let cli = Cli::parse();
    let code = match cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("aimds: {err:#}");
            if err.downcast_ref::<aimds::GuardError>().is_some() || err.downcast_ref::<std::io::Error>().is_some() {
                cli::exit::USAGE
            } else {
                cli::exit::INTERNAL
            }
        }
    };
    std::process::exit(code);
}
