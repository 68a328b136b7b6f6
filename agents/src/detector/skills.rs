//! Skills: folders of SKILL.md + rules.yaml (+ assets) that the detector compiles.
//!
//! A skill folder holds `SKILL.md` (YAML front matter `name`, `description`, `category`, `version`,
//! then Markdown for humans and agent hosts), `rules.yaml` and optional `rules-*.yaml`, and any other
//! files as assets (e.g. classifier weights). The skills shipped with AIMDS are compiled into the
//! binary by `build.rs` ([`SkillSet::embedded`], which reads the rules from the JSON that
//! `build.rs` converts them to: libyaml took most of a fresh process's start-up); user skills
//! load from a folder at run time ([`SkillSet::from_dir`]). Every bad rule fails the load with
//! `file:line: reason`, the line being the rule's `id:` line, so a typo in a rule never silently
//! disables it.
//!
//! Regexes are not compiled here: [`super::rules::RuleSet::compile`] compiles them once, in sets,
//! and reports an invalid one with the same `file:line` (compiling each regex twice would double
//! the start-up cost that every hook invocation pays).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aimds_runtime::{Category, Severity, Source};
use serde::{Deserialize, Serialize};

use super::validate::Validator;

include!(concat!(env!("OUT_DIR"), "/embedded_skills.rs"));

/// Run-time skill folders are untrusted input: bound what one load may read.
pub const MAX_SKILL_FILE_BYTES: u64 = 16 << 20;
/// Most files (all skills together) one [`SkillSet::from_dir`] reads.
pub const MAX_SKILL_FILES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum SkillError {
    #[error("{file}:{line}: {reason}")]
    Rule { file: String, line: usize, reason: String },
    #[error("{file}: {reason}")]
    Skill { file: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Which text a rule runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The normalised text: lowercase, NFKC, confusables/leetspeak folded, separators collapsed.
    #[default]
    Normalized,
    /// The original text as received (PII, secrets: case and digits matter).
    Raw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Literal(String),
    Regex(String),
}

#[derive(Debug, Clone)]
pub struct RuleDef {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub pattern: Pattern,
    pub target: Target,
    pub validate: Option<Validator>,
    pub confidence: Option<f32>,
    /// A cue marks context another check reads (a role or a story around a harmful request,
    /// [`super::framing`]); its hits are never findings of their own.
    pub cue: bool,
    /// The sources whose texts the rule reads; empty: every source. An order about "your
    /// response" inside an e-mail an agent reads is an injection, the same words typed by the
    /// user are a request ([`RuleDef::reads`]).
    pub sources: Vec<Source>,
    pub notes: String,
    pub examples: Vec<String>,
    pub counterexamples: Vec<String>,
    pub file: String,
    pub line: usize,
}

impl RuleDef {
    /// The rule's own confidence, or its severity's prior when it states none.
    pub fn effective_confidence(&self) -> f32 {
        self.confidence.unwrap_or_else(|| self.severity.weight())
    }

    /// Whether the rule reads a text from `source`. A text of unknown source is read by the
    /// rules that read every source only: a rule limited to some sources is not sure of the rest.
    pub fn reads(&self, source: Option<Source>) -> bool {
        self.sources.is_empty() || source.is_some_and(|s| self.sources.contains(&s))
    }
}

#[derive(Debug, Clone)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub category: String,
    pub version: String,
    pub skill_md: String,
    pub origin: String,
    pub rules: Vec<RuleDef>,
    pub assets: BTreeMap<String, Vec<u8>>,
}

/// One line of `aimds skills list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillSummary {
    pub name: String,
    pub category: String,
    pub version: String,
    pub description: String,
    pub rules: usize,
    pub origin: String,
    /// Files of the skill other than SKILL.md and rules (e.g. classifier weights).
    pub assets: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SkillSet {
    pub skills: Vec<Skill>,
}

impl SkillSet {
    /// The skills compiled into the binary from the workspace's `skills/` folder.
    pub fn embedded() -> Result<SkillSet, SkillError> {
        let mut folders: BTreeMap<&str, Vec<(&str, &[u8])>> = BTreeMap::new();
        for &(skill, file, bytes) in EMBEDDED {
            folders.entry(skill).or_default().push((file, bytes));
        }
        let mut set = SkillSet::default();
        for (name, files) in folders {
            let origin = format!("skills/{name}");
            let owned: Vec<(String, Vec<u8>)> = files.into_iter().map(|(f, b)| (f.to_owned(), b.to_vec())).collect();
            let json: HashMap<&str, &str> = EMBEDDED_RULES_JSON
                .iter()
                .filter(|(skill, _, _)| *skill == name)
                .map(|&(_, file, json)| (file, json))
                .collect();
            set.push(load_skill_with(name, &origin, owned, &json)?)?;
        }
        Ok(set)
    }

