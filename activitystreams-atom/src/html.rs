//! Plain text from HTML content, for display and search.

/// Converts HTML to plain text: tags dropped, `<br>` and the ends of `p`,
/// `div`, `li` and headings become line breaks, character references
/// decoded, runs of blank lines collapsed.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        let (before, after) = rest.split_at(i);
        out.push_str(before);
        if after.starts_with('<') {
            let end = after.find('>').map_or(after.len(), |e| e + 1);
            let tag = after
                .get(1..end.saturating_sub(1))
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let name = tag
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("");
            let closing = tag.starts_with('/');
            if name == "br"
                || (closing
                    && matches!(
                        name,
                        "p" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre"
                    ))
            {
                out.push('\n');
            }
            rest = after.get(end..).unwrap_or_default();
        } else {
            let end = after.find(';').filter(|&e| e <= 10);
            match end.and_then(|e| decode_entity(after.get(1..e)?).map(|c| (c, e))) {
                Some((c, e)) => {
                    out.push(c);
                    rest = after.get(e + 1..).unwrap_or_default();
                }
                None => {
                    out.push('&');
                    rest = after.get(1..).unwrap_or_default();
                }
            }
        }
    }
    out.push_str(rest);
    // Collapse three or more newlines, trim the ends.
    let mut collapsed = String::with_capacity(out.len());
    let mut newlines = 0;
    for c in out.trim().chars() {
        if c == '\n' {
            newlines += 1;
            if newlines > 2 {
                continue;
            }
        } else {
            newlines = 0;
        }
        collapsed.push(c);
    }
    collapsed
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn text() {
        assert_eq!(
            to_text("<p>Hello <b>world</b> &amp; you</p><p>next&#33;</p>"),
            "Hello world & you\nnext!"
        );
        assert_eq!(to_text("a<br/>b<br>c"), "a\nb\nc");
        assert_eq!(to_text("AT&T &bogus; &#x1F600;"), "AT&T &bogus; \u{1F600}");
        assert_eq!(to_text("<a href=\"x\">@<span>lain</span></a> hey"), "@lain hey");
        assert_eq!(to_text("unclosed <tag"), "unclosed");
    }
}
