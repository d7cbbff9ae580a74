//! The tokenizer, faithful to `@segment/fql-ts` 1.10.1 (`src/lexer.ts`, `src/strings.ts`),
//! including its quirks: keywords and `!=`/`<=`/`>=` need a terminator after them, a closing
//! quote not followed by a terminator opens the next string, and a keyword cut short by the
//! end of input drops the characters it read (`an` lexes as the identifier `a`).

use super::TriggerParseError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ident,
    Dot,
    Operator,
    Conditional,
    Str,
    Number,
    Null,
    BrackLeft,
    BrackRight,
    ParenLeft,
    ParenRight,
    Comma,
    Eos,
}

/// A token; `value` is what fql-ts stores (strings keep their quotes, idents are unescaped).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub value: String,
    /// Character offset of the token's first character.
    pub pos: usize,
}

impl Token {
    pub fn new(kind: Kind, value: impl Into<String>, pos: usize) -> Token {
        Token {
            kind,
            value: value.into(),
            pos,
        }
    }
}

/// fql-ts' limit on one literal (`unreasonable string length`), in UTF-16 code units.
const MAX_LITERAL_UNITS: usize = 100_000;

/// fql-ts' own white space: space, tab and line feed only (not JavaScript's white space:
/// a carriage return, a no-break space or any other is an invalid character).
fn is_fql_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

fn is_alpha(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\\')
}

/// `isTerminator`: end of input, white space, `,`, `]` or `)`.
fn is_terminator(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => is_fql_space(c) || matches!(c, ',' | ']' | ')'),
    }
}

fn describe(c: Option<char>) -> String {
    match c {
        None => "the end of the trigger".to_owned(),
        Some(c) if c.is_control() => format!("U+{:04X}", u32::from(c)),
        Some(c) => format!("'{c}'"),
    }
}

fn err(position: usize, expected: &str, message: String) -> TriggerParseError {
    TriggerParseError {
        position,
        expected: expected.to_owned(),
        message,
    }
}

struct Lexer<'a> {
    s: &'a [char],
    pos: usize,
    /// Where a closing quote was left unconsumed (it then opens the next string).
    reopened: Option<usize>,
}

