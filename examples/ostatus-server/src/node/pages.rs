//! Server-rendered HTML: every page works without JavaScript. Remote
//! content is shown as text (its HTML is reduced to text and escaped);
//! local content is HTML this node wrote from escaped text.
//!
//! Pages are written with [maud](https://maud.lambda.xyz/): its `html!`
//! templates are checked when the crate compiles, and every value put into
//! one is escaped unless it is wrapped in `PreEscaped`, which this module
//! does in exactly three places — the stylesheet (a constant), a local
//! status's HTML (written by this node from escaped text, see
//! `federation::html`), and nothing else taken from a request or a peer.
//! Forgetting to escape is therefore not possible. maud was chosen over
//! askama because the pages are small compositions of Rust values and
//! helpers (a status inside a timeline inside a layout): maud keeps them as
//! functions returning `Markup`, with no template files to keep in step and
//! no runtime template engine.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use ostatus_activitystreams::Text;

use super::db::{Kind, NotificationKind, Status, User, Visibility};
use super::federation::{find_hashtags, remote_text_html, web_href};
use super::{MAX_ATTACHMENTS, MAX_AVATAR_BYTES, MAX_BIO_CHARS, MAX_NAME_CHARS, MediaKind, Node, NodeError};

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
.shared{font-size:.85rem;color:#666}nav a{margin-right:.6rem}\
img.avatar{float:left;border-radius:4px;margin:0 .6rem .3rem 0;object-fit:cover}article::after{content:\"\";display:block;clear:both}\
.attachments{display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0}.attachments img,.attachments video{max-width:100%;max-height:20rem;border-radius:4px}";

/// A whole page.
pub fn layout(node: &Node, title: &str, viewer: &Viewer, body: Markup) -> String {
    let domain = &node.config().domain;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " · " (domain) }
                style { (PreEscaped(STYLE)) }
                script src="/static/time.js" defer {}
            }
            body {
                header {
                    h1 { a href="/" { (domain) } }
                    nav {
                        @match viewer {
                            Some((u, csrf)) => {
                                a href={ "/home" } { "Home" }
                                a href="/notifications" { "Notifications" }
                                a href="/public/local" { "Local" }
                                a href="/public" { "Federated" }
                                a href={ "/users/" (u.username) } { "@" (u.username) }
                                form method="post" action="/logout" style="display:inline" {
                                    (hidden("csrf", csrf))
                                    button { "Log out" }
                                }
                            }
                            None => {
                                a href="/public/local" { "Local" }
                                a href="/public" { "Federated" }
                                a href="/login" { "Log in" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

fn action(label: &str, path: &str, status_uri: &str, csrf: &str, back: &str) -> Markup {
    html! {
        form method="post" action={ "/actions/" (path) } {
            (hidden("csrf", csrf)) (hidden("status", status_uri)) (hidden("back", back))
            button { (label) }
        }
        " "
    }
}

/// A button acting on an account (`acct` field).
fn account_action(label: &str, path: &str, acct: &str, csrf: &str, back: &str) -> Markup {
    html! {
        form method="post" action={ "/actions/" (path) } {
            (hidden("csrf", csrf)) (hidden("acct", acct)) (hidden("back", back))
            button aria-label={ (label) " " (acct) } { (label) }
        }
        " "
    }
}

/// A titled list of accounts (as [`who`] gives them), each with buttons
/// (label, action) acting on it from the home page; nothing when empty.
fn people_list(
    title: &str,
    people: &[(String, String, String)],
    buttons: &[(&str, &str)],
    csrf: &str,
) -> Markup {
    html! {
        @if !people.is_empty() {
            h2 { (title) }
            ul.people {
                @for (name, acct, link) in people {
                    li {
                        a href=(link) { (name) } " @" (acct) " "
                        @for (label, path) in buttons {
                            (account_action(label, path, acct, csrf, "/home"))
                        }
                    }
                }
            }
        }
    }
}

/// An error message, if any.
fn error_note(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.error { (e) }
        }
    }
}

/// Who an account URI is, for display: name, `user@host` and a link (an
/// `http(s)` URL or `#`).
fn who(node: &Node, uri: &str) -> (String, String, String) {
    let (name, acct, link, _) = who_with_avatar(node, uri);
    (name, acct, link)
}

/// [`who`], with the account's avatar URL when it has an http(s) one.
fn who_with_avatar(node: &Node, uri: &str) -> (String, String, String, Option<String>) {
    match node.known_account(uri) {
        Ok(Some(a)) => {
            let link = match node.local_username(&a.uri) {
                Some(_) => a.uri.clone(),
                None => a.profile_url.clone().unwrap_or_else(|| a.uri.clone()),
            };
            let avatar = a.avatar.map(|v| web_href(&v.url)).filter(|h| h != "#");
            (a.display_name, a.acct, web_href(&link), avatar)
        }
        _ => (uri.to_owned(), uri.to_owned(), web_href(uri), None),
    }
}

/// An avatar image of `size` pixels, or nothing.
fn avatar_img(url: Option<&str>, size: u32) -> Markup {
    html! {
        @if let Some(u) = url {
            img.avatar src=(u) alt="" width=(size) height=(size) loading="lazy";
        }
    }
}

/// A time as written in a page: `29 Nov 2026, 12:41 UTC`, with the exact
/// time (normalised to UTC) in `datetime` and `title`. The page's script
/// ([`TIME_JS`]) shows it relative ("5 min ago") in the browser, with the
/// exact local time on hover, and keeps it current; the HTML itself never
/// goes stale in the render cache, and reads well without the script.
fn time_element(rfc3339: &str) -> Markup {
    let exact = ostatus_core::time::parse_rfc3339(rfc3339)
        .map_or_else(|| rfc3339.to_owned(), ostatus_core::time::rfc3339);
    html! { time datetime=(exact) title=(exact) { (human_time(rfc3339)) } }
}

/// The pages' one script, served at `/static/time.js`: every
/// `<time datetime>` is shown relative to now (up to a week; older times
/// stay absolute), with the exact local time as its title, refreshed each
/// minute.
pub const TIME_JS: &str = r#""use strict";
(function () {
  function ago(s) {
    if (s < 45) return "just now";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    if (s < 7 * 86400) { var d = Math.round(s / 86400); return d + (d === 1 ? " day ago" : " days ago"); }
    return null;
  }
  function render() {
    var now = Date.now();
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) return;
      if (!el.dataset.absolute) el.dataset.absolute = el.textContent;
      var rel = ago(Math.max(0, (now - t) / 1000));
      el.textContent = rel === null ? el.dataset.absolute : rel;
      el.title = new Date(t).toLocaleString();
    });
  }
  render();
  setInterval(render, 60000);
})();
"#;

/// A time as people read it, in UTC: `29 Nov 2026, 12:41 UTC`; what
/// a page's `<time>` element shows before its script makes it relative. A time
/// that does not parse is shown as written.
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

/// A status's text: a local status's own HTML (written by this node from
/// escaped text), or a remote one's, `remote_text` (its HTML reduced to
/// text), in paragraphs, with its mentions and hashtags linked (see
/// [`remote_text_html`]).
fn status_body(node: &Node, s: &Status, remote_text: Option<&str>) -> Result<Markup, NodeError> {
    let Some(text) = remote_text else {
        return Ok(PreEscaped(s.content.clone()));
    };
    let mut mentioned = Vec::new();
    if text.contains('@') {
        for uri in node.db().mentions(&s.uri)? {
            if let Some(a) = node.known_account(&uri)? {
                mentioned.push(a);
            }
        }
    }
    Ok(remote_text_html(
        text,
        &mentioned,
        node.config().base_url.as_str(),
    ))
}

/// A status's attachments: images, videos and sounds shown in place (a
/// local upload from `/media/`, a remote one from its peer), anything else
/// as a link; `None` when it has none.
fn attachments(node: &Node, s: &Status) -> Option<Markup> {
    if s.attachments.is_empty() {
        return None;
    }
    Some(html! {
        div.attachments {
            @for a in &s.attachments {
                @let url = node.attachment_url(a);
                @let kind = a.media_type.as_deref().and_then(MediaKind::of);
                @match kind {
                    Some(MediaKind::Image) => a href=(url) { img src=(url) alt="an attached image" loading="lazy"; },
                    Some(MediaKind::Video) => video src=(url) controls preload="metadata" { a href=(url) { "the video" } },
                    Some(MediaKind::Audio) => audio src=(url) controls preload="none" { a href=(url) { "the sound" } },
                    None => a.file href=(url) { (a.media_type.as_deref().unwrap_or("a file")) },
                }
            }
        }
    })
}

/// One status, with its actions for a logged-in viewer.
pub fn status(node: &Node, s: &Status, viewer: &Viewer, back: &str) -> Result<Markup, NodeError> {
    let (shown, header) = match (s.kind, &s.shared_uri) {
        (Kind::Share, Some(inner)) => {
            let (name, acct, link) = who(node, &s.author_uri);
            let header = html! {
                div.shared { a href=(link) { (name) } " (@" (acct) ") shared" }
            };
            match node.db().status(inner)? {
                Some(o) if node.db().may_see(&o, viewer_uri(node, viewer).as_deref())? => (o, Some(header)),
                _ => {
                    return Ok(html! {
                        article { (header) p { "(a status this node has not seen)" } }
                    });
                }
            }
        }
        _ => (s.clone(), None),
    };
    let (name, acct, link, avatar) = who_with_avatar(node, &shown.author_uri);
    let favs = node.db().favourites(&shown.uri)?;
    let parent = match &shown.in_reply_to {
        Some(p) => Some(match node.db().status(p)? {
            Some(ps) => (local_link(&ps), who(node, &ps.author_uri).0),
            None => (web_href(p), p.clone()),
        }),
        None => None,
    };
    // A remote status's tags that its text does not show (GNU social put
    // some only in `category`) are listed as links under it.
    let remote_text = shown
        .local_user
        .is_none()
        .then(|| Text::html(shown.content.as_str()).plain_text());
    let tags = match &remote_text {
        Some(text) => {
            let inline = find_hashtags(text);
            let mut tags = node.db().tags(&shown.uri)?;
            tags.retain(|t| !inline.contains(t));
            tags
        }
        None => Vec::new(),
    };
    let media = attachments(node, &shown);
    let content = html! {
        (status_body(node, &shown, remote_text.as_deref())?)
        @if let Some(m) = media {
            @if shown.sensitive {
                details.sensitive { summary { "Sensitive media (show)" } (m) }
            } @else {
                (m)
            }
        }
        @if !tags.is_empty() {
            p.tags {
                @for (i, t) in tags.iter().enumerate() {
                    @if i > 0 { " " }
                    a href={ "/tags/" (percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)) } rel="tag" { "#" (t) }
                }
            }
        }
    };
    let actions = match viewer {
        Some((u, csrf)) => {
            let me = node.user_uri(&u.username);
            Some(html! {
                div.actions {
                    @if favs.contains(&me) {
                        (action("Unfavourite", "unfavourite", &shown.uri, csrf, back))
                    } @else {
                        (action("Favourite", "favourite", &shown.uri, csrf, back))
                    }
                    @if shown.visibility.is_world_readable() {
                        (action("Share", "share", &shown.uri, csrf, back))
                    }
                    @if s.author_uri == me {
                        (action("Delete", "delete", &s.uri, csrf, back))
                    }
                    @if shown.author_uri != me {
                        (account_action("Block", "block", &acct, csrf, back))
                    }
                    details {
                        summary { "Reply" }
                        form method="post" action="/actions/post" {
                            (hidden("csrf", csrf)) (hidden("in_reply_to", &shown.uri)) (hidden("back", back))
                            textarea name="text" aria-label="Reply" { "@" (acct) " " }
                            button { "Reply" }
                        }
                    }
                }
            })
        }
        None => None,
    };
    Ok(html! {
        article.status data-uri=(s.uri) {
            @if let Some(h) = header { (h) }
            (avatar_img(avatar.as_deref(), 48))
            div.meta {
                a href=(link) { b { (name) } }
                " @" (acct) " · "
                a href=(local_link(&shown)) {
                    (time_element(&shown.published))
                }
                @if let Some((href, parent_name)) = parent {
                    " · in reply to " a href=(href) { (parent_name) }
                }
                @if shown.visibility != Visibility::Public {
                    " · " span.scope { (shown.visibility.as_str()) }
                }
                @if !favs.is_empty() {
                    " · ★ " (favs.len())
                }
            }
            // A content warning is shown, the content collapsed under it.
            @match &shown.summary {
                Some(cw) => details.cw { summary { (cw) } div.content { (content) } },
                None => div.content { (content) },
            }
            @if let Some(a) = actions { (a) }
        }
    })
}

fn statuses(node: &Node, list: &[Status], viewer: &Viewer, back: &str) -> Result<Markup, NodeError> {
    if list.is_empty() {
        return Ok(html! { p { "Nothing yet." } });
    }
    let items = list
        .iter()
        .map(|s| status(node, s, viewer, back))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(html! { @for i in items { (i) } })
}

/// The front page: the node's users and a login link.
pub fn index(node: &Node, viewer: &Viewer) -> Result<String, NodeError> {
    let users = node.db().users()?;
    let domain = &node.config().domain;
    Ok(layout(
        node,
        "Welcome",
        viewer,
        html! {
            p {
                "An " a href="https://www.w3.org/community/ostatus/" { "OStatus" }
                " node run by ostatus-server. It federates like Mastodon 2.x and GNU social."
            }
            h2 { "People here" }
            ul {
                @for u in &users {
                    li { a href={ "/users/" (u.username) } { (u.display_name) } " @" (u.username) "@" (domain) }
                }
            }
        },
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
            } else if node.db().follow_requested(&me, &uri)? {
                ("Withdraw the follow request", "unfollow")
            } else if user.locked {
                ("Ask to follow", "follow")
            } else {
                ("Follow", "follow")
            };
            html! {
                form method="post" action={ "/actions/" (path) } {
                    (hidden("csrf", csrf)) (hidden("acct", &node.user_acct(&user.username))) (hidden("back", &back))
                    button { (label) }
                }
            }
        }
        Some(_) => html! {},
        None => html! {
            a href={ "/users/" (user.username) "/remote_follow" } { "Follow from your own server" }
        },
    };
    let list = statuses(node, &list, viewer, &back)?;
    let body = html! {
        section.profile.h-card {
            (avatar_img(who_with_avatar(node, &uri).3.as_deref(), 96))
            h2.p-name { (user.display_name) }
            p {
                "@" (node.user_acct(&user.username))
                @if user.locked { " · " span.locked title="Follows need approval" { "locked" } }
            }
            p.p-note { (user.bio) }
            p {
                (following) " following · " (followers) " followers · "
                a href={ "/users/" (user.username) ".atom" } { "Atom feed" }
            }
            (follow)
        }
        h3 { "Statuses" }
        (list)
    };
    Ok(layout(node, &user.display_name, viewer, body))
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
    let list = statuses(node, &list, viewer, back)?;
    Ok(layout(
        node,
        "Conversation",
        viewer,
        html! { h2 { "Conversation" } (list) },
    ))
}

