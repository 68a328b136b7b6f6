//! Embeds the `skills/` folder of the workspace into the binary.
//!
//! The detector must work from a single binary with no files beside it (the Claude Code hook runs
//! `aimds` from wherever it is installed), so every skill file — SKILL.md, rules, model weights —
//! is compiled in with `include_bytes!`. The generated table is sorted so builds are reproducible.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let skills_dir = manifest_dir.join("..").join("skills");
    println!("cargo:rerun-if-changed={}", skills_dir.display());

    let mut entries: Vec<(String, String, PathBuf)> = Vec::new();
    if skills_dir.is_dir() {
        for skill in sorted_entries(&skills_dir) {
            let Some(skill_name) = visible_name(&skill) else {
                continue;
            };
            if !skill.is_dir() {
                continue;
            }
            // A new or deleted file changes the directory itself, so watch it too.
            println!("cargo:rerun-if-changed={}", skill.display());
            for file in sorted_entries(&skill) {
                let Some(file_name) = visible_name(&file) else { continue };
                if !file.is_file() {
                    continue;
                }
                println!("cargo:rerun-if-changed={}", file.display());
                let abs = fs::canonicalize(&file).unwrap_or(file.clone());
                entries.push((skill_name.clone(), file_name, abs));
            }
        }
    }
    entries.sort();

    let mut out = String::from(
        "/// Skill files compiled into the binary: (skill folder name, file name, contents), sorted.\n\
         static EMBEDDED: &[(&str, &str, &[u8])] = &[\n",
    );
    for (skill, file, path) in &entries {
        let path = path.to_str().expect("skill file paths must be UTF-8");
        // `{:?}` of a str is a valid Rust string literal (quotes and backslashes escaped).
        writeln!(out, "    ({skill:?}, {file:?}, include_bytes!({path:?})),").expect("writing to a String");
    }
    out.push_str("];\n");

    // Each rules file also goes in as JSON, converted here: once the rules' gates came from an
    // index, reading the YAML was most of a fresh process's start-up (libyaml about 8 ms for the
    // rules, serde_json about 1 ms). The YAML stays the source and the fallback: a file that does
    // not convert is read from its YAML at run time, which reports what is wrong with its line.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    out.push_str(
        "\n/// The embedded rules files as JSON (skill folder name, file name, JSON), for a quick load.\n\
         static EMBEDDED_RULES_JSON: &[(&str, &str, &str)] = &[\n",
    );
    for (skill, file, path) in &entries {
        // (the rules files as `skills::is_rules_file` names them; a build script cannot call it)
        if !(file == "rules.yaml" || (file.starts_with("rules-") && file.ends_with(".yaml"))) {
            continue;
        }
        let Some(json) = fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_norway::from_str::<serde_json::Value>(&text).ok())
            .and_then(|value| serde_json::to_string(&value).ok())
        else {
            continue;
        };
        let json_path = out_dir.join(format!("{skill}.{file}.json"));
        fs::write(&json_path, json).expect("write a rules file's JSON");
        let json_path = json_path.to_str().expect("OUT_DIR must be UTF-8");
        writeln!(out, "    ({skill:?}, {file:?}, include_str!({json_path:?})),").expect("writing to a String");
    }
    out.push_str("];\n");

    // The rule index (agents/data/rule-index.bin) holds what the code in these two files works out
    // from each pattern; it is read only by a build of the same code (rules/index.rs). The tests
    // below them are left out, so that editing a test does not make the index stale.
    let mut analysis = FNV_OFFSET;
    for file in ["src/detector/rules.rs", "src/detector/rules/index.rs"] {
        let path = manifest_dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        // (carriage returns left out: a checkout with CRLF line ends holds the same code)
        let text = fs::read_to_string(&path).unwrap_or_default().replace('\r', "");
        let code = text.split("\n#[cfg(test)]\nmod tests").next().unwrap_or("");
        analysis = code
            .bytes()
            .fold(analysis, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    }
    println!("cargo:rustc-env=AIMDS_RULE_ANALYSIS={analysis:016x}");

    fs::write(out_dir.join("embedded_skills.rs"), out).expect("write embedded_skills.rs");
}

/// FNV-1a's offset basis (a stable hash: `std`'s `DefaultHasher` may change between releases).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    paths.sort();
    paths
}

/// The entry's file name, or None for dotfiles (editor swap files, .DS_Store) and non-UTF-8 names.
fn visible_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('.') {
        None
    } else {
        Some(name.to_owned())
    }
}
