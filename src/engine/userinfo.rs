//! URLs shown in errors without the user info they may carry.

/// `input` without anything that may be user info (`user:pass@`), for a URL
/// that failed to parse and is shown in a message or `err.url`. A password
/// may hold `/` or `@` and so break the parse, so this cuts at the last `@`
/// before any query or fragment: it may hide part of a path too, never a
/// password. A URL that parsed is shown as its `href`, which has none.
pub fn without_userinfo(input: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = input.find("//").map(|i| i + 2) else {
        return input.into();
    };
    let rest = &input[start..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}{}", &input[..start], &rest[at + 1..]).into(),
        None => input.into(),
    }
}
