//! `@liquid`: a focused implementation of the Liquid subset Segment allows (liquidjs 10.27
//! semantics), without a template-engine dependency.
//!
//! Supported: output `{{ expr | filter: args }}`, whitespace control (`{{-`, `-%}`), the tags
//! `if`/`elsif`/`else`, `unless`, `assign`, `capture`, `echo`, `comment`, `raw` and `{% # %}`,
//! the operators `== != <> < > <= >= contains and or not` (liquidjs precedence, `and`/`or`
//! evaluated right to left), the literals `nil null true false empty blank`, and the common
//! string, math and array filters (see [`apply_filter`]). Segment's disabled tags and filters
//! give Segment's errors (`tag "for" is disabled`). Any other liquidjs tag or filter this
//! engine does not implement is an error, never a silently different answer. Filters unknown
//! to liquidjs pass their input through, as liquidjs does without `strictFilters`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::value::{f64_to_js_string, js_len, json_stringify, number_to_js_string, Budget, Res};
use super::MappingError;

/// Tags Segment disables.
const DISABLED_TAGS: [&str; 6] = ["case", "for", "include", "layout", "render", "tablerow"];
/// Filters Segment disables.
const DISABLED_FILTERS: [&str; 20] = [
    "array_to_sentence_string",
    "concat",
    "find",
    "find_exp",
    "find_index",
    "find_index_exp",
    "group_by",
    "group_by_exp",
    "has",
    "has_exp",
    "map",
    "newline_to_br",
    "reject",
    "reject_exp",
    "reverse",
    "sort",
    "sort_natural",
    "uniq",
    "where_exp",
    "type",
];
/// liquidjs tags that exist but are not implemented here.
const UNSUPPORTED_TAGS: [&str; 8] = [
    "cycle",
    "increment",
    "decrement",
    "liquid",
    "break",
    "continue",
    "ifchanged",
    "block",
];
/// liquidjs filters that exist but are not implemented here.
const UNSUPPORTED_FILTERS: [&str; 22] = [
    "date",
    "date_to_xmlschema",
    "date_to_rfc822",
    "date_to_string",
    "date_to_long_string",
    "where",
    "sum",
    "push",
    "pop",
    "shift",
    "unshift",
    "sample",
    "slugify",
    "cgi_escape",
    "uri_escape",
    "xml_escape",
    "normalize_whitespace",
    "number_of_words",
    "inspect",
    "to_integer",
    "base64_encode",
    "base64_decode",
];

/// Deepest nesting of blocks and expressions accepted.
const MAX_NESTING: usize = 64;

/// A parsed Liquid template.
#[derive(Debug)]
pub(crate) struct LiquidTemplate {
    nodes: Vec<LNode>,
}

#[derive(Debug)]
enum LNode {
    Text(String),
    Output(Output),
    If {
        branches: Vec<(Cond, Vec<LNode>)>,
        otherwise: Option<Vec<LNode>>,
    },
    Assign(String, Output),
    Capture(String, Vec<LNode>),
}

#[derive(Debug)]
struct Output {
    expr: Expr,
    filters: Vec<Filter>,
    at: String,
}

#[derive(Debug)]
struct Filter {
    name: String,
    args: Vec<Expr>,
}

#[derive(Debug)]
enum Expr {
    Literal(Value),
    Nil,
    Empty,
    Blank,
    Var(Vec<Segment>),
    Range(Box<Expr>, Box<Expr>),
}

