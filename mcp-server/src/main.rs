use clap::Parser;

use aimds::cli::{self, Cli};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Logs go to stderr: stdout carries verdicts (and, for `aimds mcp`, the protocol).
    // AIMDS_LOG_FORMAT=json: one JSON object per line (for log shippers), with the span fields (request ids).
    let filter = tracing_subscriber::EnvFilter::try_from_env("AIMDS_LOG").unwrap_or_else(|_| "warn".into());
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if std::env::var("AIMDS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
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