/// The home timeline, with the post and follow forms.
pub fn home(
    node: &Node,
    user: &User,
    csrf: &str,
    viewer: &Viewer,
    error: Option<&str>,
) -> Result<String, NodeError> {
    let me = node.user_uri(&user.username);
    let list = node.db().home(&me, 60)?;
    let list = statuses(node, &list, viewer, "/home")?;
    let people = |uris: Vec<String>| uris.iter().map(|uri| who(node, uri)).collect::<Vec<_>>();
    let blocked = people(node.db().blocked_by(&me)?);
    let requests = people(node.db().follow_requests_to(&me)?);
    let waiting = people(node.db().follow_requests_by(&me)?);
    // The forms act on the stored profile, not the session's copy of it.
    let current = node.user(&user.username)?;
    let locked = current.locked;
    let body = html! {
        (error_note(error))
        form method="post" action="/compose" enctype="multipart/form-data" {
            (hidden("csrf", csrf)) (hidden("back", "/home"))
            input name="cw" aria-label="Content warning" placeholder="Content warning (optional)" maxlength="500";
            textarea name="text" aria-label="What is happening?"
                placeholder="What is happening? Mention people as @user@host, tag with #hashtag" {}
            label {
                "Visible to "
                select name="visibility" aria-label="Visibility" {
                    option value="public" { "everyone (public)" }
                    option value="unlisted" { "everyone, not in public timelines (unlisted)" }
                    option value="private" { "followers and mentioned people (private)" }
                    option value="direct" { "mentioned people only (direct)" }
                }
            }
            br;
            label {
                "Attach (up to " (MAX_ATTACHMENTS) " images, videos or sounds) "
                input type="file" name="attach" multiple
                    accept="image/png,image/jpeg,image/gif,image/webp,video/mp4,video/webm,audio/mp4,audio/ogg,audio/mpeg";
            }
            " "
            label { input type="checkbox" name="sensitive" value="1"; " sensitive media" }
            " "
            button { "Post" }
        }
        form method="post" action="/actions/follow" {
            (hidden("csrf", csrf)) (hidden("back", "/home"))
            input name="acct" placeholder="user@host or a feed's URL" aria-label="Account to follow";
            " "
            button { "Follow" }
            " "
            button formaction="/actions/block" { "Block" }
        }
        details.profile-form {
            summary { "Edit your profile" }
            form method="post" action="/settings/profile" enctype="multipart/form-data" {
                (hidden("csrf", csrf))
                label { "Name " input name="display_name" value=(current.display_name) maxlength=(MAX_NAME_CHARS) required; }
                br;
                label { "About you " textarea name="bio" maxlength=(MAX_BIO_CHARS) { (current.bio) } }
                label {
                    "Avatar (PNG, JPEG, GIF or WebP, at most " (MAX_AVATAR_BYTES >> 20) " MiB) "
                    input type="file" name="avatar" accept="image/png,image/jpeg,image/gif,image/webp";
                }
                " "
                button { "Save profile" }
            }
        }
        form method="post" action={ "/actions/" (if locked { "unlock" } else { "lock" }) } {
            (hidden("csrf", csrf)) (hidden("back", "/home"))
            @if locked {
                "Your account is locked: you approve each follower. "
                button { "Unlock" }
            } @else {
                button { "Lock your account" } " (approve each follower)"
            }
        }
        (people_list("Follow requests", &requests, &[("Approve", "authorize"), ("Reject", "reject")], csrf))
        @if !waiting.is_empty() {
            p.waiting {
                "Waiting for approval: "
                @for (i, (name, acct, link)) in waiting.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(link) { (name) } " @" (acct)
                }
            }
        }
        h2 { "Home" }
        (list)
        (people_list("Blocked", &blocked, &[("Unblock", "unblock")], csrf))
    };
    Ok(layout(node, "Home", viewer, body))
}