#[derive(Debug)]
enum Segment {
    Key(String),
    Index(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

#[derive(Debug)]
enum Cond {
    Value(Expr),
    Cmp(CmpOp, Expr, Expr),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

// ---------------------------------------------------------------------------------------
// Template tokens

#[derive(Debug)]
enum Token<'s> {
    Text(Cow<'s, str>),
    Output { inner: &'s str, at: usize },
    Tag { name: &'s str, args: &'s str, at: usize },
}

fn position(src: &str, at: usize) -> String {
    let before = &src[..at.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line:{line}, col:{col}")
}

fn error_at(src: &str, at: usize, message: &str) -> String {
    format!("{message}, {}", position(src, at))
}

/// Finds `close` after `from`, skipping quoted strings.
fn find_close(src: &str, from: usize, close: &str) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if src[i..].starts_with(close) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn tokenize(src: &str) -> Result<Vec<Token<'_>>, String> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    while pos < src.len() {
        let next = [src[pos..].find("{{"), src[pos..].find("{%")]
            .into_iter()
            .flatten()
            .min()
            .map(|p| p + pos);
        let Some(start) = next else {
            push_text(&mut tokens, &src[pos..], trim_next, false);
            break;
        };
        let is_output = src[start..].starts_with("{{");
        let (close, kind) = if is_output { ("}}", "output") } else { ("%}", "tag") };
        let Some(end) = find_close(src, start + 2, close) else {
            let snippet: String = src[start..].chars().take(20).collect();
            return Err(error_at(src, start, &format!("{kind} \"{snippet}\" not closed")));
        };
        let mut inner = &src[start + 2..end];
        let trim_left = inner.starts_with('-');
        if trim_left {
            inner = &inner[1..];
        }
        let trim_right = inner.ends_with('-');
        if trim_right {
            inner = &inner[..inner.len() - 1];
        }
        push_text(&mut tokens, &src[pos..start], trim_next, trim_left);
        trim_next = trim_right;
        pos = end + 2;
        if is_output {
            tokens.push(Token::Output { inner, at: start });
            continue;
        }
        let inner = inner.trim();
        let name_len = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let (name, args) = if inner.starts_with('#') {
            ("#", "")
        } else {
            (&inner[..name_len], inner[name_len..].trim())
        };
        if name == "raw" {
            // Everything up to {% endraw %} is text.
            let mut search = pos;
            let body_end = loop {
                let Some(open) = src[search..].find("{%").map(|p| p + search) else {
                    return Err(error_at(src, start, "tag {% raw %} not closed"));
                };
                let Some(close) = src[open + 2..].find("%}").map(|p| p + open + 2) else {
                    return Err(error_at(src, start, "tag {% raw %} not closed"));
                };
                let tag = src[open + 2..close].trim_matches('-').trim();
                if tag == "endraw" {
                    break (open, close);
                }
                search = close + 2;
            };
            let (open, close) = body_end;
            let closing = &src[open + 2..close];
            push_text(&mut tokens, &src[pos..open], trim_next, closing.starts_with('-'));
            trim_next = closing.ends_with('-');
            pos = close + 2;
            continue;
        }
        tokens.push(Token::Tag { name, args, at: start });
    }
    Ok(tokens)
}

fn push_text<'s>(tokens: &mut Vec<Token<'s>>, text: &'s str, trim_start: bool, trim_end: bool) {
    let mut t = text;
    if trim_start {
        t = t.trim_start();
    }
    if trim_end {
        t = t.trim_end();
    }
    if !t.is_empty() {
        tokens.push(Token::Text(Cow::Borrowed(t)));
    }
}

// ---------------------------------------------------------------------------------------
// Expression tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(Value),
    Dot,
    DotDot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Op(CmpOp),
    Pipe,
    Colon,
    Comma,
    Assign,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| format!("unbalanced quotes in \"{s}\""))?;
                toks.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '.' if next == Some('.') => {
                toks.push(Tok::DotDot);
                i += 2;
            }
            '.' => {
                toks.push(Tok::Dot);
                i += 1;
            }
            '[' => {
                toks.push(Tok::LBracket);
                i += 1;
            }
            ']' => {
                toks.push(Tok::RBracket);
                i += 1;
            }
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            '|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            ':' => {
                toks.push(Tok::Colon);
                i += 1;
            }
            ',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            '=' if next == Some('=') => {
                toks.push(Tok::Op(CmpOp::Eq));
                i += 2;
            }
            '=' => {
                toks.push(Tok::Assign);
                i += 1;
            }
            '!' if next == Some('=') => {
                toks.push(Tok::Op(CmpOp::Ne));
                i += 2;
            }
            '<' if next == Some('>') => {
                toks.push(Tok::Op(CmpOp::Ne));
                i += 2;
            }
            '<' | '>' => {
                let eq = next == Some('=');
                toks.push(Tok::Op(match (c, eq) {
                    ('<', true) => CmpOp::Le,
                    ('<', false) => CmpOp::Lt,
                    (_, true) => CmpOp::Ge,
                    _ => CmpOp::Gt,
                }));
                i += if eq { 2 } else { 1 };
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|d| d.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let mut is_float = false;
                if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                    is_float = true;
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let text: String = chars[start..i].iter().collect();
                let num = if is_float {
                    text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
                } else {
                    text.parse::<i64>().ok().map(Value::from)
                };
                toks.push(Tok::Num(num.ok_or_else(|| format!("invalid number {text}"))?));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '?'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                toks.push(match word.as_str() {
                    "contains" => Tok::Op(CmpOp::Contains),
                    _ => Tok::Ident(word),
                });
            }
            other => return Err(format!("unexpected character \"{other}\" in \"{s}\"")),
        }
    }
    Ok(toks)
}

