//! A small past-time LTL for temporal policies over a session's event trace (DESIGN §3, validator).
//!
//! Single scans cannot see attack *chains*: reading `.env` is fine, calling `curl` is fine, but
//! `curl` after `.env` was read in the same session is exfiltration. A session is a trace of events;
//! each event is described by a small set of [`EventAtoms`] (`tool:Bash`, `egress:evil.io`,
//! `reads_secret`, ...), and a policy is a past-time LTL formula over those atoms.
//!
//! # Syntax
//!
//! Keywords are case-insensitive; symbol and word forms are interchangeable. From lowest to tightest:
//!
//! | form | meaning |
//! |---|---|
//! | `φ -> ψ` | implication (right-associative) |
//! | `φ \|\| ψ`, `φ or ψ` | disjunction |
//! | `φ && ψ`, `φ and ψ` | conjunction |
//! | `φ since ψ` | ψ held at some step j ≤ i and φ held at every step in (j, i] (left-associative) |
//! | `!φ`, `not φ` | negation |
//! | `previously φ` | φ held at the previous step (false at the first step) |
//! | `once φ` | φ held at some step ≤ i |
//! | `historically φ`, `always φ` | φ held at every step ≤ i |
//! | `never φ` | `historically !φ` |
//! | `( φ )`, `true`, `false`, atoms | |
//!
//! Unary operators bind tightest, so `once a && b` is `(once a) && b`. An atom is
//! `[A-Za-z0-9_:.*/@-]+`; it may contain `*` globs (`egress:*`, `egress:*.example.com`) and matches
//! an event atom ASCII-case-insensitively. Formulas are bounded ([`MAX_FORMULA_BYTES`],
//! [`MAX_DEPTH`]) because they come from configuration files that a user may not have written.
//!
//! # Evaluation
//!
//! A formula compiles to a flat array of nodes in post-order (children before parents). Past-time
//! operators only need the previous step's value of each node, so a [`Monitor`] keeps one `bool`
//! per node and each [`Monitor::step`] costs O(formula size) — a session of a million events costs
//! the same per event as one of ten. (Matching the formula's atom patterns against the event's
//! atoms adds a binary search per exact atom and a scan of the matching prefix range per glob,
//! bounded by [`MAX_EVENT_ATOMS`].) The whole state is a [`MonitorState`] that serialises, so a
//! session survives between processes (each Claude Code hook call is a new process).
//!
//! # Policies
//!
//! A [`TemporalPolicy`] names a formula and the action taken when an event violates it. Policies
//! whose top-level operator is `always ψ` or `never ψ` are **invariants**: an event violates the
//! policy iff ψ is false (for `always`) or true (for `never`) *at that event*, with full past-time
//! semantics for the operators inside ψ. Evaluating `always ψ` literally would latch: after one
//! violation the formula stays false forever, and every later event of the session — however
//! harmless — would be blocked. Any other formula is violated at an event iff it is false there.
//! Because unary operators bind tightest, `never a && b` is `(never a) && b`, a plain formula:
//! write `never (a && b)`.
//!
//! ```
//! use aimds_runtime::ltl::{EventAtoms, SessionMonitor, SessionState, compile_policies, default_policies};
//!
//! let policies = compile_policies(&default_policies())?;
//! let mut session = SessionMonitor::new(&policies);
//! let read: EventAtoms = ["tool_call", "tool:Read", "reads_secret"].into_iter().collect();
//! assert!(session.step(&read).is_empty());
//! // The next hook call is another process: persist the state, resume it there.
//! let saved = serde_json::to_string(&session.state())?;
//! let (mut session, restarted) = SessionMonitor::resume(&policies, serde_json::from_str::<SessionState>(&saved)?);
//! assert!(restarted.is_empty());
//! let upload: EventAtoms = ["tool_call", "tool:Bash", "exec", "egress:evil.io"].into_iter().collect();
//! let violations = session.step(&upload);
//! assert_eq!(violations.len(), 1);
//! assert_eq!(violations[0].policy, "no-egress-after-secret-read");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::types::Action;

/// Longest formula accepted, in bytes.
pub const MAX_FORMULA_BYTES: usize = 4096;
/// Deepest nesting of parentheses and unary operators accepted.
pub const MAX_DEPTH: usize = 64;
/// Most atoms one event carries. Beyond it further atoms are dropped and [`ATOMS_TRUNCATED`] is
/// added, so a policy can treat a suspiciously busy event as such instead of silently missing atoms.
pub const MAX_EVENT_ATOMS: usize = 1024;
/// Longest atom kept, in bytes (a DNS name is at most 253 bytes, plus a prefix such as `egress:`).
pub const MAX_ATOM_BYTES: usize = 320;
/// The atom an event carries when it had more than [`MAX_EVENT_ATOMS`] atoms.
pub const ATOMS_TRUNCATED: &str = "atoms_truncated";
/// Longest policy name accepted, in bytes.
pub const MAX_POLICY_NAME_BYTES: usize = 128;
/// Longest policy message accepted, in bytes.
pub const MAX_POLICY_MESSAGE_BYTES: usize = 1024;

/// Why a formula, a policy or a monitor state was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LtlError {
    /// The formula does not parse; `column` is 1-based and counts characters.
    #[error("at column {column}: expected {expected}, found {found}")]
    Syntax {
        column: usize,
        expected: String,
        found: String,
    },
    #[error("formula is {len} bytes, above the limit of {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("at column {column}: formula nests deeper than {max} levels")]
    TooDeep { column: usize, max: usize },
    /// A persisted monitor state belongs to another formula (the policy was edited).
    #[error("monitor state is for formula {found}, not for this formula ({expected})")]
    DigestMismatch { expected: String, found: String },
    /// A persisted monitor state that cannot belong to the formula (corrupted or forged).
    #[error("monitor state holds {found} node values but the formula has {expected} nodes")]
    BadState { expected: usize, found: usize },
    /// A policy's formula does not parse.
    #[error("temporal policy {name:?}: bad formula: {source}")]
    Policy { name: String, source: Box<LtlError> },
    /// A policy's other fields are wrong.
    #[error("temporal policy {name:?}: {message}")]
    InvalidPolicy { name: String, message: String },
}

// ---------------------------------------------------------------------------------------------
// Event atoms
// ---------------------------------------------------------------------------------------------

/// The atoms of one event: a small sorted, deduplicated set of ASCII-lowercased strings.
///
/// Sorted so exact lookups and prefix globs (`egress:*`) are binary searches. Atoms past
/// [`MAX_ATOM_BYTES`] are cut at a char boundary; past [`MAX_EVENT_ATOMS`] atoms, later ones are
/// dropped (so the atoms inserted first — the event's kind, tool, secrets — always survive) and
/// [`ATOMS_TRUNCATED`] is added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct EventAtoms {
    atoms: Vec<String>,
}

impl EventAtoms {
    pub fn new() -> Self {
        EventAtoms::default()
    }

    /// Add one atom; returns whether the set changed. Empty atoms are ignored.
    pub fn insert(&mut self, atom: &str) -> bool {
        let atom = normalize_atom(atom);
        if atom.is_empty() {
            return false;
        }
        match self.atoms.binary_search(&atom) {
            Ok(_) => false,
            Err(pos) => {
                // One slot stays reserved for the truncation marker.
                if self.atoms.len() + 1 >= MAX_EVENT_ATOMS {
                    return self.mark_truncated();
                }
                self.atoms.insert(pos, atom);
                true
            }
        }
    }

    fn mark_truncated(&mut self) -> bool {
        match self.atoms.binary_search_by(|a| a.as_str().cmp(ATOMS_TRUNCATED)) {
            Ok(_) => false,
            Err(pos) => {
                self.atoms.insert(pos, ATOMS_TRUNCATED.to_string());
                true
            }
        }
    }

    /// Whether the set holds exactly this atom (ASCII-case-insensitive).
    pub fn contains(&self, atom: &str) -> bool {
        let atom = normalize_atom(atom);
        self.atoms.binary_search(&atom).is_ok()
    }

    /// Whether some atom matches the glob (`*` matches any run of characters, ASCII case ignored).
    pub fn contains_pattern(&self, glob: &str) -> bool {
        self.matches_normalized(&glob.to_ascii_lowercase())
    }

