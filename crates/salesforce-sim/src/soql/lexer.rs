//! Splitting SOQL text into tokens: names, quoted strings, numbers, date and datetime
//! literals, punctuation and comparison operators.

use super::super::error::SfError;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name or keyword, as written.
    Word(String),
    Str(String),
    Number(f64),
    /// An unquoted ISO 8601 date (`2024-05-01`) or datetime (`2024-05-01T00:00:00Z`).
    Temporal(String),
    Comma,
    Open,
    Close,
    Op(&'static str),
    /// A bind variable (`:name`), which only Apex has.
    Bind(String),
}

impl Token {
    pub fn describe(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Str(s) => format!("'{s}'"),
            Token::Number(n) => n.to_string(),
            Token::Temporal(t) => t.clone(),
            Token::Comma => ",".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Op(op) => (*op).into(),
            Token::Bind(name) => format!(":{name}"),
        }
    }

    /// Whether this is the keyword `word` (keywords are case-insensitive).
    pub fn is(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

pub fn tokenize(text: &str) -> Result<Vec<Token>, SfError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let (token, next) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ',' => (Token::Comma, i + 1),
            '(' => (Token::Open, i + 1),
            ')' => (Token::Close, i + 1),
            '\'' => string(&chars, i + 1)?,
            ':' => {
                let end = scan(&chars, i + 1, |c| c.is_alphanumeric() || c == '_');
                (Token::Bind(chars[i + 1..end].iter().collect()), end)
            }
            '=' | '!' | '<' | '>' => operator(&chars, i)?,
            c if c.is_ascii_digit() || (c == '-' && next_is_digit(&chars, i)) => number(&chars, i),
            c if c.is_alphabetic() || c == '_' => {
                let end = scan(&chars, i, |c| c.is_alphanumeric() || c == '_' || c == '.');
                (Token::Word(chars[i..end].iter().collect()), end)
            }
            other => return Err(SfError::malformed_query(format!("unexpected token: {other}"))),
        };
        tokens.push(token);
        i = next;
    }
    Ok(tokens)
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut end = from;
    while end < chars.len() && keep(chars[end]) {
        end += 1;
    }
    end
}

fn string(chars: &[char], mut i: usize) -> Result<(Token, usize), SfError> {
    let mut out = String::new();
    while i < chars.len() {
        match chars[i] {
            '\'' => return Ok((Token::Str(out), i + 1)),
            '\\' => {
                let escaped = chars.get(i + 1).copied().unwrap_or('\\');
                // LIKE wildcards keep their backslash so the matcher sees them escaped.
                if escaped == '%' || escaped == '_' {
                    out.push('\\');
                }
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(SfError::malformed_query("unterminated string literal"))
}

fn operator(chars: &[char], i: usize) -> Result<(Token, usize), SfError> {
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    let op = match two.as_str() {
        "!=" => "!=",
        "<>" => "<>",
        "<=" => "<=",
        ">=" => ">=",
        _ => match chars[i] {
            '=' => "=",
            '<' => "<",
            '>' => ">",
            other => return Err(SfError::malformed_query(format!("unexpected token: {other}"))),
        },
    };
    Ok((Token::Op(op), i + op.len()))
}

fn number(chars: &[char], i: usize) -> (Token, usize) {
    let looks_temporal = chars.len() >= i + 10
        && chars[i..i + 4].iter().all(char::is_ascii_digit)
        && chars[i + 4] == '-';
    if looks_temporal {
        let end = scan(chars, i, |c| c.is_ascii_digit() || "TZ:+-.".contains(c));
        return (Token::Temporal(chars[i..end].iter().collect()), end);
    }
    let end = scan(chars, i + 1, |c| c.is_ascii_digit() || c == '.');
    let text: String = chars[i..end].iter().collect();
    (Token::Number(text.parse().unwrap_or(f64::NAN)), end)
}