struct ExprParser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl ExprParser {
    fn new(s: &str) -> Result<ExprParser, String> {
        Ok(ExprParser {
            toks: lex(s)?,
            pos: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err("expression nested too deeply".to_string());
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let e = match self.next() {
            Some(Tok::Str(s)) => Expr::Literal(Value::String(s)),
            Some(Tok::Num(n)) => Expr::Literal(n),
            Some(Tok::LParen) => {
                let from = self.primary()?;
                if !self.eat(&Tok::DotDot) {
                    return Err("expected \"..\" in a range".to_string());
                }
                let to = self.primary()?;
                if !self.eat(&Tok::RParen) {
                    return Err("expected \")\" after a range".to_string());
                }
                Expr::Range(Box::new(from), Box::new(to))
            }
            Some(Tok::Ident(word)) => match word.as_str() {
                "true" => Expr::Literal(Value::Bool(true)),
                "false" => Expr::Literal(Value::Bool(false)),
                "nil" | "null" => Expr::Nil,
                "empty" => Expr::Empty,
                "blank" => Expr::Blank,
                _ => self.path(vec![Segment::Key(word)])?,
            },
            Some(Tok::LBracket) => {
                let index = self.primary()?;
                if !self.eat(&Tok::RBracket) {
                    return Err("expected \"]\"".to_string());
                }
                self.path(vec![Segment::Index(index)])?
            }
            other => return Err(format!("unexpected token {other:?}")),
        };
        self.depth -= 1;
        Ok(e)
    }

    fn path(&mut self, mut segments: Vec<Segment>) -> Result<Expr, String> {
        loop {
            if self.eat(&Tok::Dot) {
                match self.next() {
                    Some(Tok::Ident(k)) => segments.push(Segment::Key(k)),
                    Some(Tok::Num(n)) => segments.push(Segment::Key(n.to_string())),
                    other => return Err(format!("unexpected token {other:?} after \".\"")),
                }
            } else if self.eat(&Tok::LBracket) {
                let index = self.primary()?;
                if !self.eat(&Tok::RBracket) {
                    return Err("expected \"]\"".to_string());
                }
                segments.push(Segment::Index(index));
            } else {
                return Ok(Expr::Var(segments));
            }
        }
    }

    fn output(&mut self, at: String) -> Result<Output, String> {
        let expr = self.primary()?;
        let mut filters = Vec::new();
        while self.eat(&Tok::Pipe) {
            let Some(Tok::Ident(name)) = self.next() else {
                return Err("expected a filter name after \"|\"".to_string());
            };
            let mut args = Vec::new();
            if self.eat(&Tok::Colon) {
                loop {
                    // Keyword arguments (`allow_false: true`) are kept by position.
                    if let (Some(Tok::Ident(_)), Some(Tok::Colon)) = (self.peek(), self.toks.get(self.pos + 1)) {
                        self.pos += 2;
                    }
                    args.push(self.primary()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
            }
            filters.push(Filter { name, args });
        }
        if !self.at_end() {
            return Err(format!("unexpected token {:?}", self.peek()));
        }
        Ok(Output { expr, filters, at })
    }

    /// `and`/`or` share the lowest precedence and group to the right; then `not`; then
    /// comparisons.
    fn cond(&mut self) -> Result<Cond, String> {
        self.enter()?;
        let left = self.not_cond()?;
        let c = match self.peek() {
            Some(Tok::Ident(w)) if w == "and" => {
                self.pos += 1;
                Cond::And(Box::new(left), Box::new(self.cond()?))
            }
            Some(Tok::Ident(w)) if w == "or" => {
                self.pos += 1;
                Cond::Or(Box::new(left), Box::new(self.cond()?))
            }
            _ => left,
        };
        self.depth -= 1;
        Ok(c)
    }

    fn not_cond(&mut self) -> Result<Cond, String> {
        if let Some(Tok::Ident(w)) = self.peek() {
            if w == "not" {
                self.pos += 1;
                self.enter()?;
                let inner = self.not_cond()?;
                self.depth -= 1;
                return Ok(Cond::Not(Box::new(inner)));
            }
        }
        let left = self.primary()?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let right = self.primary()?;
            return Ok(Cond::Cmp(op, left, right));
        }
        Ok(Cond::Value(left))
    }

    fn full_cond(&mut self) -> Result<Cond, String> {
        let c = self.cond()?;
        if !self.at_end() {
            return Err(format!("unexpected token {:?}", self.peek()));
        }
        Ok(c)
    }
}

// ---------------------------------------------------------------------------------------
// Block parser

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token<'s>>,
    pos: usize,
}

/// The tag that ended a block: name, arguments, byte offset.
type EndTag<'s> = Option<(&'s str, &'s str, usize)>;

impl<'s> Parser<'s> {
    /// Parses nodes until one of `ends` (returned with its arguments) or the end of input.
    fn block(&mut self, ends: &[&str], depth: usize) -> Result<(Vec<LNode>, EndTag<'s>), String> {
        if depth > MAX_NESTING {
            return Err("tags nested too deeply".to_string());
        }
        let mut nodes = Vec::new();
        while self.pos < self.tokens.len() {
            let i = self.pos;
            self.pos += 1;
            match &self.tokens[i] {
                Token::Text(t) => nodes.push(LNode::Text(t.to_string())),
                Token::Output { inner, at } => {
                    let (inner, at) = (*inner, *at);
                    let output = ExprParser::new(inner)
                        .and_then(|mut p| p.output(position(self.src, at)))
                        .map_err(|e| error_at(self.src, at, &e))?;
                    nodes.push(LNode::Output(output));
                }
                Token::Tag { name, args, at } => {
                    let (name, args, at) = (*name, *args, *at);
                    if ends.contains(&name) {
                        return Ok((nodes, Some((name, args, at))));
                    }
                    nodes.push(self.tag(name, args, at, depth)?);
                }
            }
        }
        Ok((nodes, None))
    }

    fn cond(&self, args: &str, at: usize) -> Result<Cond, String> {
        ExprParser::new(args)
            .and_then(|mut p| p.full_cond())
            .map_err(|e| error_at(self.src, at, &e))
    }

    fn tag(&mut self, name: &'s str, args: &'s str, at: usize, depth: usize) -> Result<LNode, String> {
        let src = self.src;
        match name {
            "#" => Ok(LNode::Text(String::new())),
            "if" | "unless" => {
                let end = if name == "if" { "endif" } else { "endunless" };
                let first = self.cond(args, at)?;
                let first = if name == "unless" { Cond::Not(Box::new(first)) } else { first };
                let mut branches = Vec::new();
                let mut cond = first;
                loop {
                    let (body, term) = self.block(&["elsif", "else", end], depth + 1)?;
                    branches.push((cond, body));
                    match term {
                        Some(("elsif", a, at)) => cond = self.cond(a, at)?,
                        Some(("else", _, _)) => {
                            let (body, term) = self.block(&[end], depth + 1)?;
                            if term.is_none() {
                                return Err(error_at(src, at, &format!("tag {{% {name} {args} %}} not closed")));
                            }
                            return Ok(LNode::If {
                                branches,
                                otherwise: Some(body),
                            });
                        }
                        Some(_) => {
                            return Ok(LNode::If {
                                branches,
                                otherwise: None,
                            })
                        }
                        None => return Err(error_at(src, at, &format!("tag {{% {name} {args} %}} not closed"))),
                    }
                }
            }
            "assign" => {
                let (var, rest) = args
                    .split_once('=')
                    .ok_or_else(|| error_at(src, at, &format!("illegal token {args}")))?;
                let var = var.trim();
                if var.is_empty() || !var.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                    return Err(error_at(src, at, &format!("illegal token {args}")));
                }
                let output = ExprParser::new(rest)
                    .and_then(|mut p| p.output(position(src, at)))
                    .map_err(|e| error_at(src, at, &e))?;
                Ok(LNode::Assign(var.to_string(), output))
            }
            "echo" => {
                let output = ExprParser::new(args)
                    .and_then(|mut p| p.output(position(src, at)))
                    .map_err(|e| error_at(src, at, &e))?;
                Ok(LNode::Output(output))
            }
            "capture" => {
                let var = args.trim_matches(|c| c == '"' || c == '\'').trim();
                if var.is_empty() {
                    return Err(error_at(src, at, &format!("{args} not valid identifier")));
                }
                let (body, term) = self.block(&["endcapture"], depth + 1)?;
                if term.is_none() {
                    return Err(error_at(src, at, &format!("tag {{% capture {args} %}} not closed")));
                }
                Ok(LNode::Capture(var.to_string(), body))
            }
            "comment" => {
                let mut nesting = 0usize;
                while self.pos < self.tokens.len() {
                    let i = self.pos;
                    self.pos += 1;
                    if let Token::Tag { name, .. } = &self.tokens[i] {
                        match *name {
                            "comment" => nesting += 1,
                            "endcomment" if nesting == 0 => return Ok(LNode::Text(String::new())),
                            "endcomment" => nesting -= 1,
                            _ => {}
                        }
                    }
                }
                Err(error_at(src, at, "tag {% comment %} not closed"))
            }
            n if DISABLED_TAGS.contains(&n) => Err(error_at(src, at, &format!("tag \"{n}\" is disabled"))),
            n if UNSUPPORTED_TAGS.contains(&n) => Err(error_at(
                src,
                at,
                &format!("tag \"{n}\" is not supported by this Liquid engine"),
            )),
            n => Err(error_at(src, at, &format!("tag \"{n}\" not found"))),
        }
    }
}

impl LiquidTemplate {
    /// Parses a template; the error is the message Segment's engine would throw.
    pub(crate) fn parse(source: &str) -> Result<LiquidTemplate, String> {
        let tokens = tokenize(source)?;
        let mut parser = Parser {
            src: source,
            tokens,
            pos: 0,
        };
        let (nodes, term) = parser.block(&[], 0)?;
        if let Some((name, _, at)) = term {
            return Err(error_at(source, at, &format!("tag \"{name}\" not found")));
        }
        Ok(LiquidTemplate { nodes })
    }