impl Lexer<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.s.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    /// fql-ts `accept`: reads `word` and wants a terminator after it, else rolls back; except
    /// that running into the end of input returns false *without* rolling back.
    fn accept(&mut self, word: &str) -> bool {
        let start = self.pos;
        let mut read = 0usize;
        let mut same = true;
        let mut expected = word.chars();
        for _ in word.chars() {
            let Some(c) = self.next() else {
                return false;
            };
            read += 1;
            if expected.next() != Some(c) {
                same = false;
            }
            if is_terminator(Some(c)) {
                break;
            }
        }
        if same && read == word.chars().count() && is_terminator(self.peek()) {
            return true;
        }
        self.pos = start;
        false
    }

    fn lex(&mut self) -> Result<Vec<Token>, TriggerParseError> {
        let mut tokens = Vec::new();
        loop {
            let start = self.pos;
            let Some(c) = self.next() else {
                tokens.push(Token::new(Kind::Eos, "eos", start));
                return Ok(tokens);
            };
            if is_fql_space(c) {
                continue;
            }
            if c == '!' {
                let n = self.peek();
                if n.is_some_and(is_alpha) || n == Some('(') {
                    tokens.push(Token::new(Kind::Operator, "!", start));
                    continue;
                }
            }
            let token = if is_alpha(c) || matches!(c, '!' | '=' | '>' | '<' | '\\' | '_') {
                self.operator_or_conditional(c, start)?
            } else if c.is_ascii_digit() || c == '-' || c == '+' {
                self.number(c, start)?
            } else if c == '"' || c == '\'' {
                self.string(c, start)?
            } else {
                let kind = match c {
                    '.' => Kind::Dot,
                    '[' => Kind::BrackLeft,
                    ']' => Kind::BrackRight,
                    ',' => Kind::Comma,
                    '(' => Kind::ParenLeft,
                    ')' => Kind::ParenRight,
                    _ => {
                        let hint = if c == '\r' {
                            " (Segment's trigger lexer rejects carriage returns: use \\n line endings)"
                        } else {
                            ""
                        };
                        return Err(err(
                            start,
                            "a field, value, operator, quote, parenthesis or comma",
                            format!("invalid character {}{hint}", describe(Some(c))),
                        ));
                    }
                };
                Token::new(kind, c.to_string(), start)
            };
            tokens.push(token);
        }
    }

    fn operator_or_conditional(
        &mut self,
        c: char,
        start: usize,
    ) -> Result<Token, TriggerParseError> {
        let op = |v: &str| Ok(Token::new(Kind::Operator, v, start));
        match c {
            '=' => op("="),
            '!' => {
                if self.accept("=") {
                    op("!=")
                } else {
                    Err(err(
                        start + 1,
                        "'=' after '!' (and a space after '!=')",
                        format!(
                            "'!' must be followed by '=', contains( or match(, not {}",
                            describe(self.peek())
                        ),
                    ))
                }
            }
            'a' if self.accept("nd") => Ok(Token::new(Kind::Conditional, "and", start)),
            'o' if self.accept("r") => Ok(Token::new(Kind::Conditional, "or", start)),
            'n' if self.accept("ull") => Ok(Token::new(Kind::Null, "null", start)),
            '<' | '>' => {
                if self.accept("=") {
                    op(&format!("{c}="))
                } else {
                    op(&c.to_string())
                }
            }
            _ => self.ident(c, start),
        }
    }

    fn ident(&mut self, first: char, start: usize) -> Result<Token, TriggerParseError> {
        let mut out = String::new();
        let mut units = 0usize;
        let mut c = first;
        loop {
            if c == '\\' {
                let at = self.pos;
                match self.next() {
                    None => {
                        return Err(err(
                            at,
                            "a character after '\\'",
                            "the trigger ends right after an escaping '\\'".to_owned(),
                        ))
                    }
                    // fql-ts reads UTF-16 code units: escaping a character outside the
                    // Basic Multilingual Plane takes half of it, and the other half then
                    // fails the identifier-termination check.
                    Some(e) if e.len_utf16() == 2 => {
                        return Err(err(
                            at,
                            "a character from the Basic Multilingual Plane after '\\'",
                            format!("cannot escape {} in an identifier", describe(Some(e))),
                        ))
                    }
                    Some(e) => c = e,
                }
            }
            out.push(c);
            units += c.len_utf16();
            if units >= MAX_LITERAL_UNITS {
                return Err(err(
                    start,
                    "a shorter identifier",
                    "unreasonable identifier length".to_owned(),
                ));
            }
            match self.peek() {
                Some(n) if is_ident_char(n) => {
                    self.pos += 1;
                    c = n;
                }
                _ => break,
            }
        }
        let n = self.peek();
        if !(is_terminator(n) || matches!(n, Some('.' | '(' | '=' | '!'))) {
            let hint = match n {
                Some('<' | '>') => format!(
                    " (write a space before '{}': Segment's trigger lexer rejects `{out}{}`)",
                    n.unwrap_or(' '),
                    n.unwrap_or(' ')
                ),
                _ => String::new(),
            };
            return Err(err(
                self.pos,
                "white space, '=', '!=', '.', '(', ',' or ')' after an identifier",
                format!("unexpected {} after identifier `{out}`{hint}", describe(n)),
            ));
        }
        Ok(Token::new(Kind::Ident, out, start))
    }

    fn number(&mut self, first: char, start: usize) -> Result<Token, TriggerParseError> {
        let mut out = String::new();
        out.push(first);
        let mut decimal = false;
        while let Some(c) = self.peek().filter(|c| c.is_ascii_digit() || *c == '.') {
            self.pos += 1;
            out.push(c);
            if c == '.' {
                if is_terminator(self.peek()) {
                    return Err(err(
                        self.pos,
                        "a digit after the decimal point",
                        format!("number `{out}` ends with a decimal point"),
                    ));
                }
                if decimal {
                    return Err(err(
                        self.pos - 1,
                        "at most one decimal point in a number",
                        format!("number `{out}` has two decimal points"),
                    ));
                }
                decimal = true;
            }
            if out.len() >= MAX_LITERAL_UNITS {
                return Err(err(
                    start,
                    "a shorter number",
                    "unreasonable number length".to_owned(),
                ));
            }
        }
        Ok(Token::new(Kind::Number, out, start))
    }

    fn string(&mut self, quote: char, start: usize) -> Result<Token, TriggerParseError> {
        let mut out = String::new();
        out.push(quote);
        let mut units = 0usize;
        while self.peek() != Some(quote) {
            let Some(c) = self.next() else {
                let hint = if self.reopened == Some(start) {
                    format!(
                        " (the quote at position {start} closes the previous string but is \
                         followed by {}, not by white space, ',', ')' or the end, so Segment \
                         reads it as opening a new string)",
                        describe(self.s.get(start + 1).copied())
                    )
                } else if self.s.contains(&'\r') {
                    " (the trigger contains a carriage return, which Segment rejects)".to_owned()
                } else {
                    String::new()
                };
                return Err(err(
                    start,
                    &format!("a closing {quote}"),
                    format!("unterminated string{hint}"),
                ));
            };
            out.push(c);
            units += c.len_utf16();
            if units >= MAX_LITERAL_UNITS {
                return Err(err(
                    start,
                    "a shorter string",
                    "unreasonable string length".to_owned(),
                ));
            }
        }
        // Eats the closing quote only when a terminator follows it.
        let mut q = [0u8; 4];
        if !self.accept(quote.encode_utf8(&mut q)) {
            self.reopened = Some(self.pos);
        }
        out.push(quote);
        Ok(Token::new(Kind::Str, out, start))
    }
}

