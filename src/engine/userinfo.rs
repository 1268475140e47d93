//! What of a URL an error may show.

/// `input` without anything that may be user info (`user:pass@`), for a URL
/// that failed to parse, or parsed without a host, and is shown in a
/// message or `err.url`. A password may hold `/` or `@` and so break the
/// parse, so this cuts at the last `@` before any query or fragment: it may
/// hide part of a path too, never a password. The cut starts after `//`,
/// or at the very start when there is none: `user:pass@host` written
/// without a scheme parses as the scheme `user:` and an opaque path.
pub fn without_userinfo(input: &str) -> std::borrow::Cow<'_, str> {
    let start = input.find("//").map_or(0, |i| i + 2);
    let rest = &input[start..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}{}", &input[..start], &rest[at + 1..]).into(),
        None => input.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_userinfo;

    #[test]
    fn user_info_is_cut_after_the_scheme_or_from_the_start() {
        for (input, shown) in [
            ("http://u:p@/x", "http:///x"),
            ("http://u:p@[bad/p@q", "http://q"),
            ("http://[bad/p?q=a@b", "http://[bad/p?q=a@b"),
            ("u:secret@127.0.0.1:1/p", "127.0.0.1:1/p"),
            ("admin:hunter2@api.test/x?q=a@b", "api.test/x?q=a@b"),
            ("mailto:user@x.test", "x.test"),
            ("no at sign", "no at sign"),
        ] {
            assert_eq!(without_userinfo(input), shown, "{input}");
        }
    }
}