/// How many items a paged list shows.
pub const PAGE: usize = 40;

/// The link to the next (older) page of a list paged by row id, when the
/// page was full.
fn older(path: &str, ids: &[i64]) -> Markup {
    html! {
        @if ids.len() >= PAGE && let Some(last) = ids.last() {
            p.older { a rel="next" href={ (path) "?max_id=" (last) } { "Older" } }
        }
    }
}

/// A public timeline, paged: the public notes of this node's users
/// (`local_only`), or of every account this node hears from.
pub fn public_timeline(
    node: &Node,
    local_only: bool,
    max_id: Option<i64>,
    viewer: &Viewer,
) -> Result<String, NodeError> {
    let list = node
        .db()
        .public_timeline(local_only, max_id, PAGE, viewer_uri(node, viewer).as_deref())?;
    let ids: Vec<i64> = list.iter().map(|s| s.id).collect();
    let (title, path, about) = if local_only {
        (
            "Local timeline",
            "/public/local",
            "Public statuses of the people on this server.",
        )
    } else {
        (
            "Federated timeline",
            "/public",
            "Public statuses of the people on this server and of everyone it hears from.",
        )
    };
    let list = statuses(node, &list, viewer, path)?;
    let body = html! {
        h2 { (title) }
        p { (about) }
        (list)
        (older(path, &ids))
    };
    Ok(layout(node, title, viewer, body))
}