/// Tokenizes `src` (as characters); the last token is always `Eos`.
pub(crate) fn lex(src: &[char]) -> Result<Vec<Token>, TriggerParseError> {
    Lexer {
        s: src,
        pos: 0,
        reopened: None,
    }
    .lex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Result<Vec<(Kind, String)>, TriggerParseError> {
        let chars: Vec<char> = src.chars().collect();
        lex(&chars).map(|t| t.into_iter().map(|t| (t.kind, t.value)).collect())
    }

    fn values(src: &str) -> Vec<String> {
        match kinds(src) {
            Ok(t) => t.into_iter().map(|(_, v)| v).collect(),
            Err(e) => vec![format!("ERR {}", e.message)],
        }
    }

    #[test]
    fn upstream_lexer_fixtures() {
        for bad in [
            "\"",
            "\"  ",
            "\" \" \" ",
            "\"abd",
            "abd \"",
            "5.",
            "5. ",
            "5.0.",
            "5.0.0.0",
            "!",
            "$",
            "@",
            "#",
            "*",
            "`",
            "\\",
            "/",
        ] {
            assert!(kinds(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(values("a b"), ["a", "b", "eos"]);
        assert_eq!(values("andeverything"), ["andeverything", "eos"]);
        assert_eq!(values("or orange "), ["or", "orange", "eos"]);
        assert_eq!(values("nullify"), ["nullify", "eos"]);
        assert_eq!(values("null"), ["null", "eos"]);
        assert_eq!(
            values(">= <= < > != ="),
            [">=", "<=", "<", ">", "!=", "=", "eos"]
        );
        assert_eq!(
            values("-4 +5.4 -3.2 0.4"),
            ["-4", "+5.4", "-3.2", "0.4", "eos"]
        );
        assert_eq!(values("\"a\" \"b\""), ["\"a\"", "\"b\"", "eos"]);
        assert_eq!(values("a,b "), ["a", ",", "b", "eos"]);
        assert_eq!(values("message.event"), ["message", ".", "event", "eos"]);
        assert_eq!(values("\"cat\n dog\""), ["\"cat\n dog\"", "eos"]);
        assert_eq!(values("'single'"), ["'single'", "eos"]);
    }

    #[test]
    fn observed_quirks() {
        // `!=` needs a terminator after it.
        assert!(kinds("properties.x!=\"a\"").is_err());
        // `>=5` is `>` then `=`.
        assert_eq!(values("x >=5"), ["x", ">", "=", "5", "eos"]);
        // A keyword followed by `(` is an identifier.
        assert_eq!(values("and("), ["and", "(", "eos"]);
        // An identifier must not be followed by `>`.
        assert!(kinds("properties.price>10").is_err());
        assert_eq!(values("type=\"track\""), ["type", "=", "\"track\"", "eos"]);
        // Escapes in identifiers, including as the first character.
        assert_eq!(values("a\\ b"), ["a b", "eos"]);
        assert_eq!(values("\\x"), ["x", "eos"]);
        // Carriage returns are invalid.
        assert!(kinds("type = \"track\"\r\n").is_err());
        // A keyword cut short by the end of input loses what it read.
        assert_eq!(values("an"), ["a", "eos"]);
        assert_eq!(values("nul"), ["n", "eos"]);
        // A closing quote not followed by a terminator starts the next string.
        assert_eq!(values("\"a\"b\""), ["\"a\"", "\"b\"", "eos"]);
        assert!(kinds("type=\"track\"and").is_err());
        // `5.` before a non-terminator is a number token `5.`.
        assert_eq!(values("5.a"), ["5.", "a", "eos"]);
        assert_eq!(values("!contains"), ["!", "contains", "eos"]);
    }
}
