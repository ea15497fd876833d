//! Server-rendered HTML: every page works without JavaScript. Remote
//! content is shown as text (its HTML is reduced to text and escaped);
//! local content is HTML this node wrote from escaped text.

use ostatus_activitystreams::Text;

use super::db::{Kind, Status, User, Visibility};
use super::federation::escape;
use super::{Node, NodeError};

/// Who is looking: the logged-in user and the session's CSRF token.
pub type Viewer = Option<(User, String)>;

/// The account URI of the viewer, `None` for nobody logged in: what the
/// visibility rules of [`super::db::Db::may_see`] take.
pub fn viewer_uri(node: &Node, viewer: &Viewer) -> Option<String> {
    viewer.as_ref().map(|(u, _)| node.user_uri(&u.username))
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:0 auto;padding:1rem;color:#222}\
header{display:flex;gap:1rem;align-items:baseline;border-bottom:1px solid #ddd;margin-bottom:1rem}\
header h1{font-size:1.2rem;margin:0}article{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}\
article .meta{font-size:.85rem;color:#666}article form{display:inline}button{cursor:pointer}\
textarea{width:100%;min-height:5rem}.error{background:#fee;border:1px solid #c00;padding:.5rem}\
.shared{font-size:.85rem;color:#666}nav a{margin-right:.6rem}";

/// A whole page.
pub fn layout(node: &Node, title: &str, viewer: &Viewer, body: &str) -> String {
    let nav = match viewer {
        Some((u, csrf)) => format!(
            "<a href=\"/home\">Home</a><a href=\"/users/{name}\">@{name}</a>\
             <form method=\"post\" action=\"/logout\" style=\"display:inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>Log out</button></form>",
            name = escape(&u.username),
            csrf = escape(csrf)
        ),
        None => "<a href=\"/login\">Log in</a>".to_owned(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · {domain}</title><style>{STYLE}</style></head><body>\
         <header><h1><a href=\"/\">{domain}</a></h1><nav>{nav}</nav></header><main>{body}</main></body></html>",
        title = escape(title),
        domain = escape(&node.config().domain),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

fn action(label: &str, path: &str, status_uri: &str, csrf: &str, back: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/actions/{path}\">{}{}{}<button>{label}</button></form> ",
        hidden("csrf", csrf),
        hidden("status", status_uri),
        hidden("back", back)
    )
}

/// Who an account URI is, for display: name, `user@host` and a link.
fn who(node: &Node, uri: &str) -> (String, String, String) {
    match node.known_account(uri) {
        Ok(Some(a)) => {
            let link = match node.local_username(&a.uri) {
                Some(_) => a.uri.clone(),
                None => a.profile_url.clone().unwrap_or_else(|| a.uri.clone()),
            };
            (a.display_name, a.acct, link)
        }
        _ => (uri.to_owned(), uri.to_owned(), uri.to_owned()),
    }
}

/// A time as people read it, in UTC: `29 Nov 2026, 12:41 UTC` (the exact
/// RFC 3339 value stays in the element's `datetime` and `title`). Not
/// relative ("3 minutes ago"): pages are kept as rendered until the
/// database changes, and a relative time would go stale in the cache.
/// A time that does not parse is shown as written.
pub fn human_time(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some(secs) = ostatus_core::time::parse_rfc3339(rfc3339) else {
        return rfc3339.to_owned();
    };
    // `YYYY-MM-DDTHH:MM:SSZ`, normalised to UTC.
    let utc = ostatus_core::time::rfc3339(secs);
    let part = |r: std::ops::Range<usize>| utc.get(r).and_then(|p| p.parse::<usize>().ok());
    let month = part(5..7)
        .and_then(|m| m.checked_sub(1))
        .and_then(|m| MONTHS.get(m));
    match (part(0..4), month, part(8..10), utc.get(11..16)) {
        (Some(y), Some(m), Some(d), Some(hm)) => format!("{d} {m} {y}, {hm} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// The page of a status: its own URL if local, else this node's thread
/// page for it.
fn local_link(s: &Status) -> String {
    if s.local_user.is_some() {
        return s.url.clone().unwrap_or_else(|| s.uri.clone());
    }
    format!(
        "/thread?uri={}",
        percent_encoding::utf8_percent_encode(&s.uri, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// One status, with its actions for a logged-in viewer.
pub fn status(node: &Node, s: &Status, viewer: &Viewer, back: &str) -> Result<String, NodeError> {
    let (shown, header) = match (s.kind, &s.shared_uri) {
        (Kind::Share, Some(inner)) => {
            let (name, acct, link) = who(node, &s.author_uri);
            let header = format!(
                "<div class=\"shared\"><a href=\"{}\">{}</a> (@{}) shared</div>",
                escape(&link),
                escape(&name),
                escape(&acct)
            );
            match node.db().status(inner)? {
                Some(o) if node.db().may_see(&o, viewer_uri(node, viewer).as_deref())? => (o, header),
                _ => {
                    return Ok(format!(
                        "<article>{header}<p>(a status this node has not seen)</p></article>"
                    ));
                }
            }
        }
        _ => (s.clone(), String::new()),
    };
    let (name, acct, link) = who(node, &shown.author_uri);
    let body = if shown.local_user.is_some() {
        shown.content.clone()
    } else {
        Text::html(shown.content.as_str())
            .plain_text()
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
            .collect()
    };
    let favs = node.db().favourites(&shown.uri)?;
    let replying = match &shown.in_reply_to {
        Some(p) => match node.db().status(p)? {
            Some(ps) => {
                let (pn, _, _) = who(node, &ps.author_uri);
                format!(
                    " · in reply to <a href=\"{}\">{}</a>",
                    escape(&local_link(&ps)),
                    escape(&pn)
                )
            }
            None => format!(" · in reply to <a href=\"{0}\">{0}</a>", escape(p)),
        },
        None => String::new(),
    };
    let mut actions = String::new();
    if let Some((u, csrf)) = viewer {
        let me = node.user_uri(&u.username);
        actions.push_str("<div class=\"actions\">");
        if favs.contains(&me) {
            actions.push_str(&action("Unfavourite", "unfavourite", &shown.uri, csrf, back));
        } else {
            actions.push_str(&action("Favourite", "favourite", &shown.uri, csrf, back));
        }
        if shown.visibility.is_world_readable() {
            actions.push_str(&action("Share", "share", &shown.uri, csrf, back));
        }
        if s.author_uri == me {
            actions.push_str(&action("Delete", "delete", &s.uri, csrf, back));
        }
        actions.push_str(&format!(
            "<details><summary>Reply</summary><form method=\"post\" action=\"/actions/post\">{}{}{}\
             <textarea name=\"text\" aria-label=\"Reply\">@{} </textarea><button>Reply</button></form></details>",
            hidden("csrf", csrf),
            hidden("in_reply_to", &shown.uri),
            hidden("back", back),
            escape(&acct)
        ));
        actions.push_str("</div>");
    }
    // Remote HTML is shown as text, so its hashtags are listed as links.
    let tags = if shown.local_user.is_none() {
        let tags = node.db().tags(&shown.uri)?;
        if tags.is_empty() {
            String::new()
        } else {
            let links: Vec<String> = tags
                .iter()
                .map(|t| format!("<a href=\"/tags/{0}\" rel=\"tag\">#{0}</a>", escape(t)))
                .collect();
            format!("<p class=\"tags\">{}</p>", links.join(" "))
        }
    } else {
        String::new()
    };
    // A content warning is shown, the content collapsed under it.
    let content = match &shown.summary {
        Some(cw) => format!(
            "<details class=\"cw\"><summary>{}</summary><div class=\"content\">{body}{tags}</div></details>",
            escape(cw)
        ),
        None => format!("<div class=\"content\">{body}{tags}</div>"),
    };
    Ok(format!(
        "<article class=\"status\" data-uri=\"{uri}\">{header}<div class=\"meta\"><a href=\"{link}\"><b>{name}</b></a> \
         @{acct} · <a href=\"{permalink}\"><time datetime=\"{time}\" title=\"{time}\">{shown_time}</time></a>{replying}\
         {scope}{favcount}</div>{content}{actions}</article>",
        uri = escape(&s.uri),
        link = escape(&link),
        name = escape(&name),
        acct = escape(&acct),
        permalink = escape(&local_link(&shown)),
        time = escape(&shown.published),
        shown_time = escape(&human_time(&shown.published)),
        scope = match shown.visibility {
            Visibility::Public => String::new(),
            v => format!(" · <span class=\"scope\">{}</span>", v.as_str()),
        },
        favcount = if favs.is_empty() {
            String::new()
        } else {
            format!(" · ★ {}", favs.len())
        },
    ))
}

fn statuses(node: &Node, list: &[Status], viewer: &Viewer, back: &str) -> Result<String, NodeError> {
    if list.is_empty() {
        return Ok("<p>Nothing yet.</p>".into());
    }
    list.iter().map(|s| status(node, s, viewer, back)).collect()
}

/// The front page: the node's users and a login link.
pub fn index(node: &Node, viewer: &Viewer) -> Result<String, NodeError> {
    let users: String = node
        .db()
        .users()?
        .iter()
        .map(|u| {
            format!(
                "<li><a href=\"/users/{0}\">{1}</a> @{0}@{2}</li>",
                escape(&u.username),
                escape(&u.display_name),
                escape(&node.config().domain)
            )
        })
        .collect();
    Ok(layout(
        node,
        "Welcome",
        viewer,
        &format!(
            "<p>An <a href=\"https://www.w3.org/community/ostatus/\">OStatus</a> node run by \
             ostatus-server. It federates like Mastodon 2.x and GNU social.</p><h2>People here</h2><ul>{users}</ul>"
        ),
    ))
}

/// A user's profile: who they are, a follow form, their statuses.
pub fn profile(node: &Node, user: &User, viewer: &Viewer) -> Result<String, NodeError> {
    let uri = node.user_uri(&user.username);
    let list = node
        .db()
        .statuses_by(&uri, false, None, 40, viewer_uri(node, viewer).as_deref())?;
    let back = format!("/users/{}", user.username);
    let following = node.db().following(&uri)?.len();
    let followers = node.db().followers(&uri)?.len();
    let follow = match viewer {
        Some((v, csrf)) if v.id != user.id => {
            let me = node.user_uri(&v.username);
            let (label, path) = if node.db().follows(&me, &uri)? {
                ("Unfollow", "unfollow")
            } else {
                ("Follow", "follow")
            };
            format!(
                "<form method=\"post\" action=\"/actions/{path}\">{}{}{}<button>{label}</button></form>",
                hidden("csrf", csrf),
                hidden("acct", &node.user_acct(&user.username)),
                hidden("back", &back)
            )
        }
        Some(_) => String::new(),
        None => format!(
            "<a href=\"/users/{}/remote_follow\">Follow from your own server</a>",
            escape(&user.username)
        ),
    };
    let body = format!(
        "<section class=\"profile h-card\"><h2 class=\"p-name\">{name}</h2><p>@{acct}</p><p class=\"p-note\">{bio}</p>\
         <p>{following} following · {followers} followers · <a href=\"/users/{u}.atom\">Atom feed</a></p>{follow}</section>\
         <h3>Statuses</h3>{list}",
        name = escape(&user.display_name),
        acct = escape(&node.user_acct(&user.username)),
        bio = escape(&user.bio),
        u = escape(&user.username),
        list = statuses(node, &list, viewer, &back)?,
    );
    Ok(layout(node, &user.display_name, viewer, &body))
}

/// A status with its conversation.
///
/// # Errors
///
/// [`NodeError::NotFound`] when the viewer may not see the status (as if
/// it did not exist).
pub fn thread(node: &Node, s: &Status, viewer: &Viewer, back: &str) -> Result<String, NodeError> {
    let me = viewer_uri(node, viewer);
    if !node.db().may_see(s, me.as_deref())? {
        return Err(NodeError::NotFound(s.uri.clone()));
    }
    let conv = match &s.conversation {
        Some(c) => node.db().conversation(c, me.as_deref())?,
        None => Vec::new(),
    };
    let mut list = if conv.iter().any(|c| c.uri == s.uri) {
        conv
    } else {
        let mut l = vec![s.clone()];
        l.extend(node.db().replies(&s.uri, me.as_deref())?);
        l
    };
    list.dedup_by(|a, b| a.uri == b.uri);
    let body = format!("<h2>Conversation</h2>{}", statuses(node, &list, viewer, back)?);
    Ok(layout(node, "Conversation", viewer, &body))
}

/// The home timeline, with the post and follow forms.
pub fn home(
    node: &Node,
    user: &User,
    csrf: &str,
    viewer: &Viewer,
    error: Option<&str>,
) -> Result<String, NodeError> {
    let list = node.db().home(&node.user_uri(&user.username), 60)?;
    let error = error.map_or_else(String::new, |e| format!("<p class=\"error\">{}</p>", escape(e)));
    let body = format!(
        "{error}<form method=\"post\" action=\"/actions/post\">{csrf}{back}\
         <input name=\"cw\" aria-label=\"Content warning\" placeholder=\"Content warning (optional)\" maxlength=\"500\">\
         <textarea name=\"text\" aria-label=\"What is happening?\" placeholder=\"What is happening? Mention people as @user@host, tag with #hashtag\"></textarea>\
         <label>Visible to <select name=\"visibility\" aria-label=\"Visibility\">\
         <option value=\"public\">everyone (public)</option>\
         <option value=\"unlisted\">everyone, not in public timelines (unlisted)</option>\
         <option value=\"private\">followers and mentioned people (private)</option>\
         <option value=\"direct\">mentioned people only (direct)</option></select></label> \
         <button>Post</button></form>\
         <form method=\"post\" action=\"/actions/follow\">{csrf}{back}\
         <input name=\"acct\" placeholder=\"user@host\" aria-label=\"Account to follow\"> <button>Follow</button></form>\
         <h2>Home</h2>{list}",
        csrf = hidden("csrf", csrf),
        back = hidden("back", "/home"),
        list = statuses(node, &list, viewer, "/home")?,
    );
    Ok(layout(node, "Home", viewer, &body))
}

/// The public statuses, local and remote, with a hashtag.
pub fn tag(node: &Node, tag: &str, viewer: &Viewer) -> Result<String, NodeError> {
    let tag = tag.trim_start_matches('#').to_lowercase();
    let list = node.db().tagged(&tag, 40)?;
    let back = format!("/tags/{tag}");
    let body = format!(
        "<h2>#{}</h2><p>Public statuses with this hashtag, from here and from the servers this node hears from.</p>{}",
        escape(&tag),
        statuses(node, &list, viewer, &back)?
    );
    Ok(layout(node, &format!("#{tag}"), viewer, &body))
}

/// The login form.
pub fn login(node: &Node, next: &str, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| format!("<p class=\"error\">{}</p>", escape(e)));
    layout(
        node,
        "Log in",
        &None,
        &format!(
            "{error}<form method=\"post\" action=\"/login\">{}\
             <p><label>Username <input name=\"username\" autocomplete=\"username\"></label></p>\
             <p><label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label></p>\
             <button>Log in</button></form>",
            hidden("next", next)
        ),
    )
}

/// The remote-follow form: a visitor names their own account, and is sent
/// to its server's subscribe page (the OStatus subscribe template).
pub fn remote_follow(node: &Node, user: &User, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| format!("<p class=\"error\">{}</p>", escape(e)));
    layout(
        node,
        "Remote follow",
        &None,
        &format!(
            "{error}<h2>Follow {name} (@{acct})</h2><form method=\"post\">\
             <p><label>Your account <input name=\"acct\" placeholder=\"you@your.server\"></label></p>\
             <button>Follow</button></form>",
            name = escape(&user.display_name),
            acct = escape(&node.user_acct(&user.username))
        ),
    )
}

/// The local side of the subscribe template: confirm following `acct`.
pub fn authorize_follow(node: &Node, acct: &str, csrf: &str, viewer: &Viewer) -> String {
    layout(
        node,
        "Follow",
        viewer,
        &format!(
            "<h2>Follow {0}?</h2><form method=\"post\" action=\"/actions/follow\">{1}{2}{3}<button>Follow</button></form>",
            escape(acct),
            hidden("csrf", csrf),
            hidden("acct", acct),
            hidden("back", "/home")
        ),
    )
}

/// An error page.
pub fn error(node: &Node, viewer: &Viewer, message: &str) -> String {
    layout(
        node,
        "Error",
        viewer,
        &format!("<p class=\"error\">{}</p>", escape(message)),
    )
}

#[cfg(test)]
mod tests {
    use super::human_time;

    #[test]
    fn times_are_shown_as_people_read_them() {
        assert_eq!(human_time("2026-11-29T12:41:07.123Z"), "29 Nov 2026, 12:41 UTC");
        // Offsets are brought to UTC.
        assert_eq!(human_time("2017-05-05T13:40:21+02:00"), "5 May 2017, 11:40 UTC");
        assert_eq!(human_time("yesterday"), "yesterday");
    }
}
