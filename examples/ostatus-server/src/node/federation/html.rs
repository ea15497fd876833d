//! Post text: mentions and hashtags found, linked, and escaped as HTML.

use super::*;

/// Escapes text for HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `@user@host` mentions in a text, in order, without repeats.
pub(crate) fn find_mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace()) {
        let w = word.trim_end_matches(['.', ',', ':', ';', '!', '?', ')']);
        let Some(rest) = w.strip_prefix('@') else { continue };
        let Some((user, host)) = rest.split_once('@') else {
            continue;
        };
        let ok = |s: &str, extra: &[char]| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c) || extra.contains(&c))
        };
        if ok(user, &[]) && ok(host, &[':']) {
            let m = format!("{user}@{host}");
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The hashtag a word starts with, if any: `#` and then letters, digits
/// and `_`, with at least one letter (so `#1` is no tag), lower-cased as
/// Mastodon stored them. Trailing punctuation is not part of it.
pub(super) fn hashtag_of(word: &str) -> Option<(String, usize)> {
    let rest = word.strip_prefix('#')?;
    let len: usize = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .map(|(_, c)| c.len_utf8())
        .sum();
    let tag = &rest[..len];
    (tag.chars().any(char::is_alphabetic) && tag.chars().count() <= 100)
        .then(|| (tag.to_lowercase(), len + 1))
}

/// The hashtags of a text, lower-cased, each once, in order.
pub(crate) fn find_hashtags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(char::is_whitespace) {
        if let Some((tag, _)) = hashtag_of(word.trim_start_matches('('))
            && !out.contains(&tag)
        {
            out.push(tag);
        }
    }
    out
}

/// Plain text from a form as HTML: paragraphs, line breaks, mentions
/// linked to the accounts' profile pages (`h-card` markup as Mastodon), and
/// hashtags linked to this node's tag pages (`base` is its base URL).
pub(super) fn text_to_html(text: &str, mentions: &[(String, Account)], base: &str) -> String {
    let mut html = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        let mut first_line = true;
        for line in para.lines() {
            if !first_line {
                html.push_str("<br />");
            }
            first_line = false;
            let mut first_word = true;
            for word in line.split(' ') {
                if !first_word {
                    html.push(' ');
                }
                first_word = false;
                let bare = word.trim_end_matches(['.', ',', ':', ';', '!', '?', ')']);
                let found = bare
                    .strip_prefix('@')
                    .and_then(|m| mentions.iter().find(|(acct, _)| acct == m));
                match found {
                    Some((acct, a)) => {
                        let user = acct.split('@').next().unwrap_or(acct);
                        let href = a.profile_url.as_deref().unwrap_or(&a.uri);
                        html.push_str(&format!(
                            "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>{}",
                            escape(href),
                            escape(user),
                            escape(&word[bare.len()..])
                        ));
                    }
                    None => match hashtag_of(word) {
                        Some((tag, len)) => html.push_str(&format!(
                            "<a href=\"{}tags/{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>{}",
                            escape(base),
                            escape(&tag),
                            escape(&word[1..len]),
                            escape(&word[len..])
                        )),
                        None => html.push_str(&escape(word)),
                    },
                }
            }
        }
        html.push_str("</p>");
    }
    html
}

/// The HTML content of an entry (text content escaped).
pub(super) fn entry_html(t: Option<&Text>) -> String {
    match t {
        // Out-of-line, Base64 and XML media content have no text to show.
        Some(t) if t.type_ == TextType::Text => format!("<p>{}</p>", escape(&t.plain_text())),
        Some(t) => t.value.clone(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::federation::inbound::entry_tags;

    #[test]
    fn mentions_and_html() {
        assert_eq!(
            find_mentions("hi @bob@b.example:8080, and @bob@b.example:8080! @x @y@"),
            ["bob@b.example:8080"]
        );
        let bob = Account {
            uri: "https://b.example/users/bob".into(),
            profile_url: Some("https://b.example/users/bob".into()),
            ..Account::default()
        };
        assert_eq!(
            text_to_html(
                "hi @bob@b.example, <b>\n\nbye",
                &[("bob@b.example".into(), bob)],
                "https://a.example/"
            ),
            "<p>hi <span class=\"h-card\"><a href=\"https://b.example/users/bob\" class=\"u-url mention\">@<span>bob</span></a></span>, &lt;b&gt;</p><p>bye</p>"
        );
    }

    /// Issue 18 item 3: hashtags as Mastodon read them: letters, digits
    /// and `_`, at least one letter, lower-cased, trailing punctuation out,
    /// linked to the tag page.
    #[test]
    fn hashtags_are_found_lower_cased_and_linked() {
        assert_eq!(
            find_hashtags("#Rust and #rust, (#Fédiverse) #1 #ok_2! a#b #"),
            ["rust", "fédiverse", "ok_2"]
        );
        assert_eq!(
            text_to_html("I like #Rust.", &[], "https://a.example/"),
            "<p>I like <a href=\"https://a.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a>.</p>"
        );
        let mut e = Entry::default();
        for t in ["Rust", "#Fediverse", "nsfw", "not a tag", "rust"] {
            e.categories.push(Category {
                term: t.into(),
                ..Category::default()
            });
        }
        assert_eq!(entry_tags(&e), ["rust", "fediverse"]);
    }
}
