//! `aimds init`: register aimds in a project for Claude Code — the MCP server in `.mcp.json` and the hooks in
//! `.claude/settings.json` — by merging, never clobbering.
//!
//! Only aimds's own entries are added or updated: every other server, hook, setting and unknown key is kept, in
//! its order (the files are read into an order-preserving JSON tree, [`Json`]). An aimds hook is recognised by its
//! command (`… hook claude-code`), so re-running init after moving the binary updates the entries in place instead
//! of adding a second set; running it twice changes nothing. A file that is not valid JSON, or whose `hooks` or
//! `mcpServers` is not what Claude Code expects, is refused with the reason and left untouched.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The server name in `.mcp.json` (tools appear as `mcp__aimds__<tool>`).
pub const SERVER_NAME: &str = "aimds";
/// Seconds Claude Code gives one hook run before it counts as failed.
pub const HOOK_TIMEOUT_S: u64 = 10;
/// The hook events aimds registers.
pub const EVENTS: [&str; 3] = ["UserPromptSubmit", "PreToolUse", "PostToolUse"];

/// A JSON value whose objects keep their keys in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn obj() -> Json {
        Json::Obj(Vec::new())
    }

    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets `key` (in place when present, else at the end). Panics on a non-object: callers check.
    pub fn set(&mut self, key: &str, value: Json) {
        if let Json::Obj(m) = self {
            match m.iter_mut().rev().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "a list",
            Json::Obj(_) => "an object",
        }
    }

    pub fn to_pretty(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Num(n) => n.serialize(s),
            Json::Str(v) => s.serialize_str(v),
            Json::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Json::Obj(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
                Ok(Json::Num(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
                Ok(Json::Num(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(n)
                    .map(Json::Num)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Json, E> {
                Ok(Json::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element()? {
                    out.push(x);
                }
                Ok(Json::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out = Json::obj();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    out.set(&k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// Why init refused to touch a file.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{path}: {message}; fix it by hand, nothing was written")]
    Refused { path: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// What to register.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The project folder (where `.mcp.json` and `.claude/` live).
    pub dir: PathBuf,
    /// How Claude Code runs aimds: a name on PATH (`aimds`) or an absolute path.
    pub command: String,
    /// `--db` for the server and hooks (they must share one memory for sessions to connect).
    pub db: Option<PathBuf>,
    /// `--config` for the server and hooks.
    pub config: Option<PathBuf>,
    /// Hooks block when they cannot check an event (`--fail-closed` and `onFailure: "block"`).
    pub fail_closed: bool,
}

/// One file's planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChange {
    pub path: PathBuf,
    pub before: Option<String>,
    pub after: String,
    /// What changed, for people.
    pub notes: Vec<String>,
}

impl FileChange {
    pub fn changed(&self) -> bool {
        self.before.as_deref() != Some(self.after.as_str())
    }
}

/// Quotes a word for a POSIX shell (Claude Code runs hook commands with `sh -c`).
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@,=%".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn global_args(opts: &InitOptions) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(c) = &opts.config {
        args.push("--config".to_string());
        args.push(c.display().to_string());
    }
    if let Some(db) = &opts.db {
        args.push("--db".to_string());
        args.push(db.display().to_string());
    }
    args
}

/// The hook command line.
pub fn hook_command(opts: &InitOptions) -> String {
    let mut words = vec![opts.command.clone()];
    words.extend(global_args(opts));
    words.extend(["hook".to_string(), "claude-code".to_string()]);
    if opts.fail_closed {
        words.push("--fail-closed".into());
    }
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

/// Whether a hook command is one of ours (any version, any path).
pub fn is_aimds_hook(command: &str) -> bool {
    command.contains("aimds") && command.contains("hook claude-code")
}

fn server_entry(opts: &InitOptions) -> Json {
    let mut args: Vec<Json> = global_args(opts).into_iter().map(Json::Str).collect();
    args.push(Json::str("mcp"));
    Json::Obj(vec![
        ("type".into(), Json::str("stdio")),
        ("command".into(), Json::str(opts.command.clone())),
        ("args".into(), Json::Arr(args)),
    ])
}

fn hook_group(event: &str, opts: &InitOptions) -> Json {
    let mut hook = vec![
        ("type".to_string(), Json::str("command")),
        ("command".to_string(), Json::str(hook_command(opts))),
        ("timeout".to_string(), Json::Num(HOOK_TIMEOUT_S.into())),
    ];
    // A hook that crashes or times out blocks the action (Claude Code 2.1.295+); for a tool result that already
    // arrived there is nothing left to block, so the hook's own --fail-closed withholds it instead.
    if opts.fail_closed && event != "PostToolUse" {
        hook.push(("onFailure".into(), Json::str("block")));
    }
    let mut group = Vec::new();
    if event != "UserPromptSubmit" {
        group.push(("matcher".to_string(), Json::str("*")));
    }
    group.push(("hooks".to_string(), Json::Arr(vec![Json::Obj(hook)])));
    Json::Obj(group)
}

fn read_json(path: &Path) -> Result<(Option<String>, Json), InitError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok((Some(text), Json::obj())),
        Ok(text) => {
            let value: Json = serde_json::from_str(&text).map_err(|e| InitError::Refused {
                path: shown.clone(),
                message: format!("not valid JSON ({e})"),
            })?;
            if !matches!(value, Json::Obj(_)) {
                return Err(InitError::Refused {
                    path: shown,
                    message: format!("the top level is {}, not an object", value.kind()),
                });
            }
            Ok((Some(text), value))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((None, Json::obj())),
        Err(source) => Err(InitError::Io { path: shown, source }),
    }
}

/// The change to `.mcp.json`.
pub fn plan_mcp_json(opts: &InitOptions) -> Result<FileChange, InitError> {
    let path = opts.dir.join(".mcp.json");
    let (before, mut root) = read_json(&path)?;
    let shown = path.display().to_string();
    let mut servers = match root.get("mcpServers") {
        None => Json::obj(),
        Some(s @ Json::Obj(_)) => s.clone(),
        Some(other) => {
            return Err(InitError::Refused {
                path: shown,
                message: format!("mcpServers is {}, not an object", other.kind()),
            });
        }
    };
    let want = server_entry(opts);
    let notes = match servers.get(SERVER_NAME) {
        Some(have) if *have == want => vec![],
        Some(_) => vec![format!("updated MCP server {SERVER_NAME:?}")],
        None => vec![format!("added MCP server {SERVER_NAME:?}")],
    };
    servers.set(SERVER_NAME, want);
    root.set("mcpServers", servers);
    let after = if notes.is_empty() {
        before.clone().unwrap_or_else(|| root.to_pretty())
    } else {
        root.to_pretty()
    };
    Ok(FileChange {
        path,
        before,
        after,
        notes,
    })
}

/// Whether a matcher group holds an aimds hook.
fn aimds_hooks_in(group: &Json) -> usize {
    match group.get("hooks") {
        Some(Json::Arr(hooks)) => hooks
            .iter()
            .filter(|h| h.get("command").and_then(Json::as_str).is_some_and(is_aimds_hook))
            .count(),
        _ => 0,
    }
}

/// The change to `.claude/settings.json`.
pub fn plan_settings(opts: &InitOptions) -> Result<FileChange, InitError> {
    let path = opts.dir.join(".claude").join("settings.json");
    let (before, mut root) = read_json(&path)?;
    let shown = path.display().to_string();
    let refused = |message: String| InitError::Refused {
        path: shown.clone(),
        message,
    };
    let mut hooks = match root.get("hooks") {
        None => Json::obj(),
        Some(h @ Json::Obj(_)) => h.clone(),
        Some(other) => return Err(refused(format!("hooks is {}, not an object", other.kind()))),
    };
    let mut notes = Vec::new();
    for event in EVENTS {
        let want = hook_group(event, opts);
        let groups = match hooks.get(event) {
            None => Vec::new(),
            Some(Json::Arr(g)) => g.clone(),
            Some(other) => return Err(refused(format!("hooks.{event} is {}, not a list", other.kind()))),
        };
        let ours: usize = groups.iter().map(aimds_hooks_in).sum();
        if ours == 1 && groups.contains(&want) {
            continue;
        }
        // Drop every aimds hook (an older path, flags or a hand-made copy), keep everything else in order, and
        // put the wanted group where the first aimds hook was (after its group, when that group keeps other hooks).
        let mut kept = Vec::with_capacity(groups.len() + 1);
        let mut slot = None;
        for group in groups {
            if aimds_hooks_in(&group) == 0 {
                kept.push(group);
                continue;
            }
            let mut group = group;
            if let Some(Json::Arr(list)) = group.get("hooks") {
                let rest: Vec<Json> = list
                    .iter()
                    .filter(|h| !h.get("command").and_then(Json::as_str).is_some_and(is_aimds_hook))
                    .cloned()
                    .collect();
                if rest.is_empty() {
                    slot.get_or_insert(kept.len());
                    continue;
                }
                group.set("hooks", Json::Arr(rest));
            }
            kept.push(group);
            // right after the group that held it, which keeps the user's other hooks
            slot.get_or_insert(kept.len());
        }
        let at = slot.unwrap_or(kept.len()).min(kept.len());
        kept.insert(at, want);
        notes.push(if ours == 0 {
            format!("added the {event} hook")
        } else {
            format!("updated the {event} hook")
        });
        hooks.set(event, Json::Arr(kept));
    }
    // Project servers in .mcp.json wait for a person's approval; the person running init approves aimds.
    let mut enabled = match root.get("enabledMcpjsonServers") {
        None => Vec::new(),
        Some(Json::Arr(a)) => a.clone(),
        Some(other) => {
            return Err(refused(format!(
                "enabledMcpjsonServers is {}, not a list",
                other.kind()
            )));
        }
    };
    if !enabled.iter().any(|s| s.as_str() == Some(SERVER_NAME)) {
        enabled.push(Json::str(SERVER_NAME));
        root.set("enabledMcpjsonServers", Json::Arr(enabled));
        notes.push(format!("approved the project MCP server {SERVER_NAME:?}"));
    }
    root.set("hooks", hooks);
    let after = if notes.is_empty() {
        before.clone().unwrap_or_else(|| root.to_pretty())
    } else {
        root.to_pretty()
    };
    Ok(FileChange {
        path,
        before,
        after,
        notes,
    })
}

/// Both changes; nothing is written.
pub fn plan(opts: &InitOptions) -> Result<Vec<FileChange>, InitError> {
    Ok(vec![plan_mcp_json(opts)?, plan_settings(opts)?])
}

/// Writes the changed files (each atomically: a temporary file renamed over the old one).
pub fn apply(changes: &[FileChange]) -> Result<(), InitError> {
    for c in changes.iter().filter(|c| c.changed()) {
        let io = |source| InitError::Io {
            path: c.path.display().to_string(),
            source,
        };
        if let Some(dir) = c.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = c.path.with_extension("json.aimds-tmp");
        std::fs::write(&tmp, &c.after).map_err(io)?;
        std::fs::rename(&tmp, &c.path).map_err(io)?;
    }
    Ok(())
}

/// A line diff of `before` → `after` (unified style, whole file as one hunk; settings files are small).
pub fn diff(path: &Path, before: Option<&str>, after: &str) -> String {
    let a: Vec<&str> = before.map(|b| b.lines().collect()).unwrap_or_default();
    let b: Vec<&str> = after.lines().collect();
    let mut out = format!(
        "--- {}\n+++ {}\n",
        if before.is_some() {
            path.display().to_string()
        } else {
            "/dev/null".to_string()
        },
        path.display()
    );
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        for l in &a {
            out.push_str(&format!("-{l}\n"));
        }
        for l in &b {
            out.push_str(&format!("+{l}\n"));
        }
        return out;
    }
    // Longest common subsequence, then walk it.
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push_str(&format!(" {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(dir: &Path) -> InitOptions {
        InitOptions {
            dir: dir.to_path_buf(),
            command: "/opt/ai tools/aimds".into(),
            db: None,
            config: None,
            fail_closed: true,
        }
    }

    #[test]
    fn quoting_and_recognising_our_hooks() {
        assert_eq!(shell_quote("/usr/bin/aimds"), "/usr/bin/aimds");
        assert_eq!(shell_quote("/opt/ai tools/it's"), r"'/opt/ai tools/it'\''s'");
        let o = opts(Path::new("/p"));
        assert_eq!(hook_command(&o), "'/opt/ai tools/aimds' hook claude-code --fail-closed");
        assert!(is_aimds_hook(&hook_command(&o)));
        assert!(!is_aimds_hook("prettier --write"));
    }

    #[test]
    fn merging_keeps_order_and_foreign_entries_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".claude")).unwrap();
        let settings = r#"{
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      {"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"},
                                    {"type": "command", "command": "/old/aimds hook claude-code"}]}
    ],
    "Stop": [{"hooks": [{"type": "command", "command": "notify"}]}]
  },
  "zzz": {"b": 1, "a": 2}
}"#;
        std::fs::write(dir.path().join(".claude/settings.json"), settings).unwrap();
        let o = opts(dir.path());
        let change = plan_settings(&o).unwrap();
        assert!(change.changed());
        let v: serde_json::Value = serde_json::from_str(&change.after).unwrap();
        assert_eq!(v["model"], "opus");
        assert_eq!(v["zzz"], serde_json::json!({"b": 1, "a": 2}));
        assert!(change.after.find("\"b\"").unwrap() < change.after.find("\"a\": 2").unwrap());
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "notify");
        let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2, "{pre:?}");
        assert_eq!(pre[0]["hooks"].as_array().unwrap().len(), 1);
        assert_eq!(pre[0]["hooks"][0]["command"], "guard.sh");
        assert_eq!(
            pre[1]["hooks"][0]["command"],
            "'/opt/ai tools/aimds' hook claude-code --fail-closed"
        );
        assert!(v["hooks"]["UserPromptSubmit"][0].get("matcher").is_none());
        assert_eq!(v["enabledMcpjsonServers"], serde_json::json!(["aimds"]));
        apply(&[change]).unwrap();
        let again = plan_settings(&o).unwrap();
        assert!(!again.changed(), "{:?}", again.notes);
        assert!(again.notes.is_empty());
    }

    #[test]
    fn refuses_what_it_cannot_merge() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".mcp.json"), "{not json").unwrap();
        assert!(matches!(
            plan_mcp_json(&opts(dir.path())),
            Err(InitError::Refused { .. })
        ));
        std::fs::write(dir.path().join(".mcp.json"), r#"{"mcpServers": []}"#).unwrap();
        assert!(matches!(
            plan_mcp_json(&opts(dir.path())),
            Err(InitError::Refused { .. })
        ));
    }

    #[test]
    fn diff_marks_added_and_removed_lines() {
        let d = diff(Path::new("f"), Some("a\nb\nc\n"), "a\nc\nd\n");
        assert_eq!(d, "--- f\n+++ f\n a\n-b\n c\n+d\n");
    }
}
