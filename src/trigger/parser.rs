//! The parser, faithful to destination-subscriptions' `parse-fql.ts`: one flat group per
//! level whose operator is the last `and`/`or` seen, a group ends at the first `)`, unknown
//! tokens are skipped, and operators are taken verbatim.

use super::lexer::{lex, Kind, Token};
use super::tree::{Field, Group, GroupOp, JsStr, Leaf, Lit, Node, Op, Path, OBJECT_PROTO};
use super::{TriggerParseError, MAX_SOURCE_CHARS};
use crate::js;

/// What an identifier's first segment selects (`tokenToConditionType`).
#[derive(Clone, Copy, PartialEq)]
enum CondKind {
    Type,
    Event,
    Name,
    UserId,
    Context,
    Properties,
    Traits,
    /// `constructor`, `toString`, ...: found on `Object.prototype` by the upstream lookup, so
    /// the parser takes an operator and a value after it, then produces nothing.
    Prototype,
}

fn cond_kind(first: &str) -> Option<CondKind> {
    Some(match first {
        "type" => CondKind::Type,
        "event" => CondKind::Event,
        "name" => CondKind::Name,
        "userId" => CondKind::UserId,
        "context" => CondKind::Context,
        "properties" => CondKind::Properties,
        "traits" => CondKind::Traits,
        f if OBJECT_PROTO.contains(&f) => CondKind::Prototype,
        _ => return None,
    })
}

fn err(position: usize, expected: &str, message: String) -> TriggerParseError {
    TriggerParseError {
        position,
        expected: expected.to_owned(),
        message,
    }
}

/// `getTokenValue`: strings lose their double quotes, numbers become numbers, `true`/`false`
/// idents become booleans, anything else is its text.
fn token_value(t: &Token) -> Lit {
    match t.kind {
        Kind::Str => {
            let v = t.value.strip_prefix('"').unwrap_or(&t.value);
            let v = v.strip_suffix('"').unwrap_or(v);
            Lit::Str(JsStr::plain(v))
        }
        Kind::Number => Lit::Num(js::string_to_number(&t.value)),
        Kind::Ident if t.value == "true" => Lit::Bool(true),
        Kind::Ident if t.value == "false" => Lit::Bool(false),
        _ => Lit::Str(JsStr::plain(&t.value)),
    }
}

/// `String(getTokenValue(t))`.
fn token_string(t: &Token) -> String {
    match token_value(t) {
        Lit::Str(s) => s.rest.into_string(),
        Lit::Num(n) => js::number_to_string(n).to_string(),
        Lit::Bool(b) => b.to_string(),
        _ => t.value.clone(),
    }
}

/// Merges each `ident . ident` run into one identifier `a.b.c`.
fn normalize(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut it = tokens.into_iter().peekable();
    while let Some(cur) = it.next() {
        let joins = cur.kind == Kind::Dot
            && out.last().is_some_and(|t| t.kind == Kind::Ident)
            && it.peek().is_some_and(|t| t.kind == Kind::Ident);
        if joins {
            if let (Some(prev), Some(next)) = (out.last_mut(), it.next()) {
                prev.value.push('.');
                prev.value.push_str(&next.value);
            }
        } else {
            out.push(cur);
        }
    }
    out
}

/// A cursor over one level's tokens (`tokens.shift()` in the original).
struct Stream<'a> {
    tokens: &'a [Token],
    i: usize,
}

impl<'a> Stream<'a> {
    fn shift(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.i);
        if t.is_some() {
            self.i += 1;
        }
        t
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.i)
    }

    /// Where a missing token would have been.
    fn end_pos(&self) -> usize {
        self.tokens.last().map_or(0, |t| t.pos)
    }
}

/// Parses trigger text into the root group.
pub(crate) fn parse_fql(source: &str, warn: &mut Vec<String>) -> Result<Group, TriggerParseError> {
    let chars: Vec<char> = source.chars().take(MAX_SOURCE_CHARS + 1).collect();
    if chars.len() > MAX_SOURCE_CHARS {
        return Err(err(
            MAX_SOURCE_CHARS,
            "the end of the trigger",
            format!("the trigger is longer than {MAX_SOURCE_CHARS} characters"),
        ));
    }
    let tokens = normalize(lex(&chars)?);
    match parse_level(&tokens, 0, warn)? {
        Some(Node::Group(g)) => Ok(g),
        Some(node) => Ok(Group {
            op: GroupOp::And,
            children: vec![node],
        }),
        None => Err(no_condition(&tokens)),
    }
}

fn no_condition(tokens: &[Token]) -> TriggerParseError {
    const EXPECTED: &str = "a condition such as type = \"track\" (fields: type, event, name, \
                            userId, properties.*, traits.*, context.*)";
    match tokens.first() {
        Some(t) if t.kind != Kind::Eos => err(
            t.pos,
            EXPECTED,
            "the trigger has no condition Segment recognises".to_owned(),
        ),
        _ => err(0, EXPECTED, "the trigger is empty".to_owned()),
    }
}