    /// Every skill folder (a subfolder holding SKILL.md) under `dir`. Dotfiles are skipped.
    pub fn from_dir(dir: &Path) -> Result<SkillSet, SkillError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| SkillError::Io { path, source }
        };
        let mut skill_dirs = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            if hidden(&path) || !path.is_dir() {
                continue;
            }
            skill_dirs.push(path);
        }
        skill_dirs.sort();

        let mut set = SkillSet::default();
        let mut total_files = 0usize;
        for skill_dir in skill_dirs {
            let name = dir_name(&skill_dir)?;
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(&skill_dir).map_err(io(&skill_dir))? {
                let path = entry.map_err(io(&skill_dir))?.path();
                if hidden(&path) || !path.is_file() {
                    continue;
                }
                total_files += 1;
                if total_files > MAX_SKILL_FILES {
                    return Err(SkillError::Skill {
                        file: dir.display().to_string(),
                        reason: format!("more than {MAX_SKILL_FILES} skill files; refusing to load"),
                    });
                }
                paths.push(path);
            }
            paths.sort();
            let mut files = Vec::with_capacity(paths.len());
            for path in paths {
                let len = std::fs::metadata(&path).map_err(io(&path))?.len();
                if len > MAX_SKILL_FILE_BYTES {
                    return Err(SkillError::Skill {
                        file: path.display().to_string(),
                        reason: format!("file is {len} bytes, over the {MAX_SKILL_FILE_BYTES}-byte limit"),
                    });
                }
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
                files.push((file_name, bytes));
            }
            set.push(load_skill(&name, &skill_dir.display().to_string(), files)?)?;
        }
        Ok(set)
    }

    /// Adds a skill, refusing a second skill of the same name or a rule id another skill already uses.
    pub fn push(&mut self, skill: Skill) -> Result<(), SkillError> {
        if let Some(other) = self.skills.iter().find(|s| s.name == skill.name) {
            return Err(SkillError::Skill {
                file: skill.origin.clone(),
                reason: format!("skill name {:?} is already loaded from {}", skill.name, other.origin),
            });
        }
        let known: HashMap<&str, &RuleDef> = self.rules().map(|r| (r.id.as_str(), r)).collect();
        for rule in &skill.rules {
            if let Some(first) = known.get(rule.id.as_str()) {
                return Err(duplicate_id(rule, first));
            }
        }
        self.skills.push(skill);
        Ok(())
    }

    /// Merges another set in (e.g. user skills over the embedded ones); same checks as [`SkillSet::push`].
    pub fn extend(&mut self, other: SkillSet) -> Result<(), SkillError> {
        for skill in other.skills {
            self.push(skill)?;
        }
        Ok(())
    }

    pub fn without(&mut self, names: &[String]) {
        self.skills.retain(|s| !names.contains(&s.name));
    }
    pub fn rules(&self) -> impl Iterator<Item = &RuleDef> {
        self.skills.iter().flat_map(|s| s.rules.iter())
    }
    pub fn asset(&self, skill: &str, name: &str) -> Option<&[u8]> {
        self.skills
            .iter()
            .find(|s| s.name == skill)
            .and_then(|s| s.assets.get(name))
            .map(|v| v.as_slice())
    }

    /// Name, category, version, description and rule count of every skill, in load order.
    pub fn summary(&self) -> Vec<SkillSummary> {
        self.skills
            .iter()
            .map(|s| SkillSummary {
                name: s.name.clone(),
                category: s.category.clone(),
                version: s.version.clone(),
                description: s.description.clone(),
                rules: s.rules.len(),
                origin: s.origin.clone(),
                assets: s.assets.keys().cloned().collect(),
            })
            .collect()
    }
}

fn hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'))
}

fn dir_name(path: &Path) -> Result<String, SkillError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| SkillError::Skill {
            file: path.display().to_string(),
            reason: "skill folder name is not UTF-8".into(),
        })
}

fn duplicate_id(rule: &RuleDef, first: &RuleDef) -> SkillError {
    SkillError::Rule {
        file: rule.file.clone(),
        line: rule.line,
        reason: format!(
            "duplicate rule id {:?} (first defined at {}:{})",
            rule.id, first.file, first.line
        ),
    }
}

/// Whether a skill folder's file holds rules (`build.rs` names the same files for their JSON form).
fn is_rules_file(name: &str) -> bool {
    name == "rules.yaml" || (name.starts_with("rules-") && name.ends_with(".yaml"))
}

/// Builds one skill from its folder's files (name → bytes). `origin` prefixes file names in errors.
fn load_skill(name: &str, origin: &str, files: Vec<(String, Vec<u8>)>) -> Result<Skill, SkillError> {
    load_skill_with(name, origin, files, &HashMap::new())
}

