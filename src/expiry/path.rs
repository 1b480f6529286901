//! The `--expires-from` PATH: a JSON Pointer (RFC 6901) or the dotted
//! `$.a.b[0]` form, both parsed into the same list of tokens.

/// The object keys and array indices from the document's root to the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(pub Vec<String>);

/// `/a/b` (with `~0` for `~` and `~1` for `/`) or `$.a.b`, `$.a[0].b`,
/// `$.a.0.b`, `$['a.b']`; an empty or malformed PATH is refused.
pub fn parse_path(text: &str) -> Result<JsonPath, String> {
    if let Some(pointer) = text.strip_prefix('/') {
        return pointer.split('/').map(unescape).collect::<Result<_, _>>().map(JsonPath);
    }
    let Some(mut rest) = text.strip_prefix('$') else {
        return Err("give a JSON Pointer such as /Credentials/Expiration or a dotted \
                    path such as $.Credentials.Expiration"
            .into());
    };
    let mut tokens = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err("an empty name after '.'".into());
            }
            tokens.push(after[..end].to_string());
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let (token, after) = bracketed(after)?;
            tokens.push(token);
            rest = after;
        } else {
            return Err(format!("expected '.' or '[' at '{rest}'"));
        }
    }
    Ok(JsonPath(tokens))
}

/// `0]…` or `'name']…` / `"name"]…`: the token and what follows `]`.
fn bracketed(text: &str) -> Result<(String, &str), String> {
    if let Some(quote) = text.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let inner = &text[1..];
        let end = inner.find(quote).ok_or("an unterminated quoted name")?;
        let after = inner[end + 1..].strip_prefix(']').ok_or("expected ']' after a quoted name")?;
        return Ok((inner[..end].to_string(), after));
    }
    let end = text.find(']').ok_or("an unterminated '['")?;
    let index = &text[..end];
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'[{index}]' is not an array index"));
    }
    Ok((index.to_string(), &text[end + 1..]))
}

fn unescape(token: &str) -> Result<String, String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match (c, c == '~') {
            (_, false) => out.push(c),
            _ => match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return Err("'~' must be followed by 0 or 1 in a JSON Pointer".into()),
            },
        }
    }
    Ok(out)
}

impl JsonPath {
    /// Whether `token` names array element `index` (canonical digits only).
    pub fn is_index(token: &str, index: usize) -> bool {
        token == index.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        parse_path(text).unwrap().0
    }

    #[test]
    fn pointer_and_dotted_forms_agree() {
        let want = ["Credentials", "Expiration"];
        assert_eq!(tokens("/Credentials/Expiration"), want);
        assert_eq!(tokens("$.Credentials.Expiration"), want);
        assert_eq!(tokens("$['Credentials'][\"Expiration\"]"), want);
        assert_eq!(tokens("$.a[0].b"), ["a", "0", "b"]);
        assert_eq!(tokens("$.a.0.b"), ["a", "0", "b"]);
        assert_eq!(tokens("/a/0/b"), ["a", "0", "b"]);
        assert_eq!(tokens("$['a.b']"), ["a.b"]);
        assert!(tokens("$").is_empty());
    }

    #[test]
    fn pointer_escapes() {
        assert_eq!(tokens("/a~1b/c~0d/~01"), ["a/b", "c~d", "~1"]);
        assert_eq!(tokens("/"), [""]);
        assert!(parse_path("/a~2").is_err());
        assert!(parse_path("/a~").is_err());
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["", "Credentials.Expiration", "$.", "$..a", "$a", "$[", "$[x]", "$['a'", "$[]"]
        {
            assert!(parse_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn indices_are_canonical() {
        assert!(JsonPath::is_index("0", 0) && JsonPath::is_index("12", 12));
        assert!(!JsonPath::is_index("01", 1) && !JsonPath::is_index("+1", 1));
    }
}