    /// Renders the template against the payload.
    pub(crate) fn render(&self, payload: Option<&Value>, budget: &mut Budget) -> Result<String, MappingError> {
        let mut scope = Scope {
            payload,
            locals: HashMap::new(),
        };
        let mut out = String::new();
        render_nodes(&self.nodes, &mut scope, &mut out, budget)?;
        budget.bytes(out.len())?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

struct Scope<'a> {
    payload: Option<&'a Value>,
    locals: HashMap<String, Value>,
}

/// A Liquid value during evaluation.
#[derive(Debug, Clone)]
enum LV<'a> {
    Undef,
    Nil,
    Empty,
    Blank,
    Num(f64),
    V(Cow<'a, Value>),
}

impl LV<'_> {
    fn value(&self) -> Option<&Value> {
        match self {
            LV::V(v) => Some(v),
            _ => None,
        }
    }

    fn is_nil(&self) -> bool {
        matches!(self, LV::Undef | LV::Nil | LV::V(Cow::Borrowed(Value::Null)))
            || matches!(self, LV::V(Cow::Owned(Value::Null)))
    }

    fn truthy(&self) -> bool {
        !(self.is_nil() || matches!(self.value(), Some(Value::Bool(false))))
    }
}

fn liquid_error(message: String) -> MappingError {
    MappingError::Liquid(message)
}

/// Renders nodes; recursion follows the parsed blocks, whose nesting is bounded.
fn render_nodes(nodes: &[LNode], scope: &mut Scope<'_>, out: &mut String, budget: &mut Budget) -> Result<(), MappingError> {
    for node in nodes {
        budget.nodes(1)?;
        match node {
            LNode::Text(t) => out.push_str(t),
            LNode::Output(o) => {
                let v = eval_output(o, scope)?;
                stringify(&v, out)?;
                if out.len() > budget.bytes_left {
                    return Err(MappingError::LimitExceeded {
                        what: "bytes of produced strings",
                        max: super::MAX_OUTPUT_BYTES,
                    });
                }
            }
            LNode::If { branches, otherwise } => {
                let mut taken = false;
                for (cond, body) in branches {
                    if eval_cond(cond, scope, 0)? {
                        render_nodes(body, scope, out, budget)?;
                        taken = true;
                        break;
                    }
                }
                if let (false, Some(body)) = (taken, otherwise) {
                    render_nodes(body, scope, out, budget)?;
                }
            }
            LNode::Assign(name, o) => {
                let v = to_owned_value(eval_output(o, scope)?);
                scope.locals.insert(name.clone(), v);
            }
            LNode::Capture(name, body) => {
                let mut captured = String::new();
                render_nodes(body, scope, &mut captured, budget)?;
                scope.locals.insert(name.clone(), Value::String(captured));
            }
        }
    }
    Ok(())
}

fn to_owned_value(v: LV<'_>) -> Value {
    match v {
        LV::Undef | LV::Nil => Value::Null,
        LV::Empty | LV::Blank => Value::String(String::new()),
        LV::Num(n) => num_value(n),
        LV::V(v) => v.into_owned(),
    }
}

fn num_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// liquidjs `stringify`: nil is `''`, arrays are joined without separator.
fn stringify(v: &LV<'_>, out: &mut String) -> Result<(), MappingError> {
    match v {
        LV::Undef | LV::Nil | LV::Empty | LV::Blank => Ok(()),
        LV::Num(n) => {
            out.push_str(&f64_to_js_string(*n));
            Ok(())
        }
        LV::V(v) => stringify_value(v, out, 0),
    }
}

fn stringify_value(v: &Value, out: &mut String, depth: usize) -> Result<(), MappingError> {
    if depth > super::MAX_PAYLOAD_DEPTH {
        return Err(super::value::too_deep());
    }
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_to_js_string(n)),
        Value::String(s) => out.push_str(s),
        Value::Object(_) => out.push_str("[object Object]"),
        Value::Array(items) => {
            for item in items {
                stringify_value(item, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

fn try_str(v: &LV<'_>) -> Result<String, MappingError> {
    let mut s = String::new();
    stringify(v, &mut s)?;
    Ok(s)
}

/// `stringify` for keys and comparisons, where only scalars matter (an over-deep array
/// stringifies as `''`).
fn to_str(v: &LV<'_>) -> String {
    try_str(v).unwrap_or_default()
}

fn lookup<'a>(scope: &Scope<'a>, name: &str) -> LV<'a> {
    if let Some(v) = scope.locals.get(name) {
        return LV::V(Cow::Owned(v.clone()));
    }
    match scope.payload {
        Some(Value::Object(m)) => super::path::object_get(m, name).map_or(LV::Undef, |v| LV::V(Cow::Borrowed(v))),
        _ => LV::Undef,
    }
}

fn read_property<'a>(base: LV<'a>, key: &LV<'_>) -> LV<'a> {
    let key_str = match key {
        LV::Num(n) => f64_to_js_string(*n),
        other => to_str(other),
    };
    let pick = |v: &Value| -> Option<Value> {
        match v {
            Value::Object(m) => match m.get(&key_str) {
                Some(found) => Some(found.clone()),
                None if key_str == "size" => Some(Value::from(m.len())),
                None => None,
            },
            Value::Array(items) => {
                let idx = match key {
                    LV::Num(n) => Some(*n as i64),
                    LV::V(kv) => match kv.as_ref() {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.parse::<i64>().ok(),
                        _ => None,
                    },
                    _ => None,
                };
                match (key_str.as_str(), idx) {
                    (_, Some(i)) => {
                        let i = if i < 0 { items.len() as i64 + i } else { i };
                        usize::try_from(i).ok().and_then(|i| items.get(i)).cloned()
                    }
                    ("size", None) => Some(Value::from(items.len())),
                    ("first", None) => items.first().cloned(),
                    ("last", None) => items.last().cloned(),
                    _ => None,
                }
            }
            Value::String(s) if key_str == "size" => Some(Value::from(js_len(s))),
            _ => None,
        }
    };
    match base {
        LV::V(Cow::Borrowed(v)) => {
            // Stay borrowed for plain object and array access.
            match v {
                Value::Object(m) if m.contains_key(&key_str) => m.get(&key_str).map_or(LV::Undef, |f| LV::V(Cow::Borrowed(f))),
                _ => pick(v).map_or(LV::Undef, |f| LV::V(Cow::Owned(f))),
            }
        }
        LV::V(Cow::Owned(v)) => pick(&v).map_or(LV::Undef, |f| LV::V(Cow::Owned(f))),
        _ => LV::Undef,
    }
}

fn eval_expr<'a>(e: &Expr, scope: &Scope<'a>, depth: usize) -> Result<LV<'a>, MappingError> {
    if depth > MAX_NESTING {
        return Err(liquid_error("expression nested too deeply".to_string()));
    }
    Ok(match e {
        Expr::Literal(v) => LV::V(Cow::Owned(v.clone())),
        Expr::Nil => LV::Nil,
        Expr::Empty => LV::Empty,
        Expr::Blank => LV::Blank,
        Expr::Range(from, to) => {
            let from = to_number(&eval_expr(from, scope, depth + 1)?) as i64;
            let to = to_number(&eval_expr(to, scope, depth + 1)?) as i64;
            if to.saturating_sub(from) > 10_000 {
                return Err(liquid_error("range too large".to_string()));
            }
            LV::V(Cow::Owned(Value::Array((from..=to).map(Value::from).collect())))
        }
        Expr::Var(segments) => {
            let mut cur = LV::Undef;
            for (i, seg) in segments.iter().enumerate() {
                let key = match seg {
                    Segment::Key(k) => LV::V(Cow::Owned(Value::String(k.clone()))),
                    Segment::Index(e) => eval_expr(e, scope, depth + 1)?,
                };
                cur = if i == 0 {
                    lookup(scope, &to_str(&key))
                } else {
                    read_property(cur, &key)
                };
                if matches!(cur, LV::Undef) {
                    break;
                }
            }
            cur
        }
    })
}