/// As [`load_skill`], with rules files already converted to JSON (file name → JSON) by `build.rs`.
fn load_skill_with(
    name: &str,
    origin: &str,
    files: Vec<(String, Vec<u8>)>,
    json: &HashMap<&str, &str>,
) -> Result<Skill, SkillError> {
    let mut skill_md = None;
    let mut rule_files = Vec::new();
    let mut assets = BTreeMap::new();
    for (file, bytes) in files {
        if file == "SKILL.md" {
            skill_md = Some(bytes);
        } else if is_rules_file(&file) {
            rule_files.push((file, bytes));
        } else {
            assets.insert(file, bytes);
        }
    }
    let md_path = format!("{origin}/SKILL.md");
    let skill_md = skill_md.ok_or_else(|| SkillError::Skill {
        file: md_path.clone(),
        reason: "missing: every skill folder needs a SKILL.md".into(),
    })?;
    let skill_md = String::from_utf8(skill_md).map_err(|_| SkillError::Skill {
        file: md_path.clone(),
        reason: "not valid UTF-8".into(),
    })?;
    let front = parse_front_matter(&skill_md, &md_path)?;
    if front.name != name {
        return Err(SkillError::Skill {
            file: md_path,
            reason: format!("front matter name {:?} must equal the folder name {name:?}", front.name),
        });
    }

    rule_files.sort();
    let mut rules: Vec<RuleDef> = Vec::new();
    for (file, bytes) in rule_files {
        let path = format!("{origin}/{file}");
        let text = String::from_utf8(bytes).map_err(|_| SkillError::Skill {
            file: path.clone(),
            reason: "not valid UTF-8".into(),
        })?;
        for rule in parse_rules(&text, &path, json.get(file.as_str()).copied())? {
            if let Some(first) = rules.iter().find(|r| r.id == rule.id) {
                return Err(duplicate_id(&rule, first));
            }
            rules.push(rule);
        }
    }

    Ok(Skill {
        name: front.name,
        description: front.description,
        category: front.category,
        version: front.version,
        skill_md,
        origin: origin.to_owned(),
        rules,
        assets,
    })
}

/// Front matter of SKILL.md. Unknown keys are allowed: agent hosts define their own (e.g. `license`,
/// `allowed-tools`) and a SKILL.md is shared with them.
#[derive(Deserialize)]
struct FrontMatter {
    name: String,
    description: String,
    category: String,
    version: String,
}

fn parse_front_matter(md: &str, file: &str) -> Result<FrontMatter, SkillError> {
    let err = |reason: String| SkillError::Skill {
        file: file.to_owned(),
        reason,
    };
    let body = md.strip_prefix('\u{feff}').unwrap_or(md);
    let mut lines = body.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some("---") {
        return Err(err("must start with a `---` line opening the YAML front matter".into()));
    }
    let mut yaml = String::new();
    let mut closed = false;
    for line in lines {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        yaml.push_str(line);
    }
    if !closed {
        return Err(err("front matter is not closed by a `---` line".into()));
    }
    let front: FrontMatter = serde_norway::from_str(&yaml).map_err(|e| {
        err(format!(
            "bad front matter (name, description, category, version are required strings): {e}"
        ))
    })?;
    for (key, value) in [
        ("name", &front.name),
        ("description", &front.description),
        ("category", &front.category),
        ("version", &front.version),
    ] {
        if value.trim().is_empty() {
            return Err(err(format!("front matter `{key}` is empty")));
        }
    }
    Ok(front)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    /// Named pieces of regex that this file's rules write as `(?&name)` ([`Fragments`]).
    #[serde(default)]
    fragments: BTreeMap<String, String>,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    category: Category,
    severity: Severity,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    literal: Option<String>,
    #[serde(default)]
    target: Target,
    #[serde(default)]
    validate: Option<Validator>,
    #[serde(default)]
    confidence: Option<f32>,
    #[serde(default)]
    cue: bool,
    #[serde(default)]
    sources: Option<Vec<Source>>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counterexamples: Vec<String>,
}

/// The rules of one rules file: from `json`, its contents as `build.rs` converted them, when given
/// and readable, else from the YAML `text` (which says where a mistake is). Line numbers come from
/// the YAML either way.
fn parse_rules(text: &str, file: &str, json: Option<&str>) -> Result<Vec<RuleDef>, SkillError> {
    let parsed: RulesFile = match json.and_then(|j| serde_json::from_str(j).ok()) {
        Some(parsed) => parsed,
        None => serde_norway::from_str(text).map_err(|e| SkillError::Rule {
            file: file.to_owned(),
            line: e.location().map_or(1, |l| l.line()),
            reason: e.to_string(),
        })?,
    };
    let fragments = Fragments::new(parsed.fragments, text, file)?;
    let mut id_lines = id_lines(text);
    let mut rules = Vec::with_capacity(parsed.rules.len());
    for mut raw in parsed.rules {
        // The k-th rule with a given id sits on the k-th `id:` line with that id.
        let line = id_lines
            .get_mut(raw.id.as_str())
            .and_then(|v| (!v.is_empty()).then(|| v.remove(0)))
            .unwrap_or(0);
        if let Some(regex) = &raw.regex {
            let expanded = fragments.expand(regex).map_err(|reason| SkillError::Rule {
                file: file.to_owned(),
                line,
                reason: format!("rule {}: {reason}", raw.id),
            })?;
            raw.regex = Some(expanded);
        }
        rules.push(check_rule(raw, file, line)?);
    }
    Ok(rules)
}

