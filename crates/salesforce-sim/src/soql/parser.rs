//! The SOQL subset a sync daemon needs, parsed into a query: `SELECT fields FROM object
//! [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n]`. Anything else is refused by name.

use super::super::error::SfError;
use super::lexer::{Token, tokenize};

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `SELECT COUNT() FROM …`: only the number of matching rows is answered.
    pub count: bool,
    pub fields: Vec<String>,
    pub object: String,
    pub filter: Option<Cond>,
    pub order: Vec<OrderKey>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Compare { field: String, op: Op, value: Literal },
    In { field: String, values: Vec<Literal>, negated: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    /// An unquoted date or datetime, as written.
    Temporal(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub field: String,
    pub descending: bool,
    /// `NULLS FIRST` (true) or `NULLS LAST` (false), when the query says.
    pub nulls_first: Option<bool>,
}

const UNSUPPORTED_CLAUSES: &[&str] =
    &["GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF", "UPDATE", "ALL"];

fn unsupported(what: &str) -> SfError {
    SfError::malformed_query(format!("{what} is not supported by the simulator"))
}

fn unexpected(token: Option<&Token>) -> SfError {
    match token {
        Some(token) => SfError::malformed_query(format!("unexpected token: {}", token.describe())),
        None => SfError::malformed_query("unexpected end of query"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

/// Parses one SOQL statement.
pub fn parse(text: &str) -> Result<Query, SfError> {
    let mut parser = Parser { tokens: tokenize(text)?, at: 0 };
    let query = parser.query()?;
    match parser.peek() {
        None => Ok(query),
        Some(token) if UNSUPPORTED_CLAUSES.iter().any(|w| token.is(w)) => {
            Err(unsupported(&format!("the {} clause", token.describe().to_uppercase())))
        }
        other => Err(unexpected(other)),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat(&mut self, word: &str) -> bool {
        let found = self.peek().is_some_and(|t| t.is(word));
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, word: &str) -> Result<(), SfError> {
        if self.eat(word) { Ok(()) } else { Err(unexpected(self.peek())) }
    }

    fn query(&mut self) -> Result<Query, SfError> {
        self.expect("SELECT")?;
        let count = self.count_rows();
        let fields = if count { Vec::new() } else { self.field_list()? };
        self.expect("FROM")?;
        let object = self.name()?;
        self.refuse_object_alias(&object)?;
        if let Some(path) = fields.iter().find(|f| f.contains('.')) {
            return Err(unsupported(&format!("the relationship field {path}")));
        }
        let filter = if self.eat("WHERE") { Some(self.condition()?) } else { None };
        let order = if self.eat("ORDER") { self.order_by()? } else { Vec::new() };
        let limit = if self.eat("LIMIT") { Some(self.count()?) } else { None };
        let offset = if self.eat("OFFSET") { Some(self.count()?) } else { None };
        Ok(Query { count, fields, object, filter, order, limit, offset })
    }

    /// Eats `COUNT()` (no argument: the row count), if that is what the select list is.
    fn count_rows(&mut self) -> bool {
        let found = self.peek().is_some_and(|t| t.is("COUNT"))
            && matches!(self.tokens.get(self.at + 1), Some(Token::Open))
            && matches!(self.tokens.get(self.at + 2), Some(Token::Close));
        if found {
            self.at += 3;
        }
        found
    }

    /// A field or object name; relationship paths (`Account.Name`) are not supported.
    fn name(&mut self) -> Result<String, SfError> {
        match self.path()? {
            word if word.contains('.') => {
                Err(unsupported(&format!("the relationship field {word}")))
            }
            word => Ok(word),
        }
    }

    /// A name or a dotted path (`Account.Name`, `c.LastName`), not a keyword.
    fn path(&mut self) -> Result<String, SfError> {
        match self.next() {
            Some(Token::Word(word)) if is_reserved(&word) => {
                Err(unexpected(Some(&Token::Word(word))))
            }
            Some(Token::Word(word)) => Ok(word),
            other => Err(unexpected(other.as_ref())),
        }
    }

    /// The select list. Paths are kept as written until the FROM clause says whether their
    /// first part is an object alias.
    fn field_list(&mut self) -> Result<Vec<String>, SfError> {
        let mut fields = Vec::new();
        loop {
            if self.peek().is_some_and(|t| t.is("TYPEOF")) {
                return Err(unsupported("TYPEOF"));
            }
            if matches!(self.tokens.get(self.at + 1), Some(Token::Open)) {
                let function = self.peek().map(Token::describe).unwrap_or_default();
                return Err(unsupported(&format!("{}() in SELECT", function.to_uppercase())));
            }
            if matches!(self.peek(), Some(Token::Open)) {
                return Err(unsupported("a subquery"));
            }
            let field = self.path()?;
            self.refuse_field_alias(&field)?;
            fields.push(field);
            if !matches!(self.peek(), Some(Token::Comma)) {
                return Ok(fields);
            }
            self.at += 1;
        }
    }

    /// `SELECT Name n FROM …`: SOQL aliases only aggregate expressions, so a plain field
    /// with an alias is malformed SOQL, as Salesforce answers it.
    fn refuse_field_alias(&self, field: &str) -> Result<(), SfError> {
        let Some(Token::Word(alias)) = self.peek() else { return Ok(()) };
        let then = self.tokens.get(self.at + 1);
        let ends_item = matches!(then, Some(Token::Comma)) || then.is_some_and(|t| t.is("FROM"));
        if is_keyword(alias) || !ends_item {
            return Ok(());
        }
        Err(SfError::malformed_query(format!(
            "the field alias {alias} of {field}: only aggregate expressions use field aliasing"
        )))
    }

    /// `FROM Contact c`: valid SOQL, but the simulator does not resolve object aliases.
    fn refuse_object_alias(&self, object: &str) -> Result<(), SfError> {
        match self.peek() {
            Some(Token::Word(alias)) if !is_keyword(alias) => {
                Err(unsupported(&format!("the object alias {alias} (FROM {object} {alias})")))
            }
            _ => Ok(()),
        }
    }

    fn count(&mut self) -> Result<usize, SfError> {
        match self.next() {
            Some(Token::Number(n)) if n >= 0.0 && n.fract() == 0.0 => Ok(n as usize),
            Some(Token::Bind(name)) => Err(unsupported(&format!("the bind variable :{name}"))),
            other => Err(unexpected(other.as_ref())),
        }
    }

    fn order_by(&mut self) -> Result<Vec<OrderKey>, SfError> {
        self.expect("BY")?;
        let mut keys = Vec::new();
        loop {
            let field = self.name()?;
            let descending = self.eat("DESC");
            if !descending {
                self.eat("ASC");
            }
            let mut nulls_first = None;
            if self.eat("NULLS") {
                nulls_first = Some(if self.eat("FIRST") {
                    true
                } else {
                    self.expect("LAST").map(|_| false)?
                });
            }
            keys.push(OrderKey { field, descending, nulls_first });
            if !matches!(self.peek(), Some(Token::Comma)) {
                return Ok(keys);
            }
            self.at += 1;
        }
    }

    /// Conditions joined by one of AND or OR; SOQL needs parentheses to mix them.
    fn condition(&mut self) -> Result<Cond, SfError> {
        let first = self.term()?;
        let joiner = match self.peek() {
            Some(t) if t.is("AND") => "AND",
            Some(t) if t.is("OR") => "OR",
            _ => return Ok(first),
        };
        let mut parts = vec![first];
        while self.eat(joiner) {
            parts.push(self.term()?);
        }
        let other = if joiner == "AND" { "OR" } else { "AND" };
        if self.peek().is_some_and(|t| t.is(other)) {
            return Err(unexpected(self.peek()));
        }
        Ok(if joiner == "AND" { Cond::And(parts) } else { Cond::Or(parts) })
    }

    fn term(&mut self) -> Result<Cond, SfError> {
        if self.eat("NOT") {
            return Ok(Cond::Not(Box::new(self.term()?)));
        }
        if matches!(self.peek(), Some(Token::Open)) {
            self.at += 1;
            let inner = self.condition()?;
            return match self.next() {
                Some(Token::Close) => Ok(inner),
                other => Err(unexpected(other.as_ref())),
            };
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Cond, SfError> {
        let field = self.name()?;
        if self.eat("NOT") {
            self.expect("IN")?;
            return Ok(Cond::In { field, values: self.list()?, negated: true });
        }
        if self.eat("IN") {
            return Ok(Cond::In { field, values: self.list()?, negated: false });
        }
        if self.eat("LIKE") {
            return Ok(Cond::Compare { field, op: Op::Like, value: self.literal()? });
        }
        for word in ["INCLUDES", "EXCLUDES"] {
            if self.peek().is_some_and(|t| t.is(word)) {
                return Err(unsupported(&format!("the {word} operator")));
            }
        }
        let op = match self.next() {
            Some(Token::Op(op)) => comparison(op),
            other => return Err(unexpected(other.as_ref())),
        };
        Ok(Cond::Compare { field, op, value: self.literal()? })
    }

    fn list(&mut self) -> Result<Vec<Literal>, SfError> {
        match self.next() {
            Some(Token::Open) => {}
            other => return Err(unexpected(other.as_ref())),
        }
        if self.peek().is_some_and(|t| t.is("SELECT")) {
            return Err(unsupported("a semi-join subquery in IN"));
        }
        let mut values = vec![self.literal()?];
        loop {
            match self.next() {
                Some(Token::Comma) => values.push(self.literal()?),
                Some(Token::Close) => return Ok(values),
                other => return Err(unexpected(other.as_ref())),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, SfError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Literal::Str(s)),
            Some(Token::Number(n)) if n.is_finite() => Ok(Literal::Number(n)),
            Some(Token::Temporal(t)) => Ok(Literal::Temporal(t)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Literal::Null),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Some(Token::Word(w)) if is_date_literal(&w) => {
                Err(unsupported(&format!("the date literal {}", w.to_uppercase())))
            }
            Some(Token::Bind(name)) => Err(unsupported(&format!("the bind variable :{name}"))),
            other => Err(unexpected(other.as_ref())),
        }
    }
}

fn comparison(op: &str) -> Op {
    match op {
        "=" => Op::Eq,
        "!=" | "<>" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        _ => Op::Ge,
    }
}

fn is_reserved(word: &str) -> bool {
    ["SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
}

/// SOQL's reserved words that the parser does not otherwise name.
const OTHER_RESERVED: &[&str] =
    &["ASC", "DESC", "NULLS", "FIRST", "LAST", "LIKE", "INCLUDES", "EXCLUDES", "NULL"];

/// A keyword, supported or not: never an alias.
fn is_keyword(word: &str) -> bool {
    let listed = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    is_reserved(word) || listed(UNSUPPORTED_CLAUSES) || listed(OTHER_RESERVED)
}

/// Relative date literals (`TODAY`, `LAST_N_DAYS:7`, …): words in upper case with `_`.
fn is_date_literal(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    ["TODAY", "YESTERDAY", "TOMORROW"].contains(&upper.as_str())
        || ["LAST_", "NEXT_", "THIS_"].iter().any(|p| upper.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_query_parses_into_its_parts() {
        let q = parse("select Id, Name from Contact where (A = 'x' or B != null) and C in (1, 2) order by LastName desc nulls first, Id limit 5").unwrap();
        assert_eq!(q.fields, ["Id", "Name"]);
        assert_eq!(q.object, "Contact");
        assert_eq!(q.order.len(), 2);
        assert!(q.order[0].descending && q.order[0].nulls_first == Some(true));
        assert!(!q.order[1].descending && q.order[1].nulls_first.is_none());
        assert_eq!(q.limit, Some(5));
        assert!(matches!(q.filter, Some(Cond::And(ref parts)) if parts.len() == 2));
    }

    #[test]
    fn count_without_an_argument_asks_for_the_row_count() {
        let q = parse("SELECT COUNT() FROM Contact WHERE LastName != null").unwrap();
        assert!(q.count && q.fields.is_empty() && q.filter.is_some());
    }

    #[test]
    fn mixing_and_with_or_without_parentheses_is_refused() {
        let err = parse("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3").unwrap_err();
        assert_eq!(err.code, "MALFORMED_QUERY");
    }

    #[test]
    fn unsupported_features_are_named() {
        for (soql, named) in [
            ("SELECT COUNT(Id) FROM Contact", "COUNT()"),
            ("SELECT Account.Name FROM Contact", "Account.Name"),
            ("SELECT Id FROM Contact GROUP BY Id", "GROUP"),
            ("SELECT Id FROM Contact WHERE CreatedDate = TODAY", "TODAY"),
            ("SELECT Id FROM Contact WHERE Id IN (SELECT Id FROM Lead)", "subquery"),
            ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF"),
            ("SELECT c.LastName FROM Contact c", "object alias c"),
            ("SELECT LastName FROM Contact c WHERE LastName = 'x'", "object alias c"),
        ] {
            let err = parse(soql).unwrap_err();
            assert!(err.message.contains(named), "{soql}: {}", err.message);
            assert!(err.message.contains("not supported by the simulator"), "{}", err.message);
        }
    }

    #[test]
    fn a_field_alias_outside_an_aggregate_is_malformed_and_named() {
        for soql in ["SELECT LastName n FROM Contact", "SELECT Id, LastName n, Title FROM Contact"]
        {
            let err = parse(soql).unwrap_err();
            assert_eq!(err.code, "MALFORMED_QUERY");
            assert!(err.message.contains("field alias n of LastName"), "{}", err.message);
            assert!(!err.message.contains("simulator"), "{}", err.message);
        }
    }
}