/// The logged-in user's notifications, paged: mentions, follows and
/// follow requests, favourites and shares of their statuses.
pub fn notifications(
    node: &Node,
    user: &User,
    max_id: Option<i64>,
    viewer: &Viewer,
) -> Result<String, NodeError> {
    let me = node.user_uri(&user.username);
    let list = node.db().notifications(user.id, &me, max_id, PAGE)?;
    let ids: Vec<i64> = list.iter().map(|n| n.id).collect();
    let mut items = Vec::with_capacity(list.len());
    for n in &list {
        let (name, acct, link) = who(node, &n.account_uri);
        let what = match n.kind {
            NotificationKind::Mention => "mentioned you",
            NotificationKind::Follow => "followed you",
            NotificationKind::Request => "asked to follow you",
            NotificationKind::Favourite => "favourited your status",
            NotificationKind::Share => "shared your status",
        };
        // The status, if this viewer may still see it (not deleted since).
        let status = match &n.status_uri {
            Some(uri) => match node.db().status(uri)? {
                Some(s) if !s.deleted && node.db().may_see(&s, Some(&me))? => {
                    Some(status(node, &s, viewer, "/notifications")?)
                }
                _ => None,
            },
            None => None,
        };
        items.push(html! {
            li.notification data-kind=(n.kind.as_str()) {
                p {
                    a href=(link) { b { (name) } } " @" (acct) " " (what) " · "
                    (time_element(&n.at))
                    @if n.kind == NotificationKind::Request {
                        " · " a href="/home" { "answer it on your home page" }
                    }
                }
                @if let Some(s) = status { (s) }
            }
        });
    }
    let body = html! {
        h2 { "Notifications" }
        @if items.is_empty() {
            p { "Nothing yet." }
        } @else {
            ul.notifications { @for i in items { (i) } }
        }
        (older("/notifications", &ids))
    };
    Ok(layout(node, "Notifications", viewer, body))
}