    /// [`Self::contains_pattern`] for a glob that is already lowercase (compiled formulas are).
    fn matches_normalized(&self, glob: &str) -> bool {
        let Some(star) = glob.find('*') else {
            return self.atoms.binary_search_by(|a| a.as_str().cmp(glob)).is_ok();
        };
        // Every match starts with the literal prefix before the first `*`; in a sorted set those
        // atoms are one contiguous run, found by binary search.
        let prefix = &glob[..star];
        let start = self.atoms.partition_point(|a| a.as_str() < prefix);
        self.atoms[start..]
            .iter()
            .take_while(|a| a.starts_with(prefix))
            .any(|a| glob_match(glob.as_bytes(), a.as_bytes()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.atoms.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// Whether atoms were dropped because the event had too many.
    pub fn is_truncated(&self) -> bool {
        self.contains(ATOMS_TRUNCATED)
    }
}

impl<S: AsRef<str>> FromIterator<S> for EventAtoms {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = EventAtoms::new();
        set.extend(iter);
        set
    }
}

impl<S: AsRef<str>> Extend<S> for EventAtoms {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        for a in iter {
            self.insert(a.as_ref());
        }
    }
}

impl From<Vec<String>> for EventAtoms {
    /// Deserialised atoms are untrusted: they go through the same normalisation and bounds.
    fn from(v: Vec<String>) -> Self {
        v.into_iter().collect()
    }
}

impl From<EventAtoms> for Vec<String> {
    fn from(a: EventAtoms) -> Self {
        a.atoms
    }
}

fn normalize_atom(atom: &str) -> String {
    let atom = atom.trim();
    let mut end = atom.len().min(MAX_ATOM_BYTES);
    while !atom.is_char_boundary(end) {
        end -= 1;
    }
    atom[..end].to_ascii_lowercase()
}

/// Glob match over bytes: `*` matches any run (including an empty one). Iterative with one
/// backtrack point, so the work is O(|glob| · |text|) at worst and needs no recursion.
fn glob_match(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && glob[g] == b'*' {
            star = Some((g, t));
            g += 1;
        } else if g < glob.len() && glob[g] == text[t] {
            g += 1;
            t += 1;
        } else if let Some((sg, st)) = star {
            g = sg + 1;
            t = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == b'*')
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Not,
    And,
    Or,
    Implies,
    Word(String),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character column of the token's first character.
    column: usize,
}

fn is_atom_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '*' | '/' | '@' | '-')
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Not => "'!'".into(),
        Tok::And => "'&&'".into(),
        Tok::Or => "'||'".into(),
        Tok::Implies => "'->'".into(),
        Tok::Word(w) => format!("'{w}'"),
        Tok::End => "end of input".into(),
    }
}

fn lex(src: &str) -> Result<Vec<Token>, LtlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let syntax = |column: usize, expected: &str, found: String| LtlError::Syntax {
        column,
        expected: expected.into(),
        found,
    };
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '!' => Tok::Not,
            '&' if next == Some('&') => Tok::And,
            '|' if next == Some('|') => Tok::Or,
            '-' if next == Some('>') => Tok::Implies,
            '&' => return Err(syntax(column, "'&&'", "'&'".into())),
            '|' => return Err(syntax(column, "'||'", "'|'".into())),
            c if is_atom_char(c) => {
                let start = i;
                // `-` belongs to an atom (`x-y`) unless it starts `->`.
                while i < chars.len() && is_atom_char(chars[i]) && !(chars[i] == '-' && chars.get(i + 1) == Some(&'>'))
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word(chars[start..i].iter().collect()),
                    column,
                });
                continue;
            }
            other => {
                return Err(syntax(
                    column,
                    "an atom, an operator or a parenthesis",
                    format!("character {other:?}"),
                ));
            }
        };
        i += if matches!(tok, Tok::And | Tok::Or | Tok::Implies) {
            2
        } else {
            1
        };
        out.push(Token { tok, column });
    }
    out.push(Token {
        tok: Tok::End,
        column: chars.len() + 1,
    });
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent that emits nodes in post-order
// ---------------------------------------------------------------------------------------------

/// One node of a compiled formula; operands are indices of earlier nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Const(bool),
    /// Index into the formula's distinct atom patterns.
    Atom(u32),
    Not(u32),
    And(u32, u32),
    Or(u32, u32),
    Implies(u32, u32),
    Since(u32, u32),
    Previously(u32),
    Once(u32),
    Historically(u32),
    /// Same truth value as `Historically`; kept apart because a top-level `always`/`never` makes a
    /// policy an invariant (see the module docs).
    Always(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Or,
    And,
    Since,
    Not,
    Previously,
    Once,
    Historically,
    Always,
    Never,
    True,
    False,
}

