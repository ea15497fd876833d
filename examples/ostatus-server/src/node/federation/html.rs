//! Post text: mentions and hashtags found, linked, and escaped as HTML.
//! The HTML is written with maud's `html!`, which escapes every value it
//! is given (see `node::pages`).

use maud::{Markup, PreEscaped, html};

use super::*;

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

/// A link a peer gave, made safe to follow: only `http(s)` URLs are
/// links; anything else (`javascript:`, `data:`, `tag:` ids) becomes `#`.
/// Escaping keeps a value inside its attribute, but cannot make a
/// `javascript:` URL harmless.
pub(crate) fn web_href(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.to_string(),
        _ => "#".to_owned(),
    }
}

/// One word of a post: a mention of a known account linked to its
/// profile (`h-card` markup, as Mastodon wrote it), a hashtag linked to
/// this node's tag page, or the word itself. `account` finds the account
/// a mention (without its `@`) names.
fn word_html<'a>(word: &str, account: impl Fn(&str) -> Option<&'a Account>, base: &str) -> Markup {
    let bare = word.trim_end_matches(['.', ',', ':', ';', '!', '?', ')']);
    if let Some(m) = bare.strip_prefix('@')
        && let Some(a) = account(m)
    {
        let user = m.split('@').next().unwrap_or(m);
        let href = web_href(a.profile_url.as_deref().unwrap_or(&a.uri));
        return html! {
            span.h-card { a href=(href) class="u-url mention" { "@" span { (user) } } }
            (word.get(bare.len()..).unwrap_or_default())
        };
    }
    match hashtag_of(word) {
        Some((tag, len)) => html! {
            a href={ (base) "tags/" (tag) } class="mention hashtag" rel="tag" {
                "#" span { (word.get(1..len).unwrap_or_default()) }
            }
            (word.get(len..).unwrap_or_default())
        },
        None => html! { (word) },
    }
}

/// A peer's post, reduced to text, as HTML: paragraphs and line breaks,
/// each `@user` or `@user@host` that names one of the accounts the entry
/// mentions linked to its profile, and hashtags linked to this node's tag
/// pages (`base` is its base URL). Nothing of the peer's markup survives.
pub(crate) fn remote_text_html(text: &str, mentioned: &[Account], base: &str) -> Markup {
    let account = |m: &str| {
        mentioned.iter().find(|a| {
            if m.contains('@') {
                a.acct.eq_ignore_ascii_case(m)
            } else {
                a.acct
                    .split('@')
                    .next()
                    .is_some_and(|user| user.eq_ignore_ascii_case(m))
            }
        })
    };
    paragraphs(text, account, base, "<br>")
}

/// `text` as paragraphs (split at blank lines) of lines (joined by `br`),
/// each word through [`word_html`].
fn paragraphs<'a>(text: &str, account: impl Fn(&str) -> Option<&'a Account>, base: &str, br: &str) -> Markup {
    html! {
        @for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            p {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { (PreEscaped(br)) }
                    @for (j, word) in line.split(' ').enumerate() {
                        @if j > 0 { " " }
                        (word_html(word, &account, base))
                    }
                }
            }
        }
    }
}

/// Plain text from a form as HTML: paragraphs, line breaks, mentions
/// linked to the accounts' profile pages, and hashtags linked to this
/// node's tag pages (`base` is its base URL).
pub(super) fn text_to_html(text: &str, mentions: &[(String, Account)], base: &str) -> String {
    let account = |m: &str| mentions.iter().find(|(acct, _)| acct == m).map(|(_, a)| a);
    // `<br />` as Mastodon wrote it, for peers that compare.
    paragraphs(text, account, base, "<br />").into_string()
}

/// The HTML content of an entry, as stored: text content escaped into a
/// paragraph; HTML content kept as the peer wrote it (it is shown only as
/// text, see `node::pages`); out-of-line, Base64 and XML media content have
/// no text to show.
pub(super) fn entry_html(t: Option<&Text>) -> String {
    match t {
        Some(t) if t.type_ == TextType::Text => html! { p { (t.plain_text()) } }.into_string(),
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
