//! A small closed-loop HTTP/1.1 load generator for `scripts/load.sh`: N keep-alive connections, each sending the
//! same POST as soon as the previous answer arrived, for a bounded time. One thread, so it takes as little CPU as
//! possible from the server it measures on the same machine. Loopback only: it refuses any other address.
//!
//! ```text
//! loadgen --addr 127.0.0.1:8080 --path /v1/scan --body-file prompt.json --connections 16 --seconds 10 [--token T]
//! ```
//!
//! Prints one JSON line: requests, requests/s, latency percentiles (µs), errors (connection failures) and
//! non-200 answers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    addr: SocketAddr,
    path: String,
    body: Vec<u8>,
    connections: usize,
    seconds: f64,
    warmup: f64,
    token: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut addr, mut path, mut body, mut connections, mut seconds, mut warmup, mut token) =
        (None, "/v1/scan".to_string(), None, 1usize, 10.0f64, 1.0f64, None);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => addr = Some(val()?.parse::<SocketAddr>().map_err(|e| e.to_string())?),
            "--path" => path = val()?,
            "--body-file" => body = Some(std::fs::read(val()?).map_err(|e| e.to_string())?),
            "--connections" => connections = val()?.parse().map_err(|e| format!("--connections: {e}"))?,
            "--seconds" => seconds = val()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--warmup" => warmup = val()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--token" => token = Some(val()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let addr = addr.ok_or("--addr is required")?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address: this tool only loads this machine"
        ));
    }
    if !(seconds > 0.0 && seconds <= 300.0) {
        return Err("--seconds must be in (0, 300]".into());
    }
    Ok(Args {
        addr,
        path,
        body: body.ok_or("--body-file is required")?,
        connections: connections.clamp(1, 1024),
        seconds,
        warmup: warmup.clamp(0.0, 60.0),
        token,
    })
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    non_200: u64,
}

fn request(args: &Args) -> Vec<u8> {
    let mut head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        args.path,
        args.addr,
        args.body.len()
    );
    if let Some(t) = &args.token {
        head.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut req = head.into_bytes();
    req.extend_from_slice(&args.body);
    req
}

/// Reads one response; its status. `Err` when the connection broke or the answer is not HTTP.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..header_end]).map_err(|_| bad("non-UTF-8 head"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .ok_or_else(|| bad("no content-length"))?;
    let close = head.lines().any(|l| l.eq_ignore_ascii_case("connection: close"));
    while buf.len() < header_end + len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if close {
        return Err(std::io::ErrorKind::ConnectionAborted.into());
    }
    Ok(status)
}

async fn connection(args: std::sync::Arc<Args>, req: std::sync::Arc<Vec<u8>>, start: Instant, end: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stream: Option<TcpStream> = None;
    while Instant::now() < end {
        let s = match &mut stream {
            Some(s) => s,
            None => match TcpStream::connect(args.addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream.insert(s)
                }
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let t = Instant::now();
        let res = match s.write_all(&req).await {
            Ok(()) => read_response(s, &mut buf).await,
            Err(e) => Err(e),
        };
        let took = t.elapsed();
        let measured = t >= start;
        match res {
            Ok(status) => {
                if measured {
                    tally
                        .latencies_us
                        .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                    if status != 200 {
                        tally.non_200 += 1;
                    }
                }
            }
            Err(_) => {
                if measured {
                    tally.errors += 1;
                }
                stream = None;
            }
        }
    }
    tally
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(async {
        let req = std::sync::Arc::new(request(&args));
        let args = std::sync::Arc::new(args);
        let now = Instant::now();
        let start = now + Duration::from_secs_f64(args.warmup);
        let end = start + Duration::from_secs_f64(args.seconds);
        let tasks: Vec<_> = (0..args.connections)
            .map(|_| tokio::spawn(connection(args.clone(), req.clone(), start, end)))
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            let t = t.await.unwrap();
            all.latencies_us.extend(t.latencies_us);
            all.errors += t.errors;
            all.non_200 += t.non_200;
        }
        let elapsed = (Instant::now() - start).as_secs_f64();
        (all, elapsed, args.connections)
    });
    let (mut all, elapsed, connections) = out;
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> u32 {
        if all.latencies_us.is_empty() {
            return 0;
        }
        let i = ((p / 100.0) * (all.latencies_us.len() - 1) as f64).round() as usize;
        all.latencies_us[i]
    };
    let n = all.latencies_us.len();
    println!(
        "{{\"connections\":{connections},\"seconds\":{elapsed:.2},\"requests\":{n},\"rps\":{:.0},\"p50_us\":{},\
         \"p90_us\":{},\"p99_us\":{},\"max_us\":{},\"errors\":{},\"non_200\":{}}}",
        n as f64 / elapsed,
        pct(50.0),
        pct(90.0),
        pct(99.0),
        all.latencies_us.last().copied().unwrap_or(0),
        all.errors,
        all.non_200
    );
}