fn eval_output<'a>(o: &Output, scope: &Scope<'a>) -> Result<LV<'a>, MappingError> {
    let mut v = eval_expr(&o.expr, scope, 0)?;
    for f in &o.filters {
        let mut args = Vec::with_capacity(f.args.len());
        for a in &f.args {
            args.push(eval_expr(a, scope, 0)?);
        }
        v = apply_filter(&f.name, v, &args).map_err(|e| match e {
            MappingError::Liquid(message) => liquid_error(format!("{message}, {}", o.at)),
            other => other,
        })?;
    }
    Ok(v)
}

fn eval_cond(c: &Cond, scope: &Scope<'_>, depth: usize) -> Result<bool, MappingError> {
    if depth > MAX_NESTING {
        return Err(liquid_error("condition nested too deeply".to_string()));
    }
    Ok(match c {
        Cond::Value(e) => eval_expr(e, scope, 0)?.truthy(),
        Cond::Not(inner) => !eval_cond(inner, scope, depth + 1)?,
        Cond::And(a, b) => eval_cond(a, scope, depth + 1)? && eval_cond(b, scope, depth + 1)?,
        Cond::Or(a, b) => eval_cond(a, scope, depth + 1)? || eval_cond(b, scope, depth + 1)?,
        Cond::Cmp(op, a, b) => {
            let l = eval_expr(a, scope, 0)?;
            let r = eval_expr(b, scope, 0)?;
            compare(*op, &l, &r)
        }
    })
}