/// The public statuses, local and remote, with a hashtag.
pub fn tag(node: &Node, tag: &str, viewer: &Viewer) -> Result<String, NodeError> {
    let tag = tag.trim_start_matches('#').to_lowercase();
    let list = node.db().tagged(&tag, 40)?;
    let back = format!("/tags/{tag}");
    let list = statuses(node, &list, viewer, &back)?;
    let body = html! {
        h2 { "#" (tag) }
        p { "Public statuses with this hashtag, from here and from the servers this node hears from." }
        (list)
    };
    Ok(layout(node, &format!("#{tag}"), viewer, body))
}

/// The login form.
pub fn login(node: &Node, next: &str, error: Option<&str>) -> String {
    layout(
        node,
        "Log in",
        &None,
        html! {
            (error_note(error))
            form method="post" action="/login" {
                (hidden("next", next))
                p { label { "Username " input name="username" autocomplete="username"; } }
                p { label { "Password " input name="password" type="password" autocomplete="current-password"; } }
                button { "Log in" }
            }
        },
    )
}

/// The remote-follow form: a visitor names their own account, and is sent
/// to its server's subscribe page (the OStatus subscribe template).
pub fn remote_follow(node: &Node, user: &User, error: Option<&str>) -> String {
    layout(
        node,
        "Remote follow",
        &None,
        html! {
            (error_note(error))
            h2 { "Follow " (user.display_name) " (@" (node.user_acct(&user.username)) ")" }
            form method="post" {
                p { label { "Your account " input name="acct" placeholder="you@your.server"; } }
                button { "Follow" }
            }
        },
    )
}

/// The local side of the subscribe template: confirm following `acct`.
pub fn authorize_follow(node: &Node, acct: &str, csrf: &str, viewer: &Viewer) -> String {
    layout(
        node,
        "Follow",
        viewer,
        html! {
            h2 { "Follow " (acct) "?" }
            form method="post" action="/actions/follow" {
                (hidden("csrf", csrf)) (hidden("acct", acct)) (hidden("back", "/home"))
                button { "Follow" }
            }
        },
    )
}

/// An error page.
pub fn error(node: &Node, viewer: &Viewer, message: &str) -> String {
    layout(node, "Error", viewer, html! { p.error { (message) } })
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