fn keyword(word: &str) -> Option<Keyword> {
    const KEYWORDS: [(&str, Keyword); 11] = [
        ("or", Keyword::Or),
        ("and", Keyword::And),
        ("since", Keyword::Since),
        ("not", Keyword::Not),
        ("previously", Keyword::Previously),
        ("once", Keyword::Once),
        ("historically", Keyword::Historically),
        ("always", Keyword::Always),
        ("never", Keyword::Never),
        ("true", Keyword::True),
        ("false", Keyword::False),
    ];
    KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map(|&(_, k)| k)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: Vec<Node>,
    patterns: Vec<String>,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `lex` always ends the stream with `End`, and `bump` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn peek_keyword(&self) -> Option<Keyword> {
        match &self.peek().tok {
            Tok::Word(w) => keyword(w),
            _ => None,
        }
    }

    fn push(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        // The formula is at most MAX_FORMULA_BYTES long, so it never has more than u32::MAX nodes.
        (self.nodes.len() - 1) as u32
    }

    fn enter(&mut self) -> Result<(), LtlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(LtlError::TooDeep {
                column: self.peek().column,
                max: MAX_DEPTH,
            });
        }
        Ok(())
    }

    fn implies(&mut self) -> Result<u32, LtlError> {
        // Right-associative, folded iteratively so a long chain costs no stack.
        let mut operands = vec![self.or()?];
        while self.peek().tok == Tok::Implies {
            self.bump();
            operands.push(self.or()?);
        }
        let mut acc = operands.pop().unwrap_or(0);
        while let Some(lhs) = operands.pop() {
            acc = self.push(Node::Implies(lhs, acc));
        }
        Ok(acc)
    }

    fn or(&mut self) -> Result<u32, LtlError> {
        let mut lhs = self.and()?;
        while self.peek().tok == Tok::Or || self.peek_keyword() == Some(Keyword::Or) {
            self.bump();
            let rhs = self.and()?;
            lhs = self.push(Node::Or(lhs, rhs));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<u32, LtlError> {
        let mut lhs = self.since()?;
        while self.peek().tok == Tok::And || self.peek_keyword() == Some(Keyword::And) {
            self.bump();
            let rhs = self.since()?;
            lhs = self.push(Node::And(lhs, rhs));
        }
        Ok(lhs)
    }

    fn since(&mut self) -> Result<u32, LtlError> {
        let mut lhs = self.unary()?;
        while self.peek_keyword() == Some(Keyword::Since) {
            self.bump();
            let rhs = self.unary()?;
            lhs = self.push(Node::Since(lhs, rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<u32, LtlError> {
        let op = match (&self.peek().tok, self.peek_keyword()) {
            (Tok::Not, _) | (_, Some(Keyword::Not)) => Some(Keyword::Not),
            (_, Some(k @ (Keyword::Previously | Keyword::Once | Keyword::Historically | Keyword::Always))) => Some(k),
            (_, Some(Keyword::Never)) => Some(Keyword::Never),
            _ => None,
        };
        let Some(op) = op else {
            return self.primary();
        };
        self.bump();
        self.enter()?;
        let c = self.unary()?;
        self.depth -= 1;
        Ok(match op {
            Keyword::Not => self.push(Node::Not(c)),
            Keyword::Previously => self.push(Node::Previously(c)),
            Keyword::Once => self.push(Node::Once(c)),
            Keyword::Historically => self.push(Node::Historically(c)),
            Keyword::Always => self.push(Node::Always(c)),
            // never φ = always ¬φ
            _ => {
                let n = self.push(Node::Not(c));
                self.push(Node::Always(n))
            }
        })
    }

    fn primary(&mut self) -> Result<u32, LtlError> {
        let t = self.bump();
        match t.tok {
            Tok::LParen => {
                self.enter()?;
                let inner = self.implies()?;
                self.depth -= 1;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return Err(LtlError::Syntax {
                        column: close.column,
                        expected: "')'".into(),
                        found: describe(&close.tok),
                    });
                }
                Ok(inner)
            }
            Tok::Word(w) => match keyword(&w) {
                Some(Keyword::True) => Ok(self.push(Node::Const(true))),
                Some(Keyword::False) => Ok(self.push(Node::Const(false))),
                Some(_) => Err(LtlError::Syntax {
                    column: t.column,
                    expected: "an atom, 'true', 'false', '(' or a unary operator".into(),
                    found: format!("keyword '{w}'"),
                }),
                None => {
                    let pat = w.to_ascii_lowercase();
                    let idx = match self.patterns.iter().position(|p| *p == pat) {
                        Some(i) => i,
                        None => {
                            self.patterns.push(pat);
                            self.patterns.len() - 1
                        }
                    };
                    Ok(self.push(Node::Atom(idx as u32)))
                }
            },
            other => Err(LtlError::Syntax {
                column: t.column,
                expected: "a formula".into(),
                found: describe(&other),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Formula
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct FormulaInner {
    source: String,
    nodes: Vec<Node>,
    patterns: Vec<String>,
    digest: String,
}

/// A parsed and compiled formula. Cheap to clone (the compiled form is shared).
#[derive(Debug, Clone)]
pub struct Formula {
    inner: Arc<FormulaInner>,
}

impl PartialEq for Formula {
    /// Two formulas are equal when they compile to the same nodes, whatever their spelling.
    fn eq(&self, other: &Self) -> bool {
        self.inner.digest == other.inner.digest
    }
}

impl Eq for Formula {}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.source)
    }
}

impl std::str::FromStr for Formula {
    type Err = LtlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Formula::parse(s)
    }
}

impl Formula {
    /// Parse and compile a formula.
    pub fn parse(src: &str) -> Result<Formula, LtlError> {
        if src.len() > MAX_FORMULA_BYTES {
            return Err(LtlError::TooLong {
                len: src.len(),
                max: MAX_FORMULA_BYTES,
            });
        }
        let mut p = Parser {
            toks: lex(src)?,
            pos: 0,
            depth: 0,
            nodes: Vec::new(),
            patterns: Vec::new(),
        };
        p.implies()?;
        let end = p.peek().clone();
        if end.tok != Tok::End {
            let expected = if end.tok == Tok::RParen {
                "end of input (unbalanced ')')"
            } else {
                "an operator ('->', '||', '&&', 'since') or end of input"
            };
            return Err(LtlError::Syntax {
                column: end.column,
                expected: expected.into(),
                found: describe(&end.tok),
            });
        }
        Ok(Formula::from_parts(src.to_string(), p.nodes, p.patterns))
    }

    fn from_parts(source: String, nodes: Vec<Node>, patterns: Vec<String>) -> Formula {
        let digest = digest_of(&nodes, &patterns);
        Formula {
            inner: Arc::new(FormulaInner {
                source,
                nodes,
                patterns,
                digest,
            }),
        }
    }

    /// The text the formula was parsed from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// SHA-256 (hex) of the compiled nodes: the same for any spelling of the same formula
    /// (whitespace, keyword case, `&&` vs `and`), different as soon as the monitored nodes differ.
    /// A [`MonitorState`] carries it so a state is never resumed against another formula.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// Number of compiled nodes (the per-event cost and the size of a monitor's state).
    pub fn len(&self) -> usize {
        self.inner.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.nodes.is_empty()
    }

    /// The distinct atom patterns the formula mentions (lowercased).
    pub fn atoms(&self) -> &[String] {
        &self.inner.patterns
    }

    /// Evaluate the formula at every step of a whole trace (a fresh monitor, stepped through it).
    pub fn evaluate_trace(&self, trace: &[EventAtoms]) -> Vec<bool> {
        let mut m = Monitor::new(self);
        trace.iter().map(|e| m.step(e)).collect()
    }

    fn root(&self) -> Option<Node> {
        self.inner.nodes.last().copied()
    }

    /// For a formula `always ψ` (or `never ψ`, compiled as `always ¬ψ`): ψ (or ¬ψ) as a formula of
    /// its own. Post-order puts the root's operand subtree right before it, so this drops one node.
    fn invariant_body(&self) -> Option<Formula> {
        let Some(Node::Always(c)) = self.root() else {
            return None;
        };
        let nodes = self.inner.nodes[..=c as usize].to_vec();
        Some(Formula::from_parts(
            self.inner.source.clone(),
            nodes,
            self.inner.patterns.clone(),
        ))
    }
}

fn digest_of(nodes: &[Node], patterns: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(b"aimds-ltl-v1\0");
    let mut op = |tag: u8, a: u32, b: u32| {
        h.update([tag]);
        h.update(a.to_le_bytes());
        h.update(b.to_le_bytes());
    };
    for n in nodes {
        match *n {
            Node::Const(v) => op(0, v as u32, 0),
            Node::Atom(i) => op(1, i, 0),
            Node::Not(a) => op(2, a, 0),
            Node::And(a, b) => op(3, a, b),
            Node::Or(a, b) => op(4, a, b),
            Node::Implies(a, b) => op(5, a, b),
            Node::Since(a, b) => op(6, a, b),
            Node::Previously(a) => op(7, a, 0),
            Node::Once(a) => op(8, a, 0),
            Node::Historically(a) => op(9, a, 0),
            Node::Always(a) => op(10, a, 0),
        }
    }
    for p in patterns {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    format!("{:x}", h.finalize())
}

// ---------------------------------------------------------------------------------------------
// Monitor
// ---------------------------------------------------------------------------------------------

/// The persisted state of a [`Monitor`]: which formula, how many events, and every node's value
/// at the last event. Resuming needs nothing else, whatever the length of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorState {
    pub formula_digest: String,
    pub steps: u64,
    pub prev: Vec<bool>,
}

/// Evaluates one formula incrementally over a trace, one event at a time.
#[derive(Debug, Clone)]
pub struct Monitor {
    formula: Formula,
    steps: u64,
    prev: Vec<bool>,
    cur: Vec<bool>,
    atom_vals: Vec<bool>,
}

impl Monitor {
    /// A monitor at the start of a trace.
    pub fn new(formula: &Formula) -> Monitor {
        let n = formula.len();
        Monitor {
            formula: formula.clone(),
            steps: 0,
            prev: vec![false; n],
            cur: vec![false; n],
            atom_vals: vec![false; formula.atoms().len()],
        }
    }

    /// Continue a trace from a persisted state. A state for another formula (or one whose size
    /// does not fit it) is refused: silently mixing states would give wrong verdicts.
    pub fn resume(formula: &Formula, state: MonitorState) -> Result<Monitor, LtlError> {
        if state.formula_digest != formula.digest() {
            return Err(LtlError::DigestMismatch {
                expected: formula.digest().to_string(),
                found: state.formula_digest.chars().take(80).collect(),
            });
        }
        if state.prev.len() != formula.len() {
            return Err(LtlError::BadState {
                expected: formula.len(),
                found: state.prev.len(),
            });
        }
        let mut m = Monitor::new(formula);
        m.steps = state.steps;
        m.prev = state.prev;
        Ok(m)
    }

    /// The state to persist after the last step.
    pub fn state(&self) -> MonitorState {
        MonitorState {
            formula_digest: self.formula.digest().to_string(),
            steps: self.steps,
            prev: self.prev.clone(),
        }
    }

    /// Events seen so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn formula(&self) -> &Formula {
        &self.formula
    }

    /// Feed the next event; returns the formula's truth value at that event.
    pub fn step(&mut self, atoms: &EventAtoms) -> bool {
        let f = &self.formula.inner;
        for (v, p) in self.atom_vals.iter_mut().zip(&f.patterns) {
            *v = atoms.matches_normalized(p);
        }
        let first = self.steps == 0;
        let (prev, cur) = (&self.prev, &mut self.cur);
        for (i, node) in f.nodes.iter().enumerate() {
            let c = |k: u32| cur[k as usize];
            let v = match *node {
                Node::Const(b) => b,
                Node::Atom(k) => self.atom_vals[k as usize],
                Node::Not(a) => !c(a),
                Node::And(a, b) => c(a) && c(b),
                Node::Or(a, b) => c(a) || c(b),
                Node::Implies(a, b) => !c(a) || c(b),
                Node::Since(a, b) => c(b) || (c(a) && !first && prev[i]),
                Node::Previously(a) => !first && prev[a as usize],
                Node::Once(a) => c(a) || (!first && prev[i]),
                Node::Historically(a) | Node::Always(a) => c(a) && (first || prev[i]),
            };
            cur[i] = v;
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.steps = self.steps.saturating_add(1);
        self.prev.last().copied().unwrap_or(true)
    }
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

fn default_action() -> Action {
    Action::Block
}

/// A temporal policy as written in a swarm config:
///
/// ```yaml
/// - name: no-shell-after-injection
///   formula: never (exec && once injection_detected)
///   action: escalate
///   message: shell command after injected instructions were seen in this session
/// ```
///
/// Deserialising validates the formula (and name and message), so a bad policy fails when the
/// config loads, not at the first event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTemporalPolicy")]
pub struct TemporalPolicy {
    pub name: String,
    pub formula: String,
    /// Action when an event violates the policy.
    #[serde(default = "default_action")]
    pub action: Action,
    /// Why, for people and logs; empty means a message naming the policy.
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemporalPolicy {
    name: String,
    formula: String,
    #[serde(default = "default_action")]
    action: Action,
    #[serde(default)]
    message: String,
}

impl TryFrom<RawTemporalPolicy> for TemporalPolicy {
    type Error = LtlError;
    fn try_from(r: RawTemporalPolicy) -> Result<Self, Self::Error> {
        let p = TemporalPolicy {
            name: r.name,
            formula: r.formula,
            action: r.action,
            message: r.message,
        };
        p.compile()?;
        Ok(p)
    }
}

/// Whether a policy is an invariant checked event by event or a plain formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// `always ψ` / `never ψ`: an event violates the policy iff ψ is false / true at that event.
    /// (`never ψ` and `always !ψ` compile to the same nodes.)
    Invariant,
    /// Anything else: an event violates the policy iff the formula is false at it.
    Formula,
}

impl TemporalPolicy {
    /// Validate and compile. Errors name the policy.
    pub fn compile(&self) -> Result<CompiledPolicy, LtlError> {
        let invalid = |message: String| LtlError::InvalidPolicy {
            name: self.name.chars().take(MAX_POLICY_NAME_BYTES).collect(),
            message,
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name must not be empty".into()));
        }
        if self.name.len() > MAX_POLICY_NAME_BYTES || self.name.chars().any(char::is_control) {
            return Err(invalid(format!(
                "name must be at most {MAX_POLICY_NAME_BYTES} bytes without control characters"
            )));
        }
        if self.message.len() > MAX_POLICY_MESSAGE_BYTES {
            return Err(invalid(format!(
                "message is {} bytes, above the limit of {MAX_POLICY_MESSAGE_BYTES}",
                self.message.len()
            )));
        }
        let full = Formula::parse(&self.formula).map_err(|e| LtlError::Policy {
            name: self.name.clone(),
            source: Box::new(e),
        })?;
        let (kind, monitored) = match full.invariant_body() {
            Some(body) => (PolicyKind::Invariant, body),
            None => (PolicyKind::Formula, full),
        };
        let message = if self.message.is_empty() {
            format!("temporal policy {} violated", self.name)
        } else {
            self.message.clone()
        };
        Ok(CompiledPolicy {
            name: self.name.clone(),
            action: self.action,
            message,
            kind,
            formula: monitored,
        })
    }
}

/// Compile a set of policies, refusing duplicate names (states are persisted by name).
pub fn compile_policies(policies: &[TemporalPolicy]) -> Result<Vec<CompiledPolicy>, LtlError> {
    let mut out: Vec<CompiledPolicy> = Vec::with_capacity(policies.len());
    for p in policies {
        if out.iter().any(|c| c.name == p.name) {
            return Err(LtlError::InvalidPolicy {
                name: p.name.clone(),
                message: "another policy has the same name".into(),
            });
        }
        out.push(p.compile()?);
    }
    Ok(out)
}

/// A policy ready to monitor sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledPolicy {
    name: String,
    action: Action,
    message: String,
    kind: PolicyKind,
    /// For invariants, the body ψ (or ¬ψ for `never`); otherwise the whole formula. In both cases
    /// the event violates the policy iff this formula is false at it.
    formula: Formula,
}

impl CompiledPolicy {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The formula actually monitored: for an invariant its body ψ (or ¬ψ for `never ψ`), else the
    /// whole formula. An event violates the policy iff this is false at that event. Its digest
    /// keys persisted states.
    pub fn monitored_formula(&self) -> &Formula {
        &self.formula
    }

    /// A monitor for a new session.
    pub fn monitor(&self) -> PolicyMonitor {
        PolicyMonitor {
            policy: self.clone(),
            monitor: Monitor::new(&self.formula),
        }
    }

    /// A monitor continuing a session from its persisted state.
    pub fn resume(&self, state: MonitorState) -> Result<PolicyMonitor, LtlError> {
        Ok(PolicyMonitor {
            policy: self.clone(),
            monitor: Monitor::resume(&self.formula, state)?,
        })
    }
}

/// An event that violated a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub policy: String,
    pub action: Action,
    pub message: String,
    /// 0-based index of the violating event in the session.
    pub step: u64,
}

/// One policy's monitor for one session.
#[derive(Debug, Clone)]
pub struct PolicyMonitor {
    policy: CompiledPolicy,
    monitor: Monitor,
}

impl PolicyMonitor {
    /// Feed the next event; `Some` when this event violates the policy.
    pub fn step(&mut self, atoms: &EventAtoms) -> Option<Violation> {
        let step = self.monitor.steps();
        if self.monitor.step(atoms) {
            return None;
        }
        Some(Violation {
            policy: self.policy.name.clone(),
            action: self.policy.action,
            message: self.policy.message.clone(),
            step,
        })
    }

    pub fn state(&self) -> MonitorState {
        self.monitor.state()
    }

    pub fn policy(&self) -> &CompiledPolicy {
        &self.policy
    }
}

/// Persisted monitors of one session, keyed by policy name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionState {
    pub steps: u64,
    pub monitors: BTreeMap<String, MonitorState>,
}

/// All policies' monitors for one session.
#[derive(Debug, Clone)]
pub struct SessionMonitor {
    steps: u64,
    monitors: Vec<PolicyMonitor>,
}

impl SessionMonitor {
    pub fn new(policies: &[CompiledPolicy]) -> SessionMonitor {
        SessionMonitor {
            steps: 0,
            monitors: policies.iter().map(CompiledPolicy::monitor).collect(),
        }
    }

    /// Continue a session. A policy whose state is missing or belongs to another formula (the
    /// config changed since the session started) starts afresh and is named in the returned list,
    /// so the caller can log it: its past-time operators then only see events from now on. States
    /// of policies no longer configured are dropped.
    pub fn resume(policies: &[CompiledPolicy], state: SessionState) -> (SessionMonitor, Vec<String>) {
        let mut states = state.monitors;
        let mut restarted = Vec::new();
        let monitors = policies
            .iter()
            .map(|p| {
                let resumed = states.remove(&p.name).and_then(|s| p.resume(s).ok());
                resumed.unwrap_or_else(|| {
                    if state.steps > 0 {
                        restarted.push(p.name.clone());
                    }
                    p.monitor()
                })
            })
            .collect();
        (
            SessionMonitor {
                steps: state.steps,
                monitors,
            },
            restarted,
        )
    }

    /// Feed the next event to every policy; returns the violations (in policy order), each with
    /// the session's step index (a policy restarted by [`Self::resume`] counts its own steps).
    pub fn step(&mut self, atoms: &EventAtoms) -> Vec<Violation> {
        let step = self.steps;
        self.steps = self.steps.saturating_add(1);
        self.monitors
            .iter_mut()
            .filter_map(|m| m.step(atoms))
            .map(|v| Violation { step, ..v })
            .collect()
    }

    pub fn state(&self) -> SessionState {
        SessionState {
            steps: self.steps,
            monitors: self
                .monitors
                .iter()
                .map(|m| (m.policy.name.clone(), m.state()))
                .collect(),
        }
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }
}

// ---------------------------------------------------------------------------------------------
// Default policies
// ---------------------------------------------------------------------------------------------

/// Name of the default policy against exfiltration after secret access.
pub const POLICY_EXFILTRATION_AFTER_SECRET: &str = "no-egress-after-secret-read";
/// Name of the default policy against side effects driven by injected content.
pub const POLICY_ACTION_AFTER_INJECTION: &str = "no-side-effects-after-injection";
/// Name of the default policy against reading secrets after injected content was seen.
pub const POLICY_SECRET_READ_AFTER_INJECTION: &str = "no-secret-read-after-injection";

/// The temporal policies that run when a config names none.
///
/// All three are invariants (`never ...`), so one violation does not poison the rest of the session.
///
/// **How approval is scoped.** `!once approved` would be unsound: an approval given early in a session
/// (say, for one `git push` before anything happened) would excuse every later exfiltration, even
/// after a secret was read or a page injected instructions. Here an approval counts only if it
/// came *after the latest taint* (secret read / injection) and was not itself given on a tainting
/// event: `!T since (approved && !T)` holds iff some approved event without taint T happened and no
/// T happened since. The current event being approved also counts (`approved || ...`), so a person
/// confirming exactly this call always lets it through. Approving `cat .env` approves the read,
/// not a later upload: that is why the approved event must not be a taint itself. A new taint
/// revokes every earlier approval. A stricter deployment can demand per-call approval by replacing
/// the whole clause with `!approved`.
///
/// 1. [`POLICY_EXFILTRATION_AFTER_SECRET`] (block):
///    `never (egress:* && once reads_secret && !(approved || (!reads_secret since (approved && !reads_secret))))`
///    — any network destination (including MCP tools that send or publish, `egress:mcp`) after a
///    secret was read or seen in this session.
/// 2. [`POLICY_ACTION_AFTER_INJECTION`] (block):
///    `never ((egress:* || exec || writes) && once injection_detected && !(approved || (!injection_detected since (approved && !injection_detected))))`
///    — after a tool output or document carried an injection, the agent may be following the
///    attacker's instructions, so side-effecting calls need a person's approval.
/// 3. [`POLICY_SECRET_READ_AFTER_INJECTION`] (escalate):
///    `never (tool_call && reads_secret && once injection_detected && !(approved || (!injection_detected since (approved && !injection_detected))))`
///    — the first half of the classic chain (injection → read credentials → send them). Escalate
///    rather than block: reading `.env` is often legitimate, and policy 1 still stops the upload.
pub fn default_policies() -> Vec<TemporalPolicy> {
    fn cleared(taint: &str) -> String {
        format!("(approved || (!{taint} since (approved && !{taint})))")
    }
    vec![
        TemporalPolicy {
            name: POLICY_EXFILTRATION_AFTER_SECRET.into(),
            formula: format!("never (egress:* && once reads_secret && !{})", cleared("reads_secret")),
            action: Action::Block,
            message: "network egress after a secret was read in this session, without approval since".into(),
        },
        TemporalPolicy {
            name: POLICY_ACTION_AFTER_INJECTION.into(),
            formula: format!(
                "never ((egress:* || exec || writes) && once injection_detected && !{})",
                cleared("injection_detected")
            ),
            action: Action::Block,
            message:
                "side-effecting tool call after injected instructions were seen in this session, without approval since"
                    .into(),
        },
        TemporalPolicy {
            name: POLICY_SECRET_READ_AFTER_INJECTION.into(),
            formula: format!(
                "never (tool_call && reads_secret && once injection_detected && !{})",
                cleared("injection_detected")
            ),
            action: Action::Escalate,
            message: "secret read after injected instructions were seen in this session".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(atoms: &[&str]) -> EventAtoms {
        atoms.iter().collect()
    }

    fn run(formula: &str, trace: &[&[&str]]) -> Vec<bool> {
        let f = Formula::parse(formula).unwrap_or_else(|e| panic!("{formula}: {e}"));
        let trace: Vec<EventAtoms> = trace.iter().map(|t| ev(t)).collect();
        f.evaluate_trace(&trace)
    }

    fn same(a: &str, b: &str) -> bool {
        Formula::parse(a).unwrap() == Formula::parse(b).unwrap()
    }

    // ---- truth tables ---------------------------------------------------------------------

    #[test]
    fn boolean_connectives_truth_tables() {
        let rows: [(&[&str], bool, bool); 4] = [
            (&[], false, false),
            (&["b"], false, true),
            (&["a"], true, false),
            (&["a", "b"], true, true),
        ];
        for (atoms, a, b) in rows {
            let at = |f: &str| run(f, &[atoms])[0];
            assert_eq!(at("a"), a);
            assert_eq!(at("!a"), !a);
            assert_eq!(at("not a"), !a);
            assert_eq!(at("a && b"), a && b);
            assert_eq!(at("a and b"), a && b);
            assert_eq!(at("a || b"), a || b);
            assert_eq!(at("a or b"), a || b);
            assert_eq!(at("a -> b"), !a || b);
            assert!(at("true"));
            assert!(!at("false"));
        }
    }

    #[test]
    fn previously_is_false_at_the_first_step() {
        assert_eq!(
            run("previously a", &[&["a"], &[], &["a"], &["a"]]),
            [false, true, false, true]
        );
        assert_eq!(run("previously true", &[&[], &[]]), [false, true]);
        assert_eq!(
            run("previously previously a", &[&["a"], &[], &[]]),
            [false, false, true]
        );
    }

    #[test]
    fn once_latches_true() {
        assert_eq!(run("once a", &[&[], &["a"], &[], &[]]), [false, true, true, true]);
        assert_eq!(run("once a", &[&[], &[]]), [false, false]);
    }

    #[test]
    fn historically_always_and_never() {
        let t: &[&[&str]] = &[&["a"], &["a"], &[], &["a"]];
        assert_eq!(run("historically a", t), [true, true, false, false]);
        assert_eq!(run("always a", t), [true, true, false, false]);
        assert_eq!(run("never a", &[&[], &["a"], &[]]), [true, false, false]);
        assert_eq!(run("never a", &[&[], &[]]), [true, true]);
        assert!(same("never a", "always !a"));
        // Same truth values, but `always` is kept apart so a top-level one makes an invariant.
        assert!(!same("never a", "historically !a"));
        assert_eq!(run("historically !a", &[&[], &["a"], &[]]), [true, false, false]);
    }

    #[test]
    fn since_truth_table() {
        // b at step 0, a holds through steps 1..=2, breaks at 3.
        assert_eq!(
            run("a since b", &[&["b"], &["a"], &["a"], &[], &["a"]]),
            [true, true, true, false, false]
        );
        // b at the current step is enough, whatever a.
        assert_eq!(run("a since b", &[&[], &["b"], &[]]), [false, true, false]);
        // a alone never starts it.
        assert_eq!(run("a since b", &[&["a"], &["a"]]), [false, false]);
        // a fresh b restarts it after a break.
        assert_eq!(
            run("a since b", &[&["b"], &[], &["b"], &["a"]]),
            [true, false, true, true]
        );
    }

    #[test]
    fn since_differs_from_once() {
        let t: &[&[&str]] = &[&["b"], &[], &["a"]];
        assert_eq!(run("once b", t), [true, true, true]);
        assert_eq!(run("a since b", t), [true, false, false]);
        assert_eq!(run("true since b", t), run("once b", t));
    }

    // ---- syntax ---------------------------------------------------------------------------

    #[test]
    fn precedence_and_associativity() {
        assert!(same("a || b && c", "a || (b && c)"));
        assert!(same("a && b || c", "(a && b) || c"));
        assert!(same("a -> b -> c", "a -> (b -> c)"));
        assert!(same("a -> b || c", "a -> (b || c)"));
        assert!(same("once a && b", "(once a) && b"));
        assert!(same("a since b && c", "(a since b) && c"));
        assert!(same("!a since b", "(!a) since b"));
        assert!(same("a since b since c", "(a since b) since c"));
        assert!(same("not once a", "!(once a)"));
        assert!(!same("a -> b -> c", "(a -> b) -> c"));
    }

    #[test]
    fn keywords_are_case_insensitive_and_word_forms_equal_symbols() {
        assert!(same("a and b or not c", "a && b || !c"));
        assert!(same(
            "NEVER (Egress:* AND Once Reads_Secret)",
            "never (egress:* && once reads_secret)"
        ));
        assert!(same("  a&&b  ", "a && b"));
        assert!(!same("a && b", "a || b"));
    }

    #[test]
    fn atoms_and_globs_match_case_insensitively() {
        let e = ev(&["tool:Bash", "egress:api.example.com", "reads_secret"]);
        assert!(e.contains("tool:bash") && e.contains("TOOL:BASH"));
        for (pat, want) in [
            ("tool:bash", true),
            ("tool:Bash", true),
            ("tool:*", true),
            ("egress:*", true),
            ("egress:*.example.com", true),
            ("egress:*.example.org", false),
            ("egress:example.com", false),
            ("*secret", true),
            ("*", true),
            ("tool:bas", false),
            ("egress:*.*.com", true),
        ] {
            assert_eq!(e.contains_pattern(pat), want, "{pat}");
            assert_eq!(
                run(pat, &[&["tool:Bash", "egress:api.example.com", "reads_secret"]])[0],
                want,
                "{pat}"
            );
        }
        assert!(!EventAtoms::new().contains_pattern("*"));
    }

    #[test]
    fn atom_characters_and_arrow() {
        assert_eq!(run("a-b", &[&["a-b"]]), [true]);
        assert_eq!(run("a->b", &[&["a-b"]]), [true], "a->b is an implication with a false");
        assert_eq!(run("a->b", &[&["a"]]), [false]);
        assert_eq!(
            run("tool:mcp__github__create_issue", &[&["tool:mcp__github__create_issue"]]),
            [true]
        );
        assert_eq!(run("user@host/x.y", &[&["user@host/x.y"]]), [true]);
    }

    fn syntax_error(src: &str) -> (usize, String) {
        match Formula::parse(src) {
            Err(e @ LtlError::Syntax { column, .. }) => (column, e.to_string()),
            other => panic!("{src:?}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn parse_errors_name_column_and_expectation() {
        let (c, m) = syntax_error("(a && b");
        assert_eq!(c, 8);
        assert!(m.starts_with("at column 8: expected ')'"), "{m}");
        assert!(m.contains("end of input"), "{m}");
        let (c, m) = syntax_error("never (egress:* && once reads_secret");
        assert_eq!((c, m.contains("expected ')'")), (37, true), "{m}");
        let (c, m) = syntax_error("a &&");
        assert_eq!(c, 5);
        assert!(m.contains("expected a formula, found end of input"), "{m}");
        let (c, m) = syntax_error("a & b");
        assert_eq!((c, m.contains("expected '&&'")), (3, true), "{m}");
        let (c, m) = syntax_error("a | b");
        assert_eq!((c, m.contains("expected '||'")), (3, true), "{m}");
        let (c, m) = syntax_error("a $ b");
        assert_eq!((c, m.contains("'$'")), (3, true), "{m}");
        let (c, m) = syntax_error("a b");
        assert_eq!((c, m.contains("expected an operator")), (3, true), "{m}");
        let (c, m) = syntax_error("a )");
        assert_eq!((c, m.contains("unbalanced")), (3, true), "{m}");
        let (c, m) = syntax_error("once");
        assert_eq!(c, 5, "{m}");
        let (c, m) = syntax_error("and a");
        assert_eq!((c, m.contains("keyword 'and'")), (1, true), "{m}");
        let (c, _) = syntax_error("");
        assert_eq!(c, 1);
        // Columns count characters, not bytes.
        let (c, m) = syntax_error("é && ");
        assert_eq!(c, 1, "{m}");
        let (c, _) = syntax_error("(a) && ((b)");
        assert_eq!(c, 12);
    }

    #[test]
    fn formula_length_is_bounded() {
        let long = "a || ".repeat(MAX_FORMULA_BYTES / 5) + "abcdefghijklmnop";
        assert!(long.len() > MAX_FORMULA_BYTES);
        assert!(matches!(
            Formula::parse(&long),
            Err(LtlError::TooLong {
                max: MAX_FORMULA_BYTES,
                ..
            })
        ));
        // A long flat chain within the limit is fine and needs no deep recursion.
        let chain = vec!["a"; 1300].join("&&");
        assert!(chain.len() <= MAX_FORMULA_BYTES);
        let f = Formula::parse(&chain).unwrap();
        assert_eq!(f.len(), 2599);
        assert_eq!(f.evaluate_trace(&[ev(&["a"])]), [true]);
        let imp = vec!["a"; 1300].join("->");
        assert!(Formula::parse(&imp).is_ok());
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Formula::parse(&ok).is_ok());
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let err = Formula::parse(&deep).unwrap_err();
        assert!(matches!(err, LtlError::TooDeep { max: MAX_DEPTH, .. }), "{err}");
        assert!(err.to_string().contains("deeper than 64"), "{err}");
        let nots = format!("{}a", "!".repeat(MAX_DEPTH + 1));
        assert!(matches!(Formula::parse(&nots), Err(LtlError::TooDeep { .. })));
        let onces = format!("{}a", "once ".repeat(MAX_DEPTH + 1));
        assert!(matches!(Formula::parse(&onces), Err(LtlError::TooDeep { .. })));
    }

    // ---- monitor state ----------------------------------------------------------------------

    #[test]
    fn state_round_trips_through_json_and_resumes_exactly() {
        let f = Formula::parse("(a since b) && previously c || historically !d && once e").unwrap();
        let trace: Vec<EventAtoms> = [
            &["b"][..],
            &["a", "c", "e"],
            &["a"],
            &["c"],
            &["d", "b"],
            &["a", "e"],
            &[],
            &["c", "a"],
        ]
        .iter()
        .map(|t| ev(t))
        .collect();
        let whole = f.evaluate_trace(&trace);
        for cut in 0..=trace.len() {
            let mut m = Monitor::new(&f);
            let mut got: Vec<bool> = trace[..cut].iter().map(|e| m.step(e)).collect();
            let json = serde_json::to_string(&m.state()).unwrap();
            let state: MonitorState = serde_json::from_str(&json).unwrap();
            assert_eq!(state.steps, cut as u64);
            let mut m2 = Monitor::resume(&f, state).unwrap();
            got.extend(trace[cut..].iter().map(|e| m2.step(e)));
            assert_eq!(got, whole, "cut at {cut}");
        }
    }

    #[test]
    fn resume_refuses_foreign_or_corrupt_state() {
        let f = Formula::parse("once a").unwrap();
        let g = Formula::parse("once b").unwrap();
        let mut m = Monitor::new(&f);
        m.step(&ev(&["a"]));
        let err = Monitor::resume(&g, m.state()).unwrap_err();
        assert!(matches!(err, LtlError::DigestMismatch { .. }), "{err}");
        // Same formula spelt differently resumes fine.
        let f2 = Formula::parse("ONCE  a").unwrap();
        assert!(Monitor::resume(&f2, m.state()).is_ok());
        let mut bad = m.state();
        bad.prev.push(true);
        assert!(matches!(
            Monitor::resume(&f, bad),
            Err(LtlError::BadState { expected: 2, found: 3 })
        ));
        let unknown = r#"{"formula_digest":"x","steps":1,"prev":[],"extra":1}"#;
        assert!(serde_json::from_str::<MonitorState>(unknown).is_err());
    }

    // ---- event atoms -------------------------------------------------------------------------

    #[test]
    fn event_atoms_are_sorted_deduplicated_lowercase_and_bounded() {
        let e: EventAtoms = ["tool:Bash", "exec", "TOOL:bash", " exec ", ""].into_iter().collect();
        assert_eq!(e.iter().collect::<Vec<_>>(), ["exec", "tool:bash"]);
        let many: EventAtoms = ["reads_secret".to_string()]
            .into_iter()
            .chain((0..5000).map(|i| format!("egress:h{i}.io")))
            .collect();
        assert_eq!(many.len(), MAX_EVENT_ATOMS);
        assert!(
            many.is_truncated() && many.contains("reads_secret"),
            "first atoms survive"
        );
        let long = format!("egress:{}", "é".repeat(400));
        let e = ev(&[&long]);
        let kept = e.iter().next().unwrap();
        assert!(kept.len() <= MAX_ATOM_BYTES && long.starts_with(kept));
        // Deserialised atoms are normalised and bounded too.
        let e: EventAtoms = serde_json::from_str(r#"["B","a","a"]"#).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"["a","b"]"#);
    }

    #[test]
    fn glob_match_handles_backtracking() {
        assert!(glob_match(b"a*b*c", b"aXXbYYbZc"));
        assert!(!glob_match(b"a*b*c", b"aXXbYYbZ"));
        assert!(glob_match(b"**", b""));
        assert!(glob_match(b"*.example.com", b"a.b.example.com"));
        assert!(!glob_match(b"*.example.com", b"example.com"));
    }

    // ---- policies ----------------------------------------------------------------------------

    fn policy(formula: &str) -> CompiledPolicy {
        TemporalPolicy {
            name: "p".into(),
            formula: formula.into(),
            action: Action::Block,
            message: String::new(),
        }
        .compile()
        .unwrap()
    }

    fn violations(p: &CompiledPolicy, trace: &[&[&str]]) -> Vec<u64> {
        let mut m = p.monitor();
        trace.iter().filter_map(|t| m.step(&ev(t))).map(|v| v.step).collect()
    }

    #[test]
    fn invariants_do_not_latch() {
        let p = policy("never (bad && once secret)");
        assert_eq!(p.kind(), PolicyKind::Invariant);
        let t: &[&[&str]] = &[&["bad"], &["secret"], &["ok"], &["bad"], &["ok"], &["bad"]];
        assert_eq!(violations(&p, t), [3, 5]);
        let p = policy("always (write -> previously approved)");
        assert_eq!(p.kind(), PolicyKind::Invariant);
        assert_eq!(
            violations(&p, &[&["write"], &["approved"], &["write"], &["write"]]),
            [0, 3]
        );
        // Parentheses around the whole formula do not change its top-level operator.
        assert_eq!(policy("(never bad)").kind(), PolicyKind::Invariant);
        // The literal formula would latch: compare.
        assert_eq!(
            run("never (bad && once secret)", &[&["secret", "bad"], &["ok"]]),
            [false, false]
        );
        assert_eq!(
            violations(&policy("never (bad && once secret)"), &[&["secret", "bad"], &["ok"]]),
            [0]
        );
    }

    #[test]
    fn other_formulas_are_violated_where_false() {
        let p = policy("exec -> once approved");
        assert_eq!(p.kind(), PolicyKind::Formula);
        assert_eq!(violations(&p, &[&["exec"], &["approved"], &["exec"]]), [0]);
        // historically at the top is a plain formula: it latches, by definition.
        let p = policy("historically !bad");
        assert_eq!(p.kind(), PolicyKind::Formula);
        assert_eq!(violations(&p, &[&["bad"], &["ok"]]), [0, 1]);
        // `never a && b` is `(never a) && b`: not an invariant.
        assert_eq!(policy("never a && b").kind(), PolicyKind::Formula);
    }

    #[test]
    fn policy_yaml_defaults_validation_and_errors() {
        let p: TemporalPolicy = serde_norway::from_str("name: x\nformula: never a\n").unwrap();
        assert_eq!(p.action, Action::Block);
        let c = p.compile().unwrap();
        assert_eq!(c.message(), "temporal policy x violated");
        let err = serde_norway::from_str::<TemporalPolicy>("name: x\nformula: never a\nfoo: 1\n").unwrap_err();
        assert!(err.to_string().contains("foo"), "{err}");
        let err = serde_norway::from_str::<TemporalPolicy>("name: x\nformula: never (a && b\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("\"x\"") && msg.contains("at column 14: expected ')'"),
            "{msg}"
        );
        let err = serde_norway::from_str::<TemporalPolicy>("name: ''\nformula: a\n").unwrap_err();
        assert!(err.to_string().contains("name must not be empty"), "{err}");
        let ps: Vec<TemporalPolicy> =
            serde_norway::from_str("- {name: a, formula: x}\n- {name: a, formula: y, action: escalate}\n").unwrap();
        let err = compile_policies(&ps).unwrap_err();
        assert!(err.to_string().contains("same name"), "{err}");
    }

    #[test]
    fn session_monitor_persists_and_survives_policy_changes() {
        let policies = compile_policies(&default_policies()).unwrap();
        let mut s = SessionMonitor::new(&policies);
        assert!(s.step(&ev(&["tool_call", "tool:read", "reads_secret"])).is_empty());
        let json = serde_json::to_string(&s.state()).unwrap();
        let (mut s2, restarted) = SessionMonitor::resume(&policies, serde_json::from_str(&json).unwrap());
        assert!(restarted.is_empty());
        let v = s2.step(&ev(&["tool_call", "egress:evil.io"]));
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].policy.as_str(), v[0].step, v[0].action),
            (POLICY_EXFILTRATION_AFTER_SECRET, 1, Action::Block)
        );
        // The config changed: the edited policy restarts, and says so.
        let mut edited = default_policies();
        edited[0].formula = "never (egress:* && once reads_secret)".into();
        let edited = compile_policies(&edited).unwrap();
        let (_, restarted) = SessionMonitor::resume(&edited, serde_json::from_str(&json).unwrap());
        assert_eq!(restarted, [POLICY_EXFILTRATION_AFTER_SECRET]);
    }

    // ---- default policies on realistic traces -------------------------------------------------

    const READ_ENV: &[&str] = &["source:tool_call", "tool_call", "tool:Read", "reads_secret"];
    const CURL: &[&str] = &["source:tool_call", "tool_call", "tool:Bash", "exec", "egress:evil.io"];
    const FETCH: &[&str] = &["source:tool_call", "tool_call", "tool:WebFetch", "egress:docs.rs"];
    const LS: &[&str] = &["source:tool_call", "tool_call", "tool:Bash", "exec"];
    const INJECTED_PAGE: &[&str] = &["source:tool_output", "injection_detected", "category:prompt_injection"];
    const APPROVAL: &[&str] = &["source:user", "approved"];

    fn default_violations(trace: &[&[&str]]) -> Vec<(u64, String)> {
        let policies = compile_policies(&default_policies()).unwrap();
        let mut s = SessionMonitor::new(&policies);
        trace
            .iter()
            .flat_map(|t| s.step(&ev(t)))
            .map(|v| (v.step, v.policy))
            .collect()
    }

    fn with(base: &[&'static str], extra: &'static str) -> Vec<&'static str> {
        base.iter().copied().chain([extra]).collect()
    }

    #[test]
    fn default_policies_compile_as_invariants() {
        for p in compile_policies(&default_policies()).unwrap() {
            assert_eq!(p.kind(), PolicyKind::Invariant, "{}", p.name());
        }
    }

    #[test]
    fn secret_read_then_egress_is_blocked() {
        let v = default_violations(&[READ_ENV, LS, CURL]);
        assert_eq!(v, [(2, POLICY_EXFILTRATION_AFTER_SECRET.to_string())]);
        // Egress without any secret read is fine.
        assert!(default_violations(&[FETCH, LS, CURL]).is_empty());
        // Not latched: after the violation, harmless events pass, and each egress is caught again.
        let v = default_violations(&[READ_ENV, CURL, LS, FETCH]);
        assert_eq!(v.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn approval_is_scoped_to_after_the_latest_secret_read() {
        // Approval after the read covers the egress.
        assert!(default_violations(&[READ_ENV, APPROVAL, CURL]).is_empty());
        // Approval on the egress itself covers it.
        let approved_curl = with(CURL, "approved");
        assert!(default_violations(&[READ_ENV, &approved_curl]).is_empty());
        // Approval BEFORE the read does not (this is what `!once approved` would get wrong).
        assert_eq!(default_violations(&[APPROVAL, READ_ENV, CURL]).len(), 1);
        // A new read revokes the approval.
        assert_eq!(
            default_violations(&[READ_ENV, APPROVAL, FETCH, READ_ENV, CURL]),
            [(4, POLICY_EXFILTRATION_AFTER_SECRET.to_string())]
        );
        // Approving the read itself is not approving an upload later.
        let approved_read = with(READ_ENV, "approved");
        assert_eq!(default_violations(&[&approved_read, CURL]).len(), 1);
    }

    #[test]
    fn injected_tool_output_then_side_effects_is_blocked() {
        let v = default_violations(&[FETCH, INJECTED_PAGE, LS]);
        assert_eq!(v, [(2, POLICY_ACTION_AFTER_INJECTION.to_string())]);
        let write = &["tool_call", "tool:Write", "writes"][..];
        assert_eq!(default_violations(&[INJECTED_PAGE, write]).len(), 1);
        // Reading more pages after an injection is not a side effect.
        let read = &["tool_call", "tool:Read"][..];
        assert!(default_violations(&[INJECTED_PAGE, read]).is_empty());
        // A person's approval after the injection clears it, until the next injected output.
        assert!(default_violations(&[INJECTED_PAGE, APPROVAL, LS]).is_empty());
        assert_eq!(
            default_violations(&[INJECTED_PAGE, APPROVAL, LS, INJECTED_PAGE, LS]).len(),
            1
        );
        // The whole chain: injection, secret read (escalate), upload (blocked twice over).
        let v = default_violations(&[INJECTED_PAGE, READ_ENV, CURL]);
        let names: Vec<&str> = v.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(
            names,
            [
                POLICY_SECRET_READ_AFTER_INJECTION,
                POLICY_EXFILTRATION_AFTER_SECRET,
                POLICY_ACTION_AFTER_INJECTION
            ]
        );
    }

    // ---- incremental evaluation equals the definition ----------------------------------------

    #[derive(Debug, Clone)]
    enum F {
        Const(bool),
        Atom(usize),
        Not(Box<F>),
        And(Box<F>, Box<F>),
        Or(Box<F>, Box<F>),
        Implies(Box<F>, Box<F>),
        Since(Box<F>, Box<F>),
        Prev(Box<F>),
        Once(Box<F>),
        Hist(Box<F>),
        Always(Box<F>),
        Never(Box<F>),
    }

    /// Formula atoms; `x:*` is a glob over the event atoms `x:1` and `x:2`.
    const PATTERNS: [&str; 4] = ["a", "b", "c", "x:*"];
    const EVENT_ATOMS: [&str; 5] = ["a", "b", "c", "x:1", "x:2"];

    fn render(f: &F, words: bool) -> String {
        let bin = |op_sym: &str, op_word: &str, a: &F, b: &F| {
            format!(
                "({} {} {})",
                render(a, words),
                if words { op_word } else { op_sym },
                render(b, words)
            )
        };
        match f {
            F::Const(true) => "TRUE".into(),
            F::Const(false) => "false".into(),
            F::Atom(i) => PATTERNS[*i].into(),
            F::Not(a) => format!("{}({})", if words { "not " } else { "!" }, render(a, words)),
            F::And(a, b) => bin("&&", "AND", a, b),
            F::Or(a, b) => bin("||", "or", a, b),
            F::Implies(a, b) => bin("->", "->", a, b),
            F::Since(a, b) => bin("since", "Since", a, b),
            F::Prev(a) => format!("previously ({})", render(a, words)),
            F::Once(a) => format!("once ({})", render(a, words)),
            F::Hist(a) => format!("historically ({})", render(a, words)),
            F::Always(a) => format!("always ({})", render(a, words)),
            F::Never(a) => format!("never ({})", render(a, words)),
        }
    }

    /// The textbook semantics, by direct recursion over the whole trace prefix.
    fn holds(f: &F, t: &[Vec<bool>], i: usize) -> bool {
        match f {
            F::Const(b) => *b,
            F::Atom(3) => t[i][3] || t[i][4],
            F::Atom(k) => t[i][*k],
            F::Not(a) => !holds(a, t, i),
            F::And(a, b) => holds(a, t, i) && holds(b, t, i),
            F::Or(a, b) => holds(a, t, i) || holds(b, t, i),
            F::Implies(a, b) => !holds(a, t, i) || holds(b, t, i),
            F::Since(a, b) => (0..=i).any(|j| holds(b, t, j) && (j + 1..=i).all(|k| holds(a, t, k))),
            F::Prev(a) => i > 0 && holds(a, t, i - 1),
            F::Once(a) => (0..=i).any(|j| holds(a, t, j)),
            F::Hist(a) | F::Always(a) => (0..=i).all(|j| holds(a, t, j)),
            F::Never(a) => (0..=i).all(|j| !holds(a, t, j)),
        }
    }

    fn formula() -> impl Strategy<Value = F> {
        let leaf = prop_oneof![any::<bool>().prop_map(F::Const), (0..PATTERNS.len()).prop_map(F::Atom)];
        leaf.prop_recursive(6, 40, 2, |inner| {
            let b = |x: F| Box::new(x);
            prop_oneof![
                inner.clone().prop_map(move |a| F::Not(b(a))),
                (inner.clone(), inner.clone()).prop_map(move |(x, y)| F::And(b(x), b(y))),
                (inner.clone(), inner.clone()).prop_map(move |(x, y)| F::Or(b(x), b(y))),
                (inner.clone(), inner.clone()).prop_map(move |(x, y)| F::Implies(b(x), b(y))),
                (inner.clone(), inner.clone()).prop_map(move |(x, y)| F::Since(b(x), b(y))),
                inner.clone().prop_map(move |a| F::Prev(b(a))),
                inner.clone().prop_map(move |a| F::Once(b(a))),
                inner.clone().prop_map(move |a| F::Hist(b(a))),
                inner.clone().prop_map(move |a| F::Always(b(a))),
                inner.prop_map(move |a| F::Never(b(a))),
            ]
        })
    }

    fn trace() -> impl Strategy<Value = Vec<Vec<bool>>> {
        prop::collection::vec(prop::collection::vec(any::<bool>(), EVENT_ATOMS.len()), 0..12)
    }

    fn to_events(t: &[Vec<bool>]) -> Vec<EventAtoms> {
        t.iter()
            .map(|row| {
                EVENT_ATOMS
                    .iter()
                    .zip(row)
                    .filter(|(_, on)| **on)
                    .map(|(a, _)| *a)
                    .collect()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn incremental_equals_naive(f in formula(), t in trace(), words in any::<bool>(), cut in 0usize..12) {
            let src = render(&f, words);
            let compiled = Formula::parse(&src).map_err(|e| TestCaseError::fail(format!("{src}: {e}")))?;
            let events = to_events(&t);
            let want: Vec<bool> = (0..t.len()).map(|i| holds(&f, &t, i)).collect();
            prop_assert_eq!(&compiled.evaluate_trace(&events), &want, "{}", src);
            // Interrupted and resumed from JSON at any point: same answers.
            let cut = cut.min(events.len());
            let mut m = Monitor::new(&compiled);
            let mut got: Vec<bool> = events[..cut].iter().map(|e| m.step(e)).collect();
            let state: MonitorState = serde_json::from_str(&serde_json::to_string(&m.state()).unwrap()).unwrap();
            let mut m = Monitor::resume(&compiled, state).unwrap();
            got.extend(events[cut..].iter().map(|e| m.step(e)));
            prop_assert_eq!(got, want);
        }

        #[test]
        fn invariant_policies_flag_exactly_where_the_body_fails(f in formula(), t in trace(), never in any::<bool>()) {
            let body = render(&f, false);
            let src = if never { format!("never ({body})") } else { format!("always ({body})") };
            let p = TemporalPolicy { name: "p".into(), formula: src, action: Action::Block, message: String::new() }
                .compile()
                .unwrap();
            prop_assert_eq!(p.kind(), PolicyKind::Invariant);
            let mut m = p.monitor();
            for (i, e) in to_events(&t).iter().enumerate() {
                let violated = m.step(e).is_some();
                prop_assert_eq!(violated, holds(&f, &t, i) == never);
            }
        }

        #[test]
        fn parser_never_panics(src in "[a-z()!&|<>:* -]{0,40}") {
            let _ = Formula::parse(&src);
        }
    }
}