fn is_empty_value(v: &LV<'_>) -> bool {
    match v.value() {
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

fn is_blank_value(v: &LV<'_>) -> bool {
    if !v.truthy() {
        return true;
    }
    match v.value() {
        Some(Value::String(s)) => s.chars().all(char::is_whitespace),
        _ => is_empty_value(v),
    }
}

fn equals(l: &LV<'_>, r: &LV<'_>) -> bool {
    match (l, r) {
        (LV::Nil, other) | (other, LV::Nil) => other.is_nil(),
        (LV::Empty, LV::Empty) | (LV::Blank, LV::Blank) | (LV::Empty, LV::Blank) | (LV::Blank, LV::Empty) => false,
        (LV::Empty, other) | (other, LV::Empty) => is_empty_value(other),
        (LV::Blank, other) | (other, LV::Blank) => is_blank_value(other),
        (LV::Undef, LV::Undef) => true,
        (LV::Undef, _) | (_, LV::Undef) => false,
        (LV::Num(a), LV::Num(b)) => a == b,
        (LV::Num(a), LV::V(v)) | (LV::V(v), LV::Num(a)) => v.as_f64() == Some(*a),
        (LV::V(a), LV::V(b)) => value_equals(a, b, 0),
    }
}

fn value_equals(a: &Value, b: &Value, depth: usize) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            depth < super::MAX_PAYLOAD_DEPTH
                && x.len() == y.len()
                && x.iter().zip(y).all(|(a, b)| value_equals(a, b, depth + 1))
        }
        // Objects compare by identity in JavaScript.
        (Value::Object(_), Value::Object(_)) => std::ptr::eq(a, b),
        _ => a == b,
    }
}

enum Prim {
    Str(String),
    Num(f64),
}

/// JavaScript `ToPrimitive` for relational comparison.
fn to_prim(v: &LV<'_>) -> Prim {
    match v {
        LV::Undef => Prim::Num(f64::NAN),
        LV::Nil => Prim::Num(0.0),
        LV::Empty | LV::Blank => Prim::Str(String::new()),
        LV::Num(n) => Prim::Num(*n),
        LV::V(v) => match v.as_ref() {
            Value::Null => Prim::Num(0.0),
            Value::Bool(b) => Prim::Num(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => Prim::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Prim::Str(s.clone()),
            Value::Array(_) | Value::Object(_) => {
                let mut s = String::new();
                let _ = super::value::push_js_string(&mut s, v, 0);
                Prim::Str(s)
            }
        },
    }
}

fn compare(op: CmpOp, l: &LV<'_>, r: &LV<'_>) -> bool {
    match op {
        CmpOp::Eq => return equals(l, r),
        CmpOp::Ne => return !equals(l, r),
        CmpOp::Contains => {
            return match l.value() {
                Some(Value::Array(items)) => items.iter().any(|i| equals(&LV::V(Cow::Borrowed(i)), r)),
                Some(Value::String(s)) => {
                    // `indexOf` converts its argument with `String(...)`.
                    let needle = match r {
                        LV::Undef => Some("undefined".to_string()),
                        LV::Nil => Some("null".to_string()),
                        LV::Empty | LV::Blank => Some(String::new()),
                        LV::Num(n) => Some(f64_to_js_string(*n)),
                        LV::V(v) => {
                            let mut text = String::new();
                            super::value::push_js_string(&mut text, v, 0).ok().map(|()| text)
                        }
                    };
                    // An over-deep needle cannot occur in a string of this size anyway.
                    needle.is_some_and(|n| s.contains(&n))
                }
                _ => false,
            };
        }
        _ => {}
    }
    // Drops (nil, empty, blank) are never ordered.
    if matches!(l, LV::Nil | LV::Empty | LV::Blank) || matches!(r, LV::Nil | LV::Empty | LV::Blank) {
        return false;
    }
    let ordering = match (to_prim(l), to_prim(r)) {
        (Prim::Str(a), Prim::Str(b)) => a.encode_utf16().cmp(b.encode_utf16()),
        (a, b) => {
            let a = match a {
                Prim::Num(n) => n,
                Prim::Str(s) => js_string_to_number(&s),
            };
            let b = match b {
                Prim::Num(n) => n,
                Prim::Str(s) => js_string_to_number(&s),
            };
            match a.partial_cmp(&b) {
                Some(o) => o,
                None => return false,
            }
        }
    };
    match op {
        CmpOp::Lt => ordering.is_lt(),
        CmpOp::Gt => ordering.is_gt(),
        CmpOp::Le => ordering.is_le(),
        CmpOp::Ge => ordering.is_ge(),
        _ => false,
    }
}

/// JavaScript `Number(string)` for decimal and hexadecimal literals.
fn js_string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).map_or(f64::NAN, |n| n as f64);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let valid = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// JavaScript `Number(v)`.
fn to_number(v: &LV<'_>) -> f64 {
    match v {
        LV::Num(n) => *n,
        LV::Undef => f64::NAN,
        LV::Nil | LV::Empty | LV::Blank => 0.0,
        LV::V(v) => match v.as_ref() {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) => js_string_to_number(s),
            Value::Array(_) | Value::Object(_) => {
                let mut s = String::new();
                let _ = super::value::push_js_string(&mut s, v, 0);
                js_string_to_number(&s)
            }
        },
    }
}

fn arg<'x, 'a>(args: &'x [LV<'a>], i: usize) -> &'x LV<'a> {
    const UNDEF: &LV<'static> = &LV::Undef;
    args.get(i).unwrap_or(UNDEF)
}

fn string(s: String) -> LV<'static> {
    LV::V(Cow::Owned(Value::String(s)))
}

fn int_arg(args: &[LV<'_>], i: usize, default: i64) -> i64 {
    match arg(args, i) {
        LV::Undef => default,
        v => {
            let n = to_number(v);
            if n.is_nan() {
                default
            } else {
                n as i64
            }
        }
    }
}

fn slice_chars(s: &str, start: i64, len: i64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let start = if start < 0 { (n + start).max(0) } else { start.min(n) };
    let end = (start + len.max(0)).min(n);
    chars[start as usize..end as usize].iter().collect()
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn url_decode(s: &str) -> Result<String, String> {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("URI malformed")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "URI malformed")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "URI malformed".to_string())
}

fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match (c, in_tag) {
            ('<', _) => in_tag = true,
            ('>', true) => in_tag = false,
            (c, false) => out.push(c),
            _ => {}
        }
    }
    out
}

