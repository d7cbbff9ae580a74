//! Parsing Liquid templates: template tokens, expression tokens, expressions and blocks.

use std::borrow::Cow;

use serde_json::Value;

use super::{
    CmpOp, Cond, Expr, Filter, LNode, Output, PathStep, DISABLED_TAGS, MAX_NESTING,
    UNSUPPORTED_TAGS,
};

/// liquidjs' own white space (its `BLANK` character class), which its tokenizer skips and
/// whitespace control (`{{-`, `-%}`) removes: JavaScript's white space without U+FEFF, plus
/// U+180E.
fn is_blank(c: char) -> bool {
    match c {
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' => true,
        c if c.is_ascii() => false,
        '\u{a0}'
        | '\u{1680}'
        | '\u{180e}'
        | '\u{2000}'..='\u{200a}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202f}'
        | '\u{205f}'
        | '\u{3000}' => true,
        _ => false,
    }
}

/// `s` without liquidjs blanks at either end.
fn trim_blank(s: &str) -> &str {
    s.trim_matches(is_blank)
}

/// Parses a template into nodes; the error is the message Segment's engine would throw.
pub(super) fn parse_nodes(source: &str) -> Result<Vec<LNode>, String> {
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
    Ok(nodes)
}
// ---------------------------------------------------------------------------------------
// Template tokens

#[derive(Debug)]
enum Token<'s> {
    Text(Cow<'s, str>),
    Output {
        inner: &'s str,
        at: usize,
    },
    Tag {
        name: &'s str,
        args: &'s str,
        at: usize,
    },
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
            None if bytes[i..].starts_with(close.as_bytes()) => return Some(i),
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
        let (close, kind) = if is_output {
            ("}}", "output")
        } else {
            ("%}", "tag")
        };
        let Some(end) = find_close(src, start + 2, close) else {
            let snippet: String = src[start..].chars().take(20).collect();
            return Err(error_at(
                src,
                start,
                &format!("{kind} \"{snippet}\" not closed"),
            ));
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
        let inner = trim_blank(inner);
        let name_len = inner.find(is_blank).unwrap_or(inner.len());
        let (name, args) = if inner.starts_with('#') {
            ("#", "")
        } else {
            (&inner[..name_len], trim_blank(&inner[name_len..]))
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
                let tag = trim_blank(src[open + 2..close].trim_matches('-'));
                if tag == "endraw" {
                    break (open, close);
                }
                search = close + 2;
            };
            let (open, close) = body_end;
            let closing = &src[open + 2..close];
            push_text(
                &mut tokens,
                &src[pos..open],
                trim_next,
                closing.starts_with('-'),
            );
            trim_next = closing.ends_with('-');
            pos = close + 2;
            continue;
        }
        tokens.push(Token::Tag {
            name,
            args,
            at: start,
        });
    }
    Ok(tokens)
}

fn push_text<'s>(tokens: &mut Vec<Token<'s>>, text: &'s str, trim_start: bool, trim_end: bool) {
    let mut t = text;
    if trim_start {
        t = t.trim_start_matches(is_blank);
    }
    if trim_end {
        t = t.trim_end_matches(is_blank);
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
            c if is_blank(c) => i += 1,
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
                    text.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                } else {
                    text.parse::<i64>().ok().map(Value::from)
                };
                toks.push(Tok::Num(
                    num.ok_or_else(|| format!("invalid number {text}"))?,
                ));
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
                _ => self.path(vec![PathStep::Key(word)])?,
            },
            Some(Tok::LBracket) => {
                let index = self.primary()?;
                if !self.eat(&Tok::RBracket) {
                    return Err("expected \"]\"".to_string());
                }
                self.path(vec![PathStep::Index(index)])?
            }
            other => return Err(format!("unexpected token {other:?}")),
        };
        self.depth -= 1;
        Ok(e)
    }

    fn path(&mut self, mut steps: Vec<PathStep>) -> Result<Expr, String> {
        loop {
            if self.eat(&Tok::Dot) {
                match self.next() {
                    Some(Tok::Ident(k)) => steps.push(PathStep::Key(k)),
                    Some(Tok::Num(n)) => steps.push(PathStep::Key(n.to_string())),
                    other => return Err(format!("unexpected token {other:?} after \".\"")),
                }
            } else if self.eat(&Tok::LBracket) {
                let index = self.primary()?;
                if !self.eat(&Tok::RBracket) {
                    return Err("expected \"]\"".to_string());
                }
                steps.push(PathStep::Index(index));
            } else {
                return Ok(Expr::Var(steps));
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
                    if let (Some(Tok::Ident(_)), Some(Tok::Colon)) =
                        (self.peek(), self.toks.get(self.pos + 1))
                    {
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

    fn tag(
        &mut self,
        name: &'s str,
        args: &'s str,
        at: usize,
        depth: usize,
    ) -> Result<LNode, String> {
        let src = self.src;
        match name {
            "#" => Ok(LNode::Text(String::new())),
            "if" | "unless" => {
                let end = if name == "if" { "endif" } else { "endunless" };
                let first = self.cond(args, at)?;
                let first = if name == "unless" {
                    Cond::Not(Box::new(first))
                } else {
                    first
                };
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
                                return Err(error_at(
                                    src,
                                    at,
                                    &format!("tag {{% {name} {args} %}} not closed"),
                                ));
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
                        None => {
                            return Err(error_at(
                                src,
                                at,
                                &format!("tag {{% {name} {args} %}} not closed"),
                            ))
                        }
                    }
                }
            }
            "assign" => {
                let (var, rest) = args
                    .split_once('=')
                    .ok_or_else(|| error_at(src, at, &format!("illegal token {args}")))?;
                let var = trim_blank(var);
                if var.is_empty()
                    || !var
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                {
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
                let var = trim_blank(args.trim_matches(|c| c == '"' || c == '\''));
                if var.is_empty() {
                    return Err(error_at(src, at, &format!("{args} not valid identifier")));
                }
                let (body, term) = self.block(&["endcapture"], depth + 1)?;
                if term.is_none() {
                    return Err(error_at(
                        src,
                        at,
                        &format!("tag {{% capture {args} %}} not closed"),
                    ));
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
            n if DISABLED_TAGS.contains(&n) => {
                Err(error_at(src, at, &format!("tag \"{n}\" is disabled")))
            }
            n if UNSUPPORTED_TAGS.contains(&n) => Err(error_at(
                src,
                at,
                &format!("tag \"{n}\" is not supported by this Liquid engine"),
            )),
            n => Err(error_at(src, at, &format!("tag \"{n}\" not found"))),
        }
    }
}