/// A rules file's named regex pieces. A list several rules (or several parts of one rule) share,
/// such as the words for "word for word" in twelve languages, is written once under `fragments:`
/// and named in a regex as `(?&name)`, which the loader replaces with the piece (in a non-capturing
/// group unless it is one group already). Without them each copy had to be changed alike, and two
/// copies of one list had drifted apart. The regex engine never sees the name: a rule's pattern
/// (in findings, `skills list`, the rule index) is the expanded one. Names are `[a-z0-9_]`;
/// fragments do not name fragments, nor capture. A fragment's parentheses must balance; any other
/// mistake in it fails the rules that name it, at their lines, when they compile. The flags in
/// force where a rule names it apply inside it (under `(?x)` its spaces would go): fragments are
/// written for the rules' own flags, as the rest of the regex is.
#[derive(Debug, Default)]
struct Fragments(HashMap<String, String>);

/// How a regex names a fragment: `(?&name)` (PCRE's call of a named group, which the `regex`
/// crate rejects, so an unexpanded name can never pass for a pattern).
const FRAGMENT_OPEN: &str = "(?&";

impl Fragments {
    fn new(raw: BTreeMap<String, String>, text: &str, file: &str) -> Result<Fragments, SkillError> {
        let mut fragments = HashMap::with_capacity(raw.len());
        for (name, piece) in raw {
            let err = |reason: String| SkillError::Rule {
                file: file.to_owned(),
                line: fragment_line(text, &name),
                reason: format!("fragment {name}: {reason}"),
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(err("a fragment's name uses only [a-z0-9_]".into()));
            }
            if piece.contains(FRAGMENT_OPEN) {
                return Err(err(format!(
                    "names another fragment; fragments do not nest ({FRAGMENT_OPEN}…)"
                )));
            }
            // One group already needs no other around it. (Only the parentheses are read here: a
            // full parse costs a fresh process 20 M instructions for three long fragments, and
            // any other mistake fails the rule that names it, at its line, when it compiles.)
            let piece = match one_group(&piece) {
                Ok(true) => piece,
                Ok(false) => format!("(?:{piece})"),
                Err(reason) => return Err(err(reason.into())),
            };
            fragments.insert(name, piece);
        }
        Ok(Fragments(fragments))
    }

    /// `regex` with every `(?&name)` replaced by its fragment. A `(?&` after a backslash or inside
    /// a character class is left as written (and the regex compiler reports it).
    fn expand(&self, regex: &str) -> Result<String, String> {
        if !regex.contains(FRAGMENT_OPEN) {
            return Ok(regex.to_owned());
        }
        let mut out = String::with_capacity(regex.len());
        let mut lexer = Lexer::default();
        let mut rest = regex;
        loop {
            if lexer.outside()
                && let Some(after) = rest.strip_prefix(FRAGMENT_OPEN)
            {
                let Some((name, tail)) = after.split_once(')') else {
                    return Err(format!("`{FRAGMENT_OPEN}` without its `)`"));
                };
                let Some(piece) = self.0.get(name) else {
                    let mut known: Vec<&str> = self.0.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    return Err(format!(
                        "names fragment {name:?}, which this file does not define (it defines: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ));
                };
                out.push_str(piece);
                rest = tail;
                continue;
            }
            let mut chars = rest.chars();
            let Some(c) = chars.next() else { break };
            lexer.read(c);
            out.push(c);
            rest = chars.as_str();
        }
        Ok(out)
    }
}

/// Whether `piece` is one non-capturing group, `(?:` (or `(?flags:`) to its matching `)`. An
/// error when its parentheses or brackets do not balance, it ends in a lone backslash, or it has
/// a capture group (which would become group 1, the span every rule that has groups reports, of
/// every rule that names it).
fn one_group(piece: &str) -> Result<bool, &'static str> {
    let mut lexer = Lexer::default();
    let mut depth = 0usize;
    // (a group closed before the end: a second part follows it)
    let mut closed_early = false;
    for (i, c) in piece.char_indices() {
        let active = lexer.outside();
        lexer.read(c);
        if !active {
            continue;
        }
        match c {
            '(' => {
                let after = piece.get(i + 1..).unwrap_or("");
                if !after.starts_with('?') || after.starts_with("?P<") || after.starts_with("?<") {
                    return Err("has a capture group (fragments group with `(?:`)");
                }
                depth += 1;
            }
            ')' => {
                depth = depth.checked_sub(1).ok_or("has unbalanced parentheses")?;
                closed_early |= depth == 0 && i + 1 < piece.len();
            }
            _ => {}
        }
    }
    if depth != 0 || !lexer.outside() {
        return Err("has unbalanced parentheses or brackets, or ends in a backslash");
    }
    let flags_then_colon = piece
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(flags, _)| flags.chars().all(|c| c.is_ascii_alphabetic() || c == '-'));
    Ok(flags_then_colon && !closed_early)
}

