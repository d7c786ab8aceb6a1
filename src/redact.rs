//! What hubsync may say about a failure: error text for logs, `last_error` columns and API
//! answers that names what went wrong without quoting record values, URLs or secrets.

/// A JSON error as its category, line and column, without the text serde quotes (which can
/// be a record's value). Syntax errors keep serde's own words (`recursion limit exceeded`,
/// `expected value`): they are fixed texts that quote nothing of the input.
pub fn json_error(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let category = match err.classify() {
        Category::Syntax | Category::Eof => return format!("invalid JSON: {err}"),
        Category::Io => "i/o error",
        Category::Data => "unexpected shape or type",
    };
    format!("invalid JSON: {category} at line {} column {}", err.line(), err.column())
}

/// An HTTP client error without the request's URL, whose query can hold record values
/// (Salesforce SOQL) and whose path can hold record ids.
pub fn http_error(err: reqwest::Error) -> reqwest::Error {
    err.without_url()
}

/// `text` with every occurrence of one of `values` (ASCII case ignored) replaced by
/// `[value]`: an API's message about a record it refused keeps its wording, without the
/// record's values it quotes. Values under three characters are left (too common to be
/// personal, and they would scramble the words around them).
pub fn without_values<'v>(text: &str, values: impl IntoIterator<Item = &'v str>) -> String {
    let mut values: Vec<&str> =
        values.into_iter().map(str::trim).filter(|v| v.chars().count() >= 3).collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut text = text.to_string();
    for value in values {
        text = replace_ignoring_ascii_case(&text, value, "[value]");
    }
    text
}

fn replace_ignoring_ascii_case(text: &str, needle: &str, with: &str) -> String {
    let (haystack, needle) = (text.to_ascii_lowercase(), needle.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = haystack[from..].find(&needle) {
        out.push_str(&text[from..from + found]);
        out.push_str(with);
        from += found + needle.len();
    }
    out.push_str(&text[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_message_keeps_its_words_but_not_the_values_it_quotes() {
        let message = "Email: invalid email address: Canary+PII@example.invalid (Ann Quill)";
        let values = ["canary+pii@example.invalid", "Ann Quill", "US"];
        assert_eq!(
            without_values(message, values),
            "Email: invalid email address: [value] ([value])"
        );
    }

    #[test]
    fn a_json_error_names_where_and_what_but_not_the_value() {
        let err = serde_json::from_str::<Vec<u64>>(r#"["canary+pii@example.invalid"]"#)
            .expect_err("a string is not a number");
        assert!(err.to_string().contains("canary"), "serde itself quotes the value: {err}");
        let text = json_error(&err);
        assert_eq!(text, "invalid JSON: unexpected shape or type at line 1 column 29");
    }
}
