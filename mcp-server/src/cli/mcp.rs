//! `aimds mcp`: serve every defense as an MCP tool, over stdio (default: what `claude mcp add aimds -- aimds mcp`
//! runs) or streamable HTTP (`--http 127.0.0.1:PORT`, endpoint `/mcp`).

use std::net::SocketAddr;
use std::path::Path;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// Serve streamable HTTP on ADDR (endpoint `/mcp`) instead of stdio, e.g. `127.0.0.1:8931`.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Allow `--http` on a non-loopback address. The endpoint has no authentication: put it behind one.
    #[arg(long, requires = "http")]
    pub allow_remote: bool,
}

pub fn run(args: McpArgs, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    if let Some(addr) = args.http
        && !crate::mcp::is_local(&addr)
        && !args.allow_remote
    {
        eprintln!(
            "aimds: --http {addr} is not a loopback address and the MCP endpoint has no authentication; \
             add --allow-remote to serve it anyway"
        );
        return Ok(exit::USAGE);
    }
    let config = crate::load_config(config)?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let shared = crate::mcp::start(config, db)?;
        let served = match args.http {
            None => {
                tracing::info!("aimds MCP server on stdio");
                crate::mcp::serve_stdio(shared.clone()).await
            }
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
                // Tests and scripts bind port 0 and read the port from here.
                eprintln!(
                    "aimds: MCP over streamable HTTP at http://{}/mcp",
                    listener.local_addr()?
                );
                crate::mcp::serve_http(shared.clone(), listener, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
            }
        };
        crate::mcp::stop(shared).await;
        served?;
        Ok(exit::OK)
    })
}