/// One level (the whole trigger, or the inside of one pair of parentheses). `None` is
/// upstream's `undefined`: a level without any condition.
fn parse_level(
    tokens: &[Token],
    depth: usize,
    warn: &mut Vec<String>,
) -> Result<Option<Node>, TriggerParseError> {
    let mut s = Stream { tokens, i: 0 };
    let mut nodes: Vec<Node> = Vec::new();
    let mut op = GroupOp::And;
    let mut conditionals: Option<&str> = None;
    while let Some(token) = s.shift() {
        if token.kind == Kind::Eos {
            break;
        }
        match token.kind {
            Kind::Ident => {
                let first = token.value.split('.').next().unwrap_or("");
                if let Some(kind) = cond_kind(first) {
                    if kind == CondKind::Prototype {
                        warn.push(ignored(token));
                    }
                    condition(kind, token, &mut s, &mut nodes)?;
                } else if is_function(token) {
                    function(token, &mut s, &mut nodes, false)?;
                } else {
                    warn.push(ignored(token));
                }
            }
            Kind::Operator if token.value == "!" => match s.peek() {
                Some(f) if is_function(f) => {
                    s.shift();
                    function(f, &mut s, &mut nodes, true)?;
                }
                Some(_) => warn.push(format!(
                    "the '!' at position {} is ignored: Segment only negates contains( and match(",
                    token.pos
                )),
                None => {
                    return Err(err(
                        token.pos + 1,
                        "contains( or match( after '!'",
                        "the trigger ends after '!'".to_owned(),
                    ))
                }
            },
            Kind::ParenLeft => {
                let start = s.i;
                loop {
                    match s.shift() {
                        Some(t) if t.kind == Kind::ParenRight => break,
                        Some(_) => {}
                        None if depth > 0 => {
                            return Err(err(
                                token.pos,
                                "a condition instead of '(' inside parentheses",
                                "nested parentheses are not supported: Segment's trigger \
                                 parser ends a group at the first ')'"
                                    .to_owned(),
                            ))
                        }
                        None => {
                            return Err(err(
                                s.end_pos(),
                                "')'",
                                format!("the '(' at position {} is never closed", token.pos),
                            ))
                        }
                    }
                }
                let close = &tokens[s.i - 1];
                let mut group: Vec<Token> = tokens[start..s.i - 1].to_vec();
                group.push(Token::new(Kind::Eos, "eos", close.pos));
                let node = parse_level(&group, depth + 1, warn)?;
                nodes.push(node.unwrap_or(Node::Undefined));
            }
            Kind::Conditional => {
                if conditionals.is_some_and(|c| c != token.value) {
                    warn.push(format!(
                        "`and` and `or` at the same level: Segment has no precedence, the last \
                         one (`{}` at position {}) joins the whole level; use parentheses",
                        token.value, token.pos
                    ));
                }
                conditionals = Some(&token.value);
                op = if token.value == "or" {
                    GroupOp::Or
                } else {
                    GroupOp::And
                };
            }
            // `))` after `contains(...)` closing a group is harmless; any other stray `)`
            // means conditions leaked out of a group (or the `)` is a typo).
            Kind::ParenRight
                if depth == 0 && !(s.i >= 2 && tokens[s.i - 2].kind == Kind::ParenRight) =>
            {
                warn.push(format!(
                    "the ')' at position {} closes nothing (a contains( or match( inside \
                     parentheses ends the group at its own ')', and what follows it joins the \
                     outer level)",
                    token.pos
                ))
            }
            Kind::Str | Kind::Number | Kind::Null => warn.push(format!(
                "`{}` at position {} is not part of any condition: it is ignored",
                token.value, token.pos
            )),
            _ => {}
        }
    }
    Ok(match nodes.len() {
        0 => None,
        1 => nodes.pop().filter(|n| *n != Node::Undefined),
        _ => Some(Node::Group(Group {
            op,
            children: nodes,
        })),
    })
}

fn ignored(t: &Token) -> String {
    format!(
        "`{}` at position {} is not a field Segment's trigger language knows (type, event, \
         name, userId, properties.*, traits.*, context.*, contains, match): it is ignored",
        t.value, t.pos
    )
}

fn is_function(t: &Token) -> bool {
    t.kind == Kind::Ident && (t.value == "contains" || t.value == "match")
}

