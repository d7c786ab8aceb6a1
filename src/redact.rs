//! What hubsync may say about a failure: error text for logs, `last_error` columns and API
//! answers that names what went wrong without quoting record values, URLs or secrets.

/// A JSON error as its category, line and column, without the text serde quotes (which can
/// be a record's value).
pub fn json_error(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let category = match err.classify() {
        Category::Io => "i/o error",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected shape or type",
        Category::Eof => "unexpected end",
    };
    format!("invalid JSON: {category} at line {} column {}", err.line(), err.column())
}

/// An HTTP client error without the request's URL, whose query can hold record values
/// (Salesforce SOQL) and whose path can hold record ids.
pub fn http_error(err: reqwest::Error) -> reqwest::Error {
    err.without_url()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_error_names_where_and_what_but_not_the_value() {
        let err = serde_json::from_str::<Vec<u64>>(r#"["canary+pii@example.invalid"]"#)
            .expect_err("a string is not a number");
        assert!(err.to_string().contains("canary"), "serde itself quotes the value: {err}");
        let text = json_error(&err);
        assert_eq!(text, "invalid JSON: unexpected shape or type at line 1 column 29");
    }
}
