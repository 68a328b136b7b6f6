//! `aimds scan`: one text (argument or `--file`), or a JSONL stream on stdin.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ScanRequest, Source, Swarm, SwarmError, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).multiple(true).args(["text", "file", "jsonl", "tool_input"]))]
pub struct ScanArgs {
    /// The text to scan.
    pub text: Option<String>,
    /// Scan the contents of a file (UTF-8).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Read JSON lines from stdin (`{"text": ..., "source"?: ..., "session_id"?: ..., "meta"?: {...}}`) and
    /// write one JSON verdict per line to stdout, in order.
    #[arg(long)]
    pub jsonl: bool,
    /// Where the text comes from; decides the policy. In --jsonl mode a line's own `source` wins.
    #[arg(long, value_enum, default_value_t = SourceArg::User)]
    pub source: SourceArg,
    /// The session (conversation, agent run) this text belongs to: enables multi-turn analysis and temporal
    /// policies over the session's trace.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// For `--source tool-call`: the tool's name (e.g. `Bash`, `WebFetch`, `mcp__github__create_issue`).
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// For `--source tool-call`: the tool's input as JSON; TEXT may then be omitted.
    #[arg(long, value_name = "JSON")]
    pub tool_input: Option<String>,
    /// Output format for a single text (--jsonl always writes JSON).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    User,
    // The JSON spelling (`"source": "tool_output"` in --jsonl lines, the HTTP API and the verdicts)
    // works on the command line too.
    #[value(alias = "tool_output")]
    ToolOutput,
    Document,
    #[value(alias = "model_output")]
    ModelOutput,
    #[value(alias = "tool_call")]
    ToolCall,
}

impl From<SourceArg> for Source {
    fn from(s: SourceArg) -> Source {
        match s {
            SourceArg::User => Source::User,
            SourceArg::ToolOutput => Source::ToolOutput,
            SourceArg::Document => Source::Document,
            SourceArg::ModelOutput => Source::ModelOutput,
            SourceArg::ToolCall => Source::ToolCall,
        }
    }
}

/// Scans in flight at once in `--jsonl` mode: enough for the logger's group commit to share one fsync among
/// many verdicts, small enough to keep memory constant.
const JSONL_IN_FLIGHT: usize = 64;

pub fn run(args: ScanArgs, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    let config = crate::load_config(config)?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let swarm = crate::start_swarm(config, db)?;
        let code = run_on(&swarm, args).await;
        swarm.shutdown(std::time::Duration::from_secs(5)).await;
        code
    })
}

async fn run_on(swarm: &Swarm, args: ScanArgs) -> anyhow::Result<i32> {
    let source = Source::from(args.source);
    if args.jsonl {
        scan_stream(swarm, source, std::io::stdin(), std::io::stdout()).await?;
        return Ok(super::exit::OK);
    }
    let mut meta = serde_json::Map::new();
    if let Some(tool) = &args.tool {
        meta.insert("tool_name".into(), json!(tool));
    }
    let tool_input: Option<Value> = match &args.tool_input {
        Some(raw) => Some(serde_json::from_str(raw).map_err(|e| {
            anyhow::Error::new(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("--tool-input is not valid JSON: {e}"),
            ))
        })?),
        None => None,
    };
    if let Some(input) = &tool_input {
        meta.insert("tool_input".into(), input.clone());
    }
    let text = match (&args.text, &args.file, &tool_input) {
        (Some(t), _, _) => t.clone(),
        (None, Some(path), _) => read_utf8(path)?,
        (None, None, Some(input)) => tool_call_text(args.tool.as_deref(), input),
        (None, None, None) => anyhow::bail!("nothing to scan: give TEXT, --file PATH, --tool-input JSON or --jsonl"),
    };
    let req = ScanRequest {
        text,
        source,
        session_id: args.session.clone(),
        meta,
    };
    let text = req.text.clone();
    let (verdict, us) = match timed_scan(swarm, req).await {
        Ok(v) => v,
        Err(SwarmError::Detector(e)) => {
            eprintln!("aimds: {e}");
            return Ok(super::exit::USAGE);
        }
        Err(e) => {
            eprintln!("aimds: {e}");
            return Ok(super::exit::INTERNAL);
        }
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            out.write_all(&VerdictAnswer::new(&verdict, us).to_json())?;
            out.write_all(b"\n")?;
        }
        Format::Text => write_text(&mut out, &text, &verdict, us)?,
    }
    Ok(if verdict.flagged {
        super::exit::FLAGGED
    } else {
        super::exit::OK
    })
}