/// `field op value` for an identifier whose first segment is a known field.
fn condition(
    kind: CondKind,
    field_tok: &Token,
    s: &mut Stream<'_>,
    nodes: &mut Vec<Node>,
) -> Result<(), TriggerParseError> {
    let Some(op_tok) = s.shift() else {
        return Err(err(
            s.end_pos(),
            &format!("an operator after `{}`", field_tok.value),
            "Operator token is missing".to_owned(),
        ));
    };
    let Some(value_tok) = s.shift() else {
        return Err(err(
            s.end_pos(),
            &format!("an operator and a value after `{}`", field_tok.value),
            format!(
                "Value token is missing: `{}` needs an operator and a value",
                field_tok.value
            ),
        ));
    };
    let op = op_tok.value.as_str();
    let value = value_tok.value.as_str();
    let is_true = op == "=" && value == "true";
    let is_false = op == "=" && value == "false";
    let is_exists = op == "!=" && value == "null";
    let is_not_exists = op == "=" && value == "null";
    let stringly = || Lit::Str(JsStr::plain(&token_string(value_tok)));
    let leaf = |field: Field, op: Op, value: Lit| Node::Leaf(Box::new(Leaf::new(field, op, value)));
    let node = match kind {
        CondKind::Prototype => return Ok(()),
        CondKind::Type => leaf(Field::Type, Op::from_name(op), stringly()),
        CondKind::Event => leaf(Field::Event, Op::from_name(op), stringly()),
        CondKind::Name if is_exists => leaf(Field::Name, Op::Exists, Lit::Undefined),
        CondKind::Name if is_not_exists => leaf(Field::Name, Op::NotExists, Lit::Undefined),
        CondKind::Name => leaf(Field::Name, Op::from_name(op), stringly()),
        CondKind::UserId => {
            let special = if is_exists {
                Some(Op::Exists)
            } else if is_not_exists {
                Some(Op::NotExists)
            } else if is_true {
                Some(Op::IsTrue)
            } else if is_false {
                Some(Op::IsFalse)
            } else {
                None
            };
            match special {
                Some(o) => leaf(Field::UserId, o, Lit::Undefined),
                None => leaf(Field::UserId, Op::from_name(op), stringly()),
            }
        }
        CondKind::Properties | CondKind::Traits | CondKind::Context => {
            let prefix = match kind {
                CondKind::Properties => "properties",
                CondKind::Traits => "traits",
                _ => "context",
            };
            let field = path_field(prefix, &field_tok.value);
            let is_number = value_tok.kind == Kind::Number;
            let (o, v) = if is_exists {
                (Op::Exists, Lit::Undefined)
            } else if is_not_exists {
                (Op::NotExists, Lit::Undefined)
            } else if is_true {
                (Op::IsTrue, Lit::Undefined)
            } else if is_false {
                (Op::IsFalse, Lit::Undefined)
            } else if is_number && op == "=" {
                (Op::NumberEquals, token_value(value_tok))
            } else if is_number && op == "!=" {
                (Op::NumberNotEquals, token_value(value_tok))
            } else {
                (Op::from_name(op), token_value(value_tok))
            };
            leaf(field, o, v)
        }
    };
    nodes.push(node);
    Ok(())
}

/// `properties.a.b` → the event-property field `a.b` (`replace(/^(properties)\./, '')`).
fn path_field(prefix: &str, ident: &str) -> Field {
    let rest = ident.strip_prefix(prefix).unwrap_or(ident);
    let name = match rest.strip_prefix('.') {
        Some(after_dot) => after_dot,
        None => ident,
    };
    let path = Path::new(Some(name));
    match prefix {
        "properties" => Field::Property(path),
        "traits" => Field::Trait(path),
        _ => Field::Context(path),
    }
}

/// `contains(field, value)` / `match(field, value)`, possibly negated. Like upstream, it
/// skips one token for each of `(`, `,` and `)` without checking what they are.
fn function(
    fn_tok: &Token,
    s: &mut Stream<'_>,
    nodes: &mut Vec<Node>,
    negate: bool,
) -> Result<(), TriggerParseError> {
    let name = fn_tok.value.as_str();
    s.shift();
    let Some(field_tok) = s.shift() else {
        return Err(err(
            s.end_pos(),
            &format!("{name}(field, \"value\")"),
            format!("{name}() is missing a 1st argument"),
        ));
    };
    s.shift();
    let Some(value_tok) = s.shift() else {
        return Err(err(
            s.end_pos(),
            &format!("{name}(field, \"value\")"),
            format!("{name}() is missing a 2nd argument"),
        ));
    };
    s.shift();
    let (op, value) = if name == "contains" {
        let op = if negate {
            Op::NotContains
        } else {
            Op::Contains
        };
        (op, JsStr::plain(&token_string(value_tok)))
    } else if value_tok.value.ends_with("*\"") {
        let op = if negate {
            Op::NotStartsWith
        } else {
            Op::StartsWith
        };
        let mut v = token_string(value_tok);
        v.pop();
        (op, JsStr::plain(&v))
    } else {
        let op = if negate {
            Op::NotEndsWith
        } else {
            Op::EndsWith
        };
        (op, JsStr::drop_first_unit(&token_string(value_tok)))
    };
    let target = field_tok.value.as_str();
    let field = match target {
        "event" => Some(Field::Event),
        "name" => Some(Field::Name),
        "userId" => Some(Field::UserId),
        t if t.starts_with("properties") => Some(path_field("properties", t)),
        t if t.starts_with("traits") => Some(path_field("traits", t)),
        t if t.starts_with("context") => Some(path_field("context", t)),
        _ => None,
    };
    if let Some(field) = field {
        nodes.push(Node::Leaf(Box::new(Leaf::new(field, op, Lit::Str(value)))));
    }
    Ok(())
}