fn replace_last(s: &str, from: &str, to: &str) -> String {
    match s.rfind(from) {
        Some(at) => format!("{}{}{}", &s[..at], to, &s[at + from.len()..]),
        None => s.to_string(),
    }
}

fn array_of<'a>(v: &LV<'a>) -> Vec<Value> {
    match v.value() {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

/// Applies one filter. The supported filters are: `append prepend upcase downcase capitalize
/// strip lstrip rstrip strip_newlines strip_html escape escape_once url_encode url_decode
/// replace replace_first replace_last remove remove_first remove_last truncate truncatewords
/// split slice size default join first last compact json jsonify plus minus times divided_by
/// modulo abs ceil floor round at_least at_most`.
fn apply_filter<'a>(name: &str, input: LV<'a>, args: &[LV<'_>]) -> Result<LV<'a>, MappingError> {
    let s = || try_str(&input);
    let a = |i: usize| try_str(arg(args, i));
    let num = |v: f64| LV::Num(v);
    Ok(match name {
        n if DISABLED_FILTERS.contains(&n) => return Err(liquid_error(format!("filter \"{n}\" is disabled"))),
        n if UNSUPPORTED_FILTERS.contains(&n) => {
            return Err(liquid_error(format!(
                "filter \"{n}\" is not supported by this Liquid engine"
            )))
        }
        "append" => string(s()? + &a(0)?),
        "prepend" => string(a(0)? + &s()?),
        "upcase" => string(s()?.to_uppercase()),
        "downcase" => string(s()?.to_lowercase()),
        "capitalize" => {
            let text = s()?;
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => string(first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase()),
                None => string(String::new()),
            }
        }
        "strip" => string(s()?.trim().to_string()),
        "lstrip" => string(s()?.trim_start().to_string()),
        "rstrip" => string(s()?.trim_end().to_string()),
        "strip_newlines" => string(s()?.replace("\r\n", "").replace('\n', "")),
        "strip_html" => string(strip_html(&s()?)),
        "escape" => string(html_escape(&s()?)),
        "escape_once" => string(html_escape(&html_unescape(&s()?))),
        "url_encode" => string(url_encode(&s()?)),
        "url_decode" => string(url_decode(&s()?).map_err(liquid_error)?),
        "replace" => string(s()?.replace(&a(0)?, &a(1)?)),
        "replace_first" => string(s()?.replacen(&a(0)?, &a(1)?, 1)),
        "replace_last" => string(replace_last(&s()?, &a(0)?, &a(1)?)),
        "remove" => string(s()?.replace(&a(0)?, "")),
        "remove_first" => string(s()?.replacen(&a(0)?, "", 1)),
        "remove_last" => string(replace_last(&s()?, &a(0)?, "")),
        "truncate" => {
            let text = s()?;
            let len = int_arg(args, 0, 50);
            let ellipsis = match arg(args, 1) {
                LV::Undef => "...".to_string(),
                v => try_str(v)?,
            };
            if (text.chars().count() as i64) <= len {
                string(text)
            } else {
                let keep = (len - ellipsis.chars().count() as i64).max(0) as usize;
                string(text.chars().take(keep).collect::<String>() + &ellipsis)
            }
        }
        "truncatewords" => {
            let text = s()?;
            let words = int_arg(args, 0, 15).max(1) as usize;
            let ellipsis = match arg(args, 1) {
                LV::Undef => "...".to_string(),
                v => try_str(v)?,
            };
            let parts: Vec<&str> = text.split(' ').collect();
            if parts.len() <= words {
                string(text)
            } else {
                string(parts[..words].join(" ") + &ellipsis)
            }
        }
        "split" => {
            let text = s()?;
            let sep = a(0)?;
            let mut parts: Vec<Value> = if sep.is_empty() {
                text.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                text.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect()
            };
            // Liquid drops trailing empty strings.
            while parts.last().is_some_and(|p| p.as_str() == Some("")) {
                parts.pop();
            }
            LV::V(Cow::Owned(Value::Array(parts)))
        }
        "slice" => {
            let start = int_arg(args, 0, 0);
            let len = int_arg(args, 1, 1);
            match input.value() {
                Some(Value::Array(items)) => {
                    let n = items.len() as i64;
                    let from = if start < 0 { (n + start).max(0) } else { start.min(n) };
                    let to = (from + len.max(0)).min(n);
                    LV::V(Cow::Owned(Value::Array(items[from as usize..to as usize].to_vec())))
                }
                _ => string(slice_chars(&s()?, start, len)),
            }
        }
        "size" => match input.value() {
            Some(Value::Array(items)) => num(items.len() as f64),
            Some(Value::String(text)) => num(js_len(text) as f64),
            Some(Value::Object(m)) => num(m.len() as f64),
            _ => num(0.0),
        },
        "default" => {
            let use_default = match input.value() {
                Some(Value::String(text)) => text.is_empty(),
                Some(Value::Array(items)) => items.is_empty(),
                Some(Value::Bool(false)) => !arg(args, 1).truthy(),
                _ => !input.truthy(),
            };
            if use_default {
                match arg(args, 0) {
                    LV::Undef => LV::Undef,
                    LV::Nil => LV::Nil,
                    LV::Empty | LV::Blank => string(String::new()),
                    LV::Num(n) => LV::Num(*n),
                    LV::V(v) => LV::V(Cow::Owned(v.as_ref().clone())),
                }
            } else {
                input
            }
        }
        "join" => {
            let sep = match arg(args, 0) {
                LV::Undef => " ".to_string(),
                v => try_str(v)?,
            };
            match input.value() {
                Some(Value::Array(items)) => {
                    let parts: Vec<String> = items
                        .iter()
                        .map(|i| {
                            let mut p = String::new();
                            let _ = super::value::push_js_string(&mut p, i, 0);
                            if i.is_null() {
                                p.clear();
                            }
                            p
                        })
                        .collect();
                    string(parts.join(&sep))
                }
                _ => input,
            }
        }
        "first" => match input.value() {
            Some(Value::Array(items)) => items.first().cloned().map_or(LV::Undef, |v| LV::V(Cow::Owned(v))),
            Some(Value::String(text)) => text.chars().next().map_or(string(String::new()), |c| string(c.to_string())),
            _ => LV::Undef,
        },
        "last" => match input.value() {
            Some(Value::Array(items)) => items.last().cloned().map_or(LV::Undef, |v| LV::V(Cow::Owned(v))),
            Some(Value::String(text)) => text.chars().last().map_or(string(String::new()), |c| string(c.to_string())),
            _ => LV::Undef,
        },
        "compact" => LV::V(Cow::Owned(Value::Array(
            array_of(&input).into_iter().filter(|v| !v.is_null()).collect(),
        ))),
        "json" | "jsonify" => {
            let res = match &input {
                LV::Undef => Res::Undefined,
                LV::Nil => Res::Val(Value::Null),
                LV::Empty | LV::Blank => Res::Val(Value::String(String::new())),
                LV::Num(n) => Res::Val(num_value(*n)),
                LV::V(v) => Res::Ref(v.as_ref()),
            };
            match json_stringify(&res)? {
                Some(text) => string(text),
                None => LV::Undef,
            }
        }
        "plus" => num(to_number(&input) + to_number(arg(args, 0))),
        "minus" => num(to_number(&input) - to_number(arg(args, 0))),
        "times" => num(to_number(&input) * to_number(arg(args, 0))),
        "divided_by" => {
            let q = to_number(&input) / to_number(arg(args, 0));
            num(if arg(args, 1).truthy() { q.floor() } else { q })
        }
        "modulo" => num(to_number(&input) % to_number(arg(args, 0))),
        "abs" => num(to_number(&input).abs()),
        "ceil" => num(to_number(&input).ceil()),
        "floor" => num(to_number(&input).floor()),
        "round" => {
            let digits = int_arg(args, 0, 0).clamp(-20, 20) as i32;
            let amp = 10f64.powi(digits);
            // Math.round: halves round towards +Infinity.
            num((to_number(&input) * amp + 0.5).floor() / amp)
        }
        "at_least" => num(to_number(&input).max(to_number(arg(args, 0)))),
        "at_most" => num(to_number(&input).min(to_number(arg(args, 0)))),
        // liquidjs passes the input through a filter it does not know (no strictFilters).
        _ => input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, data: Value) -> Result<String, String> {
        let tpl = LiquidTemplate::parse(t)?;
        tpl.render(Some(&data), &mut Budget::new()).map_err(|e| e.to_string())
    }

    #[test]
    fn renders_the_common_subset() {
        let data = json!({"p": {"name": "Ada", "n": 3, "tags": ["a", "b"], "s": "  x  "}});
        assert_eq!(render("Hi {{ p.name | upcase }}", data.clone()).as_deref(), Ok("Hi ADA"));
        assert_eq!(render("{{ p.n | plus: 2 }}", data.clone()).as_deref(), Ok("5"));
        assert_eq!(render("{{ p.n | divided_by: 2 }}", data.clone()).as_deref(), Ok("1.5"));
        assert_eq!(render("{{ p.tags | join: ',' }}", data.clone()).as_deref(), Ok("a,b"));
        assert_eq!(render("{{ p.tags.size }}{{ p.tags.first }}", data.clone()).as_deref(), Ok("2a"));
        assert_eq!(render("[{{- p.s -}}]", data.clone()).as_deref(), Ok("[  x  ]"));
        assert_eq!(render("[ {{- p.s | strip -}} ]", data.clone()).as_deref(), Ok("[x]"));
        assert_eq!(
            render("{% if p.n > 2 and p.name == 'Ada' %}yes{% else %}no{% endif %}", data.clone()).as_deref(),
            Ok("yes")
        );
        assert_eq!(render("{% unless p.missing %}u{% endunless %}", data.clone()).as_deref(), Ok("u"));
        assert_eq!(render("{% if p.missing == nil %}nil{% endif %}", data.clone()).as_deref(), Ok("nil"));
        assert_eq!(render("{% if p.tags contains 'b' %}c{% endif %}", data.clone()).as_deref(), Ok("c"));
        assert_eq!(
            render("{% assign x = p.name | downcase %}{% capture y %}<{{ x }}>{% endcapture %}{{ y }}", data.clone()).as_deref(),
            Ok("<ada>")
        );
        assert_eq!(render("{{ p.missing | default: 'd' }}", data.clone()).as_deref(), Ok("d"));
        assert_eq!(render("{% raw %}{{ x }}{% endraw %}", data.clone()).as_deref(), Ok("{{ x }}"));
        assert_eq!(render("a{% comment %}{{ x }}{% endcomment %}b", data.clone()).as_deref(), Ok("ab"));
        assert_eq!(render("{% if true or false and false %}t{% endif %}", data.clone()).as_deref(), Ok("t"));
    }

    #[test]
    fn refuses_what_it_does_not_implement() {
        let data = json!({});
        assert!(render("{% for x in y %}{% endfor %}", data.clone()).is_err_and(|e| e.contains("tag \"for\" is disabled")));
        assert!(render("{{ x | map: 'a' }}", data.clone()).is_err_and(|e| e.contains("filter \"map\" is disabled")));
        assert!(render("{{ x | date: '%Y' }}", data.clone()).is_err_and(|e| e.contains("not supported")));
        assert!(render("{% cycle 'a' %}", data.clone()).is_err());
        assert!(render("{% if x %}", data.clone()).is_err());
        assert!(render("{{ x ", data.clone()).is_err());
        assert!(render("{% bogus %}", data).is_err_and(|e| e.contains("tag \"bogus\" not found")));
    }
}