/// What the detector reads of a tool call: its name and every string in its input, one per line.
pub fn tool_call_text(tool: Option<&str>, input: &Value) -> String {
    fn walk(v: &Value, out: &mut String, depth: usize) {
        if depth > 32 || out.len() > 1 << 20 {
            return;
        }
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out, depth + 1)),
            Value::Object(m) => m.values().for_each(|x| walk(x, out, depth + 1)),
            _ => {}
        }
    }
    let mut out = String::new();
    if let Some(t) = tool {
        out.push_str(t);
        out.push('\n');
    }
    walk(input, &mut out, 0);
    out
}

fn read_utf8(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::Error::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is not valid UTF-8 (first bad byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

async fn timed_scan(swarm: &Swarm, req: ScanRequest) -> Result<(Verdict, f64), SwarmError> {
    let start = Instant::now();
    let verdict = swarm.scan(req).await?;
    Ok((verdict, start.elapsed().as_secs_f64() * 1e6))
}

/// The verdict as the JSON users see (`aimds scan`, `--jsonl`, `POST /v1/scan`): the verdict's fields
/// plus `score` (= risk), `us` (microseconds spent inside the scan) and, over HTTP, the request id.
/// Serialised straight from the verdict: going through a `serde_json::Value` cost the HTTP service 4 %
/// of its CPU, and printed f32s with f64 digits (0.8999999761581421 for 0.9).
#[derive(Debug, serde::Serialize)]
pub struct VerdictAnswer<'a> {
    #[serde(flatten)]
    pub verdict: &'a Verdict,
    pub score: f32,
    pub us: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

impl<'a> VerdictAnswer<'a> {
    pub fn new(verdict: &'a Verdict, us: f64) -> VerdictAnswer<'a> {
        VerdictAnswer {
            verdict,
            score: verdict.risk,
            us: (us * 10.0).round() / 10.0,
            request_id: None,
        }
    }

    /// The answer as one line of JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // (cannot fail: every map in a verdict has string keys)
        serde_json::to_vec(self).unwrap_or_else(|e| json!({ "error": e.to_string() }).to_string().into_bytes())
    }
}

fn write_text(out: &mut impl Write, text: &str, v: &Verdict, us: f64) -> std::io::Result<()> {
    let cats: Vec<&str> = v.categories.iter().map(|c| c.as_str()).collect();
    writeln!(
        out,
        "{} risk={:.2} [{}] {} ({:.0} µs)",
        v.action.as_str().to_uppercase(),
        v.risk,
        cats.join(", "),
        v.reason,
        us
    )?;
    for f in &v.findings {
        let quoted = text.get(f.span.start..f.span.end).unwrap_or("");
        let quoted: String = quoted.chars().take(80).collect();
        writeln!(
            out,
            "  {:<18} {:<40} {:>5.2} {}..{} {:?}",
            f.category.as_str(),
            f.rule_id,
            f.confidence,
            f.span.start,
            f.span.end,
            quoted
        )?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineRequest {
    text: String,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    meta: serde_json::Map<String, Value>,
}

/// Scan a JSONL stream: exactly one output line per input line, in order, in constant memory.
///
/// A reader thread feeds lines (bounded: an overlong line is skipped, not buffered) to at most
/// `JSONL_IN_FLIGHT` (64) concurrent scans; answers are written in input order as soon as the oldest is done, so an
/// interactive producer that waits for each answer is never stalled behind lines that have not arrived.
pub async fn scan_stream(
    swarm: &Swarm,
    default_source: Source,
    input: impl std::io::Read + Send + 'static,
    mut output: impl Write,
) -> anyhow::Result<()> {
    // JSON escaping can inflate text up to 6x (\u0000); allow for it plus the envelope.
    let max_line = swarm
        .config()
        .detector
        .max_input_bytes
        .saturating_mul(6)
        .saturating_add(64 * 1024);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<(usize, LineStatus, Vec<u8>)>>(JSONL_IN_FLIGHT);
    std::thread::spawn(move || {
        let mut input = std::io::BufReader::new(input);
        let mut line_no = 0usize;
        loop {
            let mut buf = Vec::new();
            match read_bounded_line(&mut input, &mut buf, max_line) {
                Ok(LineStatus::Eof) => break,
                Ok(status) => {
                    line_no += 1;
                    if tx.blocking_send(Ok((line_no, status, buf))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let mut in_flight = FuturesOrdered::new();
    let mut open = true;
    // A line of a session must see every earlier line of the stream recorded (the analyzer and the temporal
    // policies read the session's trace), so it waits for the lines in flight and runs alone.
    let mut held: Option<Result<ScanRequest, Value>> = None;
    let mut barrier = false;
    loop {
        if in_flight.is_empty() {
            barrier = false;
            if let Some(parsed) = held.take() {
                barrier = parsed.as_ref().is_ok_and(|r| r.session_id.is_some());
                in_flight.push_back(scan_parsed(swarm, parsed));
                continue;
            }
            if !open {
                break;
            }
        }
        tokio::select! {
            biased;
            Some(answer) = in_flight.next(), if !in_flight.is_empty() => {
                let answer: Vec<u8> = answer;
                output.write_all(&answer)?;
                output.write_all(b"\n")?;
                output.flush()?;
            }
            line = rx.recv(), if open && held.is_none() && !barrier && in_flight.len() < JSONL_IN_FLIGHT => match line {
                Some(Ok((line_no, status, buf))) => {
                    let parsed = match status {
                        LineStatus::TooLong => Err(json!({ "error": format!("line {line_no}: longer than {max_line} bytes") })),
                        _ => parse_line(default_source, &buf, line_no),
                    };
                    let sequential = parsed.as_ref().is_ok_and(|r| r.session_id.is_some());
                    if sequential && !in_flight.is_empty() {
                        held = Some(parsed);
                    } else {
                        barrier = sequential;
                        in_flight.push_back(scan_parsed(swarm, parsed));
                    }
                }
                Some(Err(e)) => return Err(e.into()),
                None => open = false,
            },
        }
    }
    Ok(())
}

/// A request line, or the error answer it gets.
fn parse_line(default_source: Source, raw: &[u8], line_no: usize) -> Result<ScanRequest, Value> {
    let line = match std::str::from_utf8(raw) {
        Ok(l) => l.trim_end_matches(['\n', '\r']),
        Err(e) => {
            return Err(json!({ "error": format!("line {line_no}: not valid UTF-8 at byte {}", e.valid_up_to()) }));
        }
    };
    let req: LineRequest =
        serde_json::from_str(line).map_err(|e| json!({ "error": format!("line {line_no}: {e}") }))?;
    Ok(ScanRequest {
        text: req.text,
        source: req.source.unwrap_or(default_source),
        session_id: req.session_id,
        meta: req.meta,
    })
}

/// The answer line (without its newline) for one parsed input line.
async fn scan_parsed(swarm: &Swarm, parsed: Result<ScanRequest, Value>) -> Vec<u8> {
    match parsed {
        Err(answer) => answer.to_string().into_bytes(),
        Ok(req) => match timed_scan(swarm, req).await {
            Ok((verdict, us)) => VerdictAnswer::new(&verdict, us).to_json(),
            Err(e) => json!({ "error": e.to_string() }).to_string().into_bytes(),
        },
    }
}

#[derive(Debug, PartialEq, Eq)]
enum LineStatus {
    Line,
    TooLong,
    Eof,
}

/// Read one line (through `\n` or EOF) into `buf`, keeping at most `max` bytes; the rest of
/// an overlong line is consumed and dropped.
fn read_bounded_line(input: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<LineStatus> {
    let mut read_any = false;
    let mut too_long = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        read_any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        input.consume(take);
        if done {
            break;
        }
    }
    Ok(match (read_any, too_long) {
        (false, _) => LineStatus::Eof,
        (true, true) => LineStatus::TooLong,
        (true, false) => LineStatus::Line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_lines() {
        let data = b"short\nthis one is far too long\nok\nlast-no-newline";
        let mut input = std::io::BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        loop {
            buf.clear();
            let s = read_bounded_line(&mut input, &mut buf, 10).unwrap();
            if s == LineStatus::Eof {
                break;
            }
            seen.push((s, String::from_utf8_lossy(&buf).into_owned()));
        }
        assert_eq!(
            seen,
            vec![
                (LineStatus::Line, "short\n".into()),
                (LineStatus::TooLong, String::new()),
                (LineStatus::Line, "ok\n".into()),
                (LineStatus::TooLong, String::new()),
            ]
        );
    }
}