/// Where a reader of a regex is, char by char: after a backslash, or inside a character class
/// (how deep; a `]` right after `[` or `[^` is a literal), where `(` and `(?&` mean nothing.
#[derive(Debug, Default)]
struct Lexer {
    escaped: bool,
    class: usize,
    /// Just after a class's `[` (or `[^`).
    opened: bool,
    /// That `[` was followed by `^` already.
    negated: bool,
}

impl Lexer {
    /// Outside any class and not escaped: the next char means what it says.
    fn outside(&self) -> bool {
        !self.escaped && self.class == 0
    }

    fn read(&mut self, c: char) {
        let opened = std::mem::take(&mut self.opened);
        if std::mem::take(&mut self.escaped) {
            return;
        }
        match c {
            '\\' => self.escaped = true,
            '[' => {
                self.class += 1;
                (self.opened, self.negated) = (true, false);
            }
            '^' if opened && !self.negated => (self.opened, self.negated) = (true, true),
            ']' if self.class > 0 && !opened => self.class -= 1,
            _ => {}
        }
    }
}

/// The 1-based line of fragment `name` under `fragments:` (1 if not found).
fn fragment_line(text: &str, name: &str) -> usize {
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') && !line.starts_with('\t') {
            inside = line.split(" #").next().unwrap_or("").trim_end() == "fragments:";
            continue;
        }
        let trimmed = line.trim_start();
        if inside && trimmed.strip_prefix(name).is_some_and(|r| r.starts_with(':')) {
            return i + 1;
        }
    }
    1
}

/// 1-based line numbers of every `id: <value>` line, by value.
fn id_lines(text: &str) -> HashMap<&str, Vec<usize>> {
    let mut map: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let mut l = line.trim_start();
        if let Some(rest) = l.strip_prefix('-') {
            l = rest.trim_start();
        }
        let Some(rest) = l.strip_prefix("id:") else { continue };
        let mut value = rest.trim();
        if let Some(hash) = value.find(" #") {
            value = value[..hash].trim_end();
        }
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        map.entry(value).or_default().push(i + 1);
    }
    map
}

/// A rule id: `[a-z0-9._-]+`, or `witness/part` where one witness is written as several rules
/// (each part with literals of its own to run at; the risk counts the witness once).
fn valid_rule_id(id: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    };
    match id.split_once('/') {
        Some((witness, part)) => word(witness) && word(part),
        None => word(id),
    }
}

fn check_rule(raw: RawRule, file: &str, line: usize) -> Result<RuleDef, SkillError> {
    let err = |reason: String| SkillError::Rule {
        file: file.to_owned(),
        line,
        reason,
    };
    if !valid_rule_id(&raw.id) {
        return Err(err(format!(
            "rule id {:?} must be non-empty and use only [a-z0-9._-], with at most one `/` before a part's name",
            raw.id
        )));
    }
    let pattern = match (raw.regex, raw.literal) {
        (Some(re), None) => Pattern::Regex(re),
        (None, Some(lit)) => Pattern::Literal(lit),
        (Some(_), Some(_)) => {
            return Err(err(format!(
                "rule {}: give either `regex` or `literal`, not both",
                raw.id
            )));
        }
        (None, None) => return Err(err(format!("rule {}: needs a `regex` or a `literal`", raw.id))),
    };
    if matches!(&pattern, Pattern::Regex(p) | Pattern::Literal(p) if p.is_empty()) {
        return Err(err(format!("rule {}: empty pattern", raw.id)));
    }
    if let Some(c) = raw.confidence
        && !(0.0..=1.0).contains(&c)
    {
        return Err(err(format!("rule {}: confidence {c} is outside 0..1", raw.id)));
    }
    if raw.cue && (raw.target != Target::Normalized || raw.validate.is_some()) {
        return Err(err(format!(
            "rule {}: a cue reads the normalised text and has no validator",
            raw.id
        )));
    }
    let sources = match raw.sources {
        Some(list) if list.is_empty() => {
            return Err(err(format!(
                "rule {}: `sources` is empty, so the rule would read nothing (leave it out to read every source)",
                raw.id
            )));
        }
        Some(list) => list,
        None => Vec::new(),
    };
    Ok(RuleDef {
        id: raw.id,
        category: raw.category,
        severity: raw.severity,
        pattern,
        target: raw.target,
        validate: raw.validate,
        confidence: raw.confidence,
        cue: raw.cue,
        sources,
        notes: raw.notes,
        examples: raw.examples,
        counterexamples: raw.counterexamples,
        file: file.to_owned(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str =
        "---\nname: demo\ndescription: Demo skill\ncategory: prompt_injection\nversion: 1.0.0\n---\n# Demo\n";

    fn files(rules: &str) -> Vec<(String, Vec<u8>)> {
        vec![
            ("SKILL.md".into(), MD.as_bytes().to_vec()),
            ("rules.yaml".into(), rules.as_bytes().to_vec()),
        ]
    }

    fn rule_err(e: SkillError) -> (String, usize, String) {
        match e {
            SkillError::Rule { file, line, reason } => (file, line, reason),
            other => panic!("expected a rule error, got {other}"),
        }
    }

    #[test]
    fn rule_ids_may_name_one_part() {
        for good in ["pi.x", "pi.x-y_2", "pi.witness/label"] {
            assert!(valid_rule_id(good), "{good}");
        }
        for bad in ["", "Pi.x", "pi x", "pi.x/", "/label", "pi/x/y", "pi.x/La"] {
            assert!(!valid_rule_id(bad), "{bad}");
        }
    }

    #[test]
    fn loads_a_skill_with_rule_lines_and_assets() {
        let rules = "rules:\n  - id: a.one\n    category: prompt_injection\n    severity: high\n    literal: 'x y'\n\n  - id: \"a.two\"\n    category: jailbreak\n    severity: low\n    regex: 'ab+c'\n    target: raw\n    confidence: 0.3\n";
        let mut f = files(rules);
        f.push(("model.bin".into(), vec![1, 2, 3]));
        let skill = load_skill("demo", "skills/demo", f).unwrap();
        assert_eq!(skill.rules.len(), 2);
        assert_eq!((skill.rules[0].line, skill.rules[1].line), (2, 7));
        assert_eq!(skill.rules[1].pattern, Pattern::Regex("ab+c".into()));
        assert_eq!(skill.rules[1].target, Target::Raw);
        assert_eq!(skill.rules[0].file, "skills/demo/rules.yaml");
        assert_eq!(skill.assets.get("model.bin").map(|v| v.len()), Some(3));
        assert_eq!(skill.version, "1.0.0");
    }

    #[test]
    fn cues_load_and_must_read_the_normalised_text() {
        let cue = "rules:\n  - id: a.cue\n    category: jailbreak\n    severity: low\n    cue: true\n    regex: 'imagine you are'\n";
        let skill = load_skill("demo", "skills/demo", files(cue)).unwrap();
        assert!(skill.rules[0].cue);
        let raw = format!("{cue}    target: raw\n");
        let (_, line, reason) = rule_err(load_skill("demo", "skills/demo", files(&raw)).unwrap_err());
        assert_eq!(line, 2);
        assert!(reason.contains("a.cue") && reason.contains("normalised"), "{reason}");
    }

    #[test]
    fn sources_limit_what_a_rule_reads() {
        let head = "rules:\n  - id: a.reply\n    category: prompt_injection\n    severity: medium\n    literal: 'your response'\n";
        let skill = load_skill(
            "demo",
            "d",
            files(&format!("{head}    sources: [tool_output, document]\n")),
        )
        .unwrap();
        let rule = &skill.rules[0];
        assert_eq!(rule.sources, vec![Source::ToolOutput, Source::Document]);
        assert!(rule.reads(Some(Source::ToolOutput)) && rule.reads(Some(Source::Document)));
        assert!(
            !rule.reads(Some(Source::User)) && !rule.reads(None),
            "unknown source: only unlimited rules"
        );
        let every = load_skill("demo", "d", files(head)).unwrap();
        assert!(every.rules[0].sources.is_empty());
        assert!(every.rules[0].reads(None) && every.rules[0].reads(Some(Source::ModelOutput)));

        let (_, line, reason) =
            rule_err(load_skill("demo", "d", files(&format!("{head}    sources: []\n"))).unwrap_err());
        assert_eq!(line, 2);
        assert!(reason.contains("a.reply") && reason.contains("sources"), "{reason}");
        let (_, line, reason) = rule_err(
            load_skill(
                "demo",
                "d",
                files(&format!("{head}    sources: [tool_output, e-mail]\n")),
            )
            .unwrap_err(),
        );
        assert_eq!(line, 6, "{reason}");
        assert!(reason.contains("e-mail"), "{reason}");
    }

    #[test]
    fn unknown_field_reports_its_line() {
        let rules = "rules:\n  - id: a.one\n    category: prompt_injection\n    severity: high\n    literal: x\n    sevrity: low\n";
        let (file, line, reason) = rule_err(load_skill("demo", "skills/demo", files(rules)).unwrap_err());
        assert_eq!(file, "skills/demo/rules.yaml");
        assert_eq!(line, 6, "{reason}");
        assert!(reason.contains("sevrity"), "{reason}");
    }

    #[test]
    fn unknown_category_and_severity_fail() {
        let rules = "rules:\n  - id: a.one\n    category: nonsense\n    severity: high\n    literal: x\n";
        let (_, line, reason) = rule_err(load_skill("demo", "d", files(rules)).unwrap_err());
        assert_eq!(line, 3);
        assert!(reason.contains("nonsense"), "{reason}");
        let rules = "rules:\n  - id: a.one\n    category: jailbreak\n    severity: huge\n    literal: x\n";
        assert!(reason_of(load_skill("demo", "d", files(rules))).contains("huge"));
    }

    fn reason_of(r: Result<Skill, SkillError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn bad_rules_fail_at_the_id_line() {
        let head = "rules:\n  - id: ok.rule\n    category: jailbreak\n    severity: low\n    literal: fine\n";
        let cases = [
            (
                "  - id: Bad.ID\n    category: jailbreak\n    severity: low\n    literal: x\n",
                "[a-z0-9._-]",
            ),
            (
                "  - id: both\n    category: jailbreak\n    severity: low\n    literal: x\n    regex: y\n",
                "not both",
            ),
            (
                "  - id: neither\n    category: jailbreak\n    severity: low\n",
                "needs a `regex` or a `literal`",
            ),
            (
                "  - id: empty\n    category: jailbreak\n    severity: low\n    regex: ''\n",
                "empty pattern",
            ),
            (
                "  - id: conf\n    category: jailbreak\n    severity: low\n    literal: x\n    confidence: 1.5\n",
                "outside 0..1",
            ),
            (
                "  - id: ok.rule\n    category: jailbreak\n    severity: low\n    literal: x\n",
                "duplicate rule id",
            ),
        ];
        for (bad, expect) in cases {
            let text = format!("{head}{bad}");
            let (file, line, reason) = rule_err(load_skill("demo", "skills/demo", files(&text)).unwrap_err());
            assert_eq!(file, "skills/demo/rules.yaml");
            assert_eq!(line, 6, "{expect}: {reason}");
            assert!(reason.contains(expect), "{expect}: {reason}");
        }
    }

    #[test]
    fn duplicate_ids_across_skills_fail() {
        let rules = "rules:\n  - id: same.id\n    category: jailbreak\n    severity: low\n    literal: x\n";
        let mut set = SkillSet::default();
        set.push(load_skill("demo", "one", files(rules)).unwrap()).unwrap();
        let md2 = MD.replace("name: demo", "name: other");
        let other = load_skill(
            "other",
            "two",
            vec![
                ("SKILL.md".into(), md2.into_bytes()),
                ("rules-extra.yaml".into(), rules.as_bytes().to_vec()),
            ],
        )
        .unwrap();
        let (file, line, reason) = rule_err(set.push(other).unwrap_err());
        assert_eq!((file.as_str(), line), ("two/rules-extra.yaml", 2));
        assert!(reason.contains("one/rules.yaml:2"), "{reason}");
    }

    #[test]
    fn bad_front_matter_fails() {
        let cases = [
            ("# no front matter\n", "must start with"),
            (
                "---\nname: demo\ndescription: d\ncategory: c\nversion: 1\n",
                "not closed",
            ),
            ("---\nname: demo\ndescription: d\ncategory: c\n---\n", "version"),
            (
                "---\nname: other\ndescription: d\ncategory: c\nversion: '1'\n---\n",
                "folder name",
            ),
            (
                "---\nname: demo\ndescription: ''\ncategory: c\nversion: '1'\n---\n",
                "`description` is empty",
            ),
        ];
        for (md, expect) in cases {
            let f = vec![("SKILL.md".into(), md.as_bytes().to_vec())];
            match load_skill("demo", "skills/demo", f) {
                Err(SkillError::Skill { file, reason }) => {
                    assert_eq!(file, "skills/demo/SKILL.md");
                    assert!(reason.contains(expect), "{expect}: {reason}");
                }
                other => panic!("{expect}: expected a skill error, got {other:?}"),
            }
        }
        let err = load_skill("demo", "skills/demo", vec![]).unwrap_err();
        assert!(err.to_string().contains("SKILL.md"));
    }

    #[test]
    fn from_dir_loads_and_bounds_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let demo = dir.path().join("demo");
        std::fs::create_dir(&demo).unwrap();
        std::fs::write(demo.join("SKILL.md"), MD).unwrap();
        std::fs::write(
            demo.join("rules.yaml"),
            "rules:\n  - id: d.x\n    category: jailbreak\n    severity: low\n    literal: x\n",
        )
        .unwrap();
        std::fs::write(demo.join(".swp"), "garbage").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let set = SkillSet::from_dir(dir.path()).unwrap();
        assert_eq!(set.summary().len(), 1);
        assert_eq!(set.summary()[0].rules, 1);
        assert!(set.skills[0].assets.is_empty());

        let big = std::fs::File::create(demo.join("model.bin")).unwrap();
        big.set_len(MAX_SKILL_FILE_BYTES + 1).unwrap();
        let err = SkillSet::from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("model.bin") && err.contains("limit"), "{err}");
    }

    #[test]
    fn embedded_skills_load() {
        let set = SkillSet::embedded().unwrap();
        let names: Vec<String> = set.summary().into_iter().map(|s| s.name).collect();
        for expected in [
            "prompt-injection",
            "jailbreak",
            "obfuscation",
            "exfiltration",
            "system-prompt-leak",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        assert!(set.rules().count() > 50);
    }

    #[test]
    fn fragments_are_named_once_and_expanded_in_every_rule() {
        let yaml = "fragments:\n  verbatim: 'word for word|verbatim'\n  polite: '(?:please|kindly)'\nrules:\n  - id: a.b\n    category: prompt_injection\n    severity: high\n    regex: '(?&polite) copy it (?&verbatim)(?: and (?&verbatim))?'\n  - id: a.c\n    category: prompt_injection\n    severity: high\n    regex: 'no fragment \\(?&x\\) here [(?&y)]'\n";
        let rules = parse_rules(yaml, "f/rules.yaml", None).unwrap();
        let pattern = |i: usize| match &rules[i].pattern {
            Pattern::Regex(p) => p.clone(),
            Pattern::Literal(_) => unreachable!(),
        };
        // a choice is grouped, a group is put in as written
        assert_eq!(
            pattern(0),
            "(?:please|kindly) copy it (?:word for word|verbatim)(?: and (?:word for word|verbatim))?"
        );
        // after a backslash or inside a class, `(?&` is the regex's own business
        assert_eq!(pattern(1), r"no fragment \(?&x\) here [(?&y)]");
        assert_eq!(rules[0].line, 5);
    }

    #[test]
    fn a_fragment_is_one_group_only_from_its_first_parenthesis_to_its_last() {
        assert_eq!(one_group("(?:a|b)"), Ok(true));
        assert_eq!(one_group("(?i:a|b)"), Ok(true));
        assert_eq!(one_group(r"(?:[)]|\)|x)"), Ok(true));
        // a `]` first in a class is one of its chars: the class runs on to the next one
        assert_eq!(one_group("(?:[])]|x)"), Ok(true));
        assert_eq!(one_group("(?:[^](]a)|(?:b[])])"), Ok(false));
        assert_eq!(one_group("a|b"), Ok(false));
        assert_eq!(one_group("(?:a)|(?:b)"), Ok(false));
        assert_eq!(one_group("(?i)a|b"), Ok(false), "flags alone are no group");
        assert_eq!(one_group(r"\(a\)"), Ok(false));
        assert_eq!(one_group("[(]x"), Ok(false));
        for bad in ["(?:a", "a)", "[a", "a\\", "(a|b)", "(?P<n>a)", "(?<n>a)"] {
            assert!(one_group(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_fragment_or_an_unknown_name_fails_with_its_line() {
        let rule = |regex: &str| {
            format!("rules:\n  - id: a.b\n    category: prompt_injection\n    severity: high\n    regex: '{regex}'\n")
        };
        let fail = |yaml: String| match parse_rules(&yaml, "f/rules.yaml", None) {
            Err(SkillError::Rule { file, line, reason }) => (file, line, reason),
            other => panic!("{other:?}"),
        };
        let (file, line, reason) = fail(format!("fragments:\n  one: 'a|b'\n{}", rule("x (?&two)")));
        assert_eq!((file.as_str(), line), ("f/rules.yaml", 4));
        assert!(
            reason.contains("\"two\"") && reason.contains("defines: one"),
            "{reason}"
        );
        let (_, line, reason) = fail(format!("fragments:\n  one: 'a|b'\n  two: '(?:c'\n{}", rule("x")));
        assert!(
            line == 3 && reason.contains("fragment two") && reason.contains("unbalanced"),
            "{reason}"
        );
        let (_, line, reason) = fail(format!("fragments:\n  one: 'a'\n  two: 'b(?&one)'\n{}", rule("x")));
        assert!(line == 3 && reason.contains("do not nest"), "{reason}");
        let (_, line, reason) = fail(format!("fragments:\n  One: 'a'\n{}", rule("x")));
        assert!(line == 2 && reason.contains("[a-z0-9_]"), "{reason}");
        let (_, line, reason) = fail(rule("x (?&one"));
        assert!(line == 2 && reason.contains("without its"), "{reason}");
    }

    /// Every embedded rules file has its JSON form, and it reads as the same rules as the YAML.
    #[test]
    fn embedded_rules_read_the_same_from_json_as_from_yaml() {
        let mut files = 0;
        for &(skill, file, bytes) in EMBEDDED.iter().filter(|(_, f, _)| is_rules_file(f)) {
            let json = EMBEDDED_RULES_JSON
                .iter()
                .find(|(s, f, _)| *s == skill && *f == file)
                .map(|&(_, _, json)| json);
            assert!(json.is_some(), "{skill}/{file} has no JSON form");
            // and the JSON itself reads (a fallback to the YAML would pass the comparison below)
            assert!(
                json.is_some_and(|j| serde_json::from_str::<RulesFile>(j).is_ok()),
                "{skill}/{file}: its JSON form does not read"
            );
            let text = std::str::from_utf8(bytes).unwrap();
            let path = format!("skills/{skill}/{file}");
            let from_json = parse_rules(text, &path, json).unwrap();
            let from_yaml = parse_rules(text, &path, None).unwrap();
            assert_eq!(format!("{from_json:?}"), format!("{from_yaml:?}"), "{path}");
            files += 1;
        }
        assert!(files >= 8);
        // JSON that does not read as rules falls back to the YAML
        let yaml = "rules:\n  - id: a.b\n    category: prompt_injection\n    severity: high\n    literal: xyz\n";
        for bad in ["{", r#"{"rules": [{"id": "a.b", "nope": 1}]}"#] {
            let rules = parse_rules(yaml, "t/rules.yaml", Some(bad)).unwrap();
            assert_eq!((rules.len(), rules[0].line), (1, 2));
        }
    }
}
