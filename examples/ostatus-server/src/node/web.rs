//! The node's HTTP surface: the protocol endpoints (host-meta, WebFinger,
//! feeds and entries, Salmon, the hub, WebSub callbacks, Portable
//! Contacts) and the HTML pages and forms.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use ostatus_portable_contacts::axum::ContactProvider;
use ostatus_portable_contacts::{Contact, PocoError};
use ostatus_salmon::inbound::Incoming;
use ostatus_salmon::{Endpoint, EndpointConfig, VerifyOptions};
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, Rel, Resource, WebFinger};

use super::auth::{COOKIE as SESSION_COOKIE, check_password, same_token, token};
use super::cache::{Key, Rendered};
use super::db::Visibility;
use super::pages::{self, Viewer};
use super::{Node, NodeError};

/// How long a login lasts (30 days).
const SESSION_SECS: i64 = 30 * 86_400;

/// Largest form or Salmon body read (512 KiB).
const MAX_BODY: usize = 512 * 1024;

type Shared = State<Arc<Node>>;

fn status_of(e: &NodeError) -> StatusCode {
    match e {
        NodeError::Invalid(_) => StatusCode::BAD_REQUEST,
        NodeError::NotFound(_) => StatusCode::NOT_FOUND,
        NodeError::Remote(_) => StatusCode::BAD_GATEWAY,
        NodeError::Blocked(_) | NodeError::Forbidden(_) => StatusCode::FORBIDDEN,
        NodeError::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The pages' Content Security Policy: scripts and styles only from the
/// node itself (the one script is `/static/time.js`; styles are inline),
/// images and sounds from anywhere over http(s) (peers' avatars and
/// attachments), nothing framed, no plugins, no `<base>`. Defence in
/// depth: the templates already escape everything (see `pages`).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' http: https: data:; media-src 'self' http: https:; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'";

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (http::header::CONTENT_SECURITY_POLICY, CSP),
        ],
        body,
    )
        .into_response()
}

/// The pages' script (relative times), cached for a day.
async fn time_js() -> Response {
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        pages::TIME_JS,
    )
        .into_response()
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{body}\n"),
    )
        .into_response()
}

fn atom(body: String) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A strong `ETag` for a document: a hash of its bytes.
fn etag_of(body: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    let tag: String = digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{tag}\"")
}

/// An Atom document, rendered for the cache with its validator.
fn atom_doc(body: String) -> Rendered {
    Rendered {
        etag: etag_of(&body),
        body,
    }
}

/// A page, rendered for the cache.
fn page_doc(body: String) -> Rendered {
    Rendered {
        body,
        etag: String::new(),
    }
}

/// An Atom document that peers and proxies may revalidate: a strong
/// `ETag` (a hash of the bytes), `Cache-Control: public, max-age=60`, and
/// 304 Not Modified when the request's `If-None-Match` names the same tag.
/// A hub's conditional fetch and every remote subscriber's poll then cost
/// no body when nothing changed.
fn atom_cached(req: &HeaderMap, doc: &Rendered) -> Response {
    let etag = &doc.etag;
    let mut r = if ostatus_core::etag::if_none_match(req, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        atom(doc.body.clone())
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(http::header::ETAG, v);
    }
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    r
}

fn see_other(to: &str) -> Response {
    // Only local paths: no open redirect.
    let to = if to.starts_with('/') && !to.starts_with("//") {
        to
    } else {
        "/home"
    };
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

fn error_page(node: &Node, viewer: &Viewer, e: &NodeError) -> Response {
    html(status_of(e), pages::error(node, viewer, &e.to_string()))
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{SESSION_COOKIE}="))
                .map(str::to_owned)
        })
}

fn viewer(node: &Node, headers: &HeaderMap) -> Viewer {
    let t = session_token(headers)?;
    node.db().session(&t, super::now_secs()).ok().flatten()
}

/// WebFinger lookups for local users, by `acct:` or profile URL.
struct Accounts(Arc<Node>);

impl Lookup for Accounts {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        let node = &self.0;
        let name = match r {
            Resource::Acct(a) if a.host() == node.config().domain => Some(a.user_decoded()),
            Resource::Url(u) => node.local_username(u.as_str()),
            _ => None,
        };
        let Some(name) = name else {
            return Ok(None);
        };
        // Built once per user: nothing in it changes while the user exists.
        let cached = node
            .webfinger_docs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&name)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(user) = node.db().user(&name).ok().flatten() else {
            return Ok(None);
        };
        let uri = node.user_uri(&user.username);
        let key = node.public_key_uri(&user).map_err(|e| LookupError(Box::new(e)))?;
        let salmon = format!("{}api/salmon/{}", node.config().base_url, user.username);
        let doc = Descriptor::new(format!("acct:{}", node.user_acct(&user.username)))
            .with_alias(uri.clone())
            .with_link(
                Link::new(Rel::ProfilePage)
                    .with_type("text/html")
                    .with_href(uri.clone()),
            )
            .with_link(
                Link::new(Rel::UpdatesFrom)
                    .with_type("application/atom+xml")
                    .with_href(format!("{uri}.atom")),
            )
            .with_link(Link::new(Rel::Salmon).with_href(salmon.clone()))
            .with_link(Link::new(Rel::SalmonReplies).with_href(salmon.clone()))
            .with_link(Link::new(Rel::SalmonMention).with_href(salmon))
            .with_link(Link::new(Rel::MagicPublicKey).with_href(key.to_string()))
            .with_link(
                Link::new(Rel::from("http://portablecontacts.net/spec/1.0")).with_href(format!(
                    "{}poco/{}",
                    node.config().base_url,
                    user.username
                )),
            )
            .with_link(
                Link::new(Rel::OStatusSubscribe)
                    .with_template(format!("{}authorize_follow?acct={{uri}}", node.config().base_url)),
            );
        node.webfinger_docs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(user.username.clone(), doc.clone());
        Ok(Some(doc))
    }
}

/// Portable Contacts: whom a user follows.
struct Contacts(Arc<Node>);

impl Contacts {
    fn user(&self, req: &http::request::Parts) -> Result<super::db::User, PocoError> {
        let name = req
            .uri
            .path()
            .strip_prefix("/poco/")
            .and_then(|p| p.split('/').next())
            .unwrap_or_default();
        self.0
            .db()
            .user(name)
            .ok()
            .flatten()
            .ok_or_else(|| PocoError::NotFound(format!("no user {name}")))
    }

    fn contact(&self, uri: &str) -> Contact {
        let a = self.0.known_account(uri).ok().flatten();
        let mut c = Contact {
            id: Some(uri.to_owned()),
            ..Contact::default()
        };
        if let Some(a) = a {
            c.display_name = Some(a.display_name);
            c.preferred_username = a.acct.split('@').next().map(str::to_owned);
        }
        c
    }
}

impl ContactProvider for Contacts {
    async fn contacts(&self, req: &http::request::Parts) -> Result<Vec<Contact>, PocoError> {
        let user = self.user(req)?;
        let me = self.0.user_uri(&user.username);
        let following = self
            .0
            .db()
            .following(&me)
            .map_err(|e| PocoError::NotFound(e.to_string()))?;
        Ok(following.iter().map(|u| self.contact(u)).collect())
    }

    async fn owner(&self, req: &http::request::Parts) -> Result<Option<Contact>, PocoError> {
        let user = self.user(req)?;
        let mut c = self.contact(&self.0.user_uri(&user.username));
        c.note = (!user.bio.is_empty()).then(|| user.bio.clone());
        Ok(Some(c))
    }
}

impl Node {
    /// Every route of the node.
    pub fn router(self: &Arc<Self>) -> Router {
        let base = self.config().base_url.as_str().trim_end_matches('/').to_owned();
        let webfinger = Arc::new(WebFinger::new(Accounts(self.clone()), &base));
        let mut app = Router::new()
            .route("/", get(index))
            .route("/users/{name}", get(user_page))
            .route("/tags/{tag}", get(tag_page))
            .route("/users/{name}/updates/{id}", get(status_page))
            .route(
                "/users/{name}/remote_follow",
                get(remote_follow_form).post(remote_follow),
            )
            .route("/thread", get(thread_page))
            .route("/home", get(home))
            .route("/notifications", get(notifications_page))
            .route("/public", get(federated_timeline))
            .route("/public/local", get(local_timeline))
            .route("/login", get(login_form).post(login))
            .route("/logout", post(logout))
            .route("/authorize_follow", get(authorize_follow))
            .route("/actions/{action}", post(act))
            .route(
                "/settings/profile",
                // The avatar and the form's other fields, with room to spare.
                post(profile_form).layer(axum::extract::DefaultBodyLimit::max(
                    super::MAX_AVATAR_BYTES + 64 * 1024,
                )),
            )
            .route(
                "/compose",
                // Every file at its largest, and the form's other fields.
                post(compose_form).layer(axum::extract::DefaultBodyLimit::max(
                    super::MAX_ATTACHMENTS * super::MAX_AV_BYTES + 64 * 1024,
                )),
            )
            .route("/media/{file}", get(media))
            .route("/static/time.js", get(time_js))
            .route("/api/salmon/{name}", post(salmon))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .with_state(self.clone())
            .merge(ostatus_webfinger::axum::router(webfinger))
            .merge(ostatus_portable_contacts::axum::router(
                "/poco/{name}",
                Contacts(self.clone()),
            ))
            .merge({
                // A delivery is answered 2xx once it is stored; when the
                // database fails, 503, and the hub delivers it again.
                let node = self.clone();
                ostatus_websub::axum::subscriber_router(
                    self.subscriber.clone(),
                    move |ev| {
                        let node = node.clone();
                        async move { node.on_websub_event(ev).await }
                    },
                    4 << 20,
                )
            });
        if let Some(hub) = &self.hub {
            app = app.merge(ostatus_websub::hub_runtime::router("/api/push", hub.clone()));
        }
        // What a request wrote is durable before it is acknowledged.
        app.layer(axum::middleware::from_fn_with_state(self.clone(), durable_writes))
    }
}

/// Answers a request that may have written (anything but GET and HEAD)
/// only once its writes are durable: with group commit, many requests
/// share one sync of the log ([`super::db::Db::durable`]). If the sync
/// fails, 503: the peer or user tries again.
async fn durable_writes(State(node): Shared, req: Request, next: axum::middleware::Next) -> Response {
    let writes = !matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    let resp = next.run(req).await;
    if !writes {
        return resp;
    }
    match node.db().durable().await {
        Ok(()) => resp,
        Err(e) => {
            tracing::error!(error = %e, "a write could not be made durable");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server could not store this durably; try again".into(),
            )
        }
    }
}

async fn index(State(node): Shared, headers: HeaderMap) -> Response {
    let v = viewer(&node, &headers);
    match pages::index(&node, &v) {
        Ok(p) => html(StatusCode::OK, p),
        Err(e) => error_page(&node, &v, &e),
    }
}

fn max_id(q: &HashMap<String, String>) -> Result<Option<i64>, NodeError> {
    q.get("max_id")
        .map(|m| {
            m.parse()
                .map_err(|_| NodeError::Invalid("max_id must be a number".into()))
        })
        .transpose()
}

async fn user_page(
    State(node): Shared,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let v = viewer(&node, &headers);
    if let Some(name) = name.strip_suffix(".atom") {
        let feed = max_id(&q).and_then(|m| {
            let key = Key::Feed {
                user: name.to_owned(),
                max_id: m,
            };
            node.rendered(key, || node.feed(name, m).map(|f| atom_doc(f.to_xml())))
        });
        return match feed {
            Ok(feed) => {
                let mut r = atom_cached(&headers, &feed);
                if let (Ok(hub), Ok(link)) = (
                    node.hub_url(),
                    url::Url::parse(&format!("{}.atom", node.user_uri(name))),
                ) {
                    r.headers_mut()
                        .insert("link", ostatus_websub::link_header(&[hub], &link));
                }
                r
            }
            Err(e) => text(status_of(&e), e.to_string()),
        };
    }
    let key = page_key(format!("/users/{name}"), &v);
    match node.rendered(key, || {
        node.user(&name)
            .and_then(|u| pages::profile(&node, &u, &v))
            .map(page_doc)
    }) {
        Ok(p) => html(StatusCode::OK, p.body.clone()),
        Err(e) => error_page(&node, &v, &e),
    }
}

/// The cache key of a page as `viewer` sees it (pages embed the viewer's
/// CSRF token).
fn page_key(path: String, viewer: &Viewer) -> Key {
    Key::Page {
        path,
        viewer: viewer.as_ref().map(|(u, csrf)| (u.id, csrf.clone())),
    }
}

async fn status_page(
    State(node): Shared,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let v = viewer(&node, &headers);
    let (id, as_atom) = match id.strip_suffix(".atom") {
        Some(i) => (i.to_owned(), true),
        None => (id, false),
    };
    let uri = format!("{}/updates/{id}", node.user_uri(&name));
    let found = node
        .db()
        .status(&uri)
        .map_err(NodeError::from)
        .and_then(|s| s.ok_or_else(|| NodeError::NotFound(uri.clone())));
    let s = match found {
        Ok(s) => s,
        Err(e) if as_atom => return text(status_of(&e), e.to_string()),
        Err(e) => return error_page(&node, &v, &e),
    };
    if as_atom {
        // The Atom of a status is public: only world-readable ones.
        if !s.visibility.is_world_readable() {
            return text(StatusCode::NOT_FOUND, format!("no status {uri}"));
        }
        return match node.rendered(Key::Entry(s.uri.clone()), || {
            node.entry(&s).map(|e| atom_doc(e.to_xml()))
        }) {
            Ok(e) => atom_cached(&headers, &e),
            Err(e) => text(status_of(&e), e.to_string()),
        };
    }
    let back = format!("/users/{name}/updates/{id}");
    match node.rendered(page_key(back.clone(), &v), || {
        pages::thread(&node, &s, &v, &back).map(page_doc)
    }) {
        Ok(p) => {
            let mut r = html(StatusCode::OK, p.body.clone());
            // Where peers find the status as Atom (a reply's missing
            // parent is fetched this way, as Mastodon and GNU social did).
            if s.visibility.is_world_readable()
                && let Ok(link) = http::HeaderValue::from_str(&format!(
                    "<{}.atom>; rel=\"alternate\"; type=\"application/atom+xml\"",
                    s.uri
                ))
            {
                r.headers_mut().insert(http::header::LINK, link);
            }
            r
        }
        Err(e) => error_page(&node, &v, &e),
    }
}

async fn tag_page(State(node): Shared, Path(tag): Path<String>, headers: HeaderMap) -> Response {
    let v = viewer(&node, &headers);
    match node.rendered(page_key(format!("/tags/{tag}"), &v), || {
        pages::tag(&node, &tag, &v).map(page_doc)
    }) {
        Ok(p) => html(StatusCode::OK, p.body.clone()),
        Err(e) => error_page(&node, &v, &e),
    }
}

async fn thread_page(
    State(node): Shared,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let v = viewer(&node, &headers);
    let uri = q.get("uri").cloned().unwrap_or_default();
    let found = node
        .db()
        .status(&uri)
        .map_err(NodeError::from)
        .and_then(|s| s.ok_or_else(|| NodeError::NotFound(uri.clone())));
    let back = format!(
        "/thread?uri={}",
        percent_encoding::utf8_percent_encode(&uri, percent_encoding::NON_ALPHANUMERIC)
    );
    let thread = found.and_then(|s| {
        node.rendered(page_key(back.clone(), &v), || {
            pages::thread(&node, &s, &v, &back).map(page_doc)
        })
    });
    match thread {
        Ok(p) => html(StatusCode::OK, p.body.clone()),
        Err(e) => error_page(&node, &v, &e),
    }
}

async fn home(State(node): Shared, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let v = viewer(&node, &headers);
    let Some((user, csrf)) = v.clone() else {
        return see_other("/login?next=/home");
    };
    let page = match q.get("error") {
        // An error message is shown once: not kept.
        Some(error) => pages::home(&node, &user, &csrf, &v, Some(error)),
        None => node
            .rendered(page_key("/home".into(), &v), || {
                pages::home(&node, &user, &csrf, &v, None).map(page_doc)
            })
            .map(|p| p.body.clone()),
    };
    match page {
        Ok(p) => html(StatusCode::OK, p),
        Err(e) => error_page(&node, &v, &e),
    }
}

async fn public_page(
    node: Arc<Node>,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    local_only: bool,
) -> Response {
    let v = viewer(&node, headers);
    let page = max_id(q).and_then(|max| {
        let path = if local_only { "/public/local" } else { "/public" };
        node.rendered(page_key(format!("{path}?{max:?}"), &v), || {
            pages::public_timeline(&node, local_only, max, &v).map(page_doc)
        })
    });
    match page {
        Ok(p) => html(StatusCode::OK, p.body.clone()),
        Err(e) => error_page(&node, &v, &e),
    }
}

async fn federated_timeline(
    State(node): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    public_page(node, &headers, &q, false).await
}

async fn local_timeline(
    State(node): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    public_page(node, &headers, &q, true).await
}

async fn notifications_page(
    State(node): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let v = viewer(&node, &headers);
    let Some((user, _)) = v.clone() else {
        return see_other("/login?next=/notifications");
    };
    let page = max_id(&q).and_then(|max| {
        node.rendered(page_key(format!("/notifications?{max:?}"), &v), || {
            pages::notifications(&node, &user, max, &v).map(page_doc)
        })
    });
    match page {
        Ok(p) => html(StatusCode::OK, p.body.clone()),
        Err(e) => error_page(&node, &v, &e),
    }
}

/// A stored media file (an avatar), by the name this node gave it: served
/// with the type it was checked to be, never sniffed, and cached for a
/// year (the name is the content's digest, so it never changes).
async fn media(State(node): Shared, Path(file): Path<String>) -> Response {
    let Some(media_type) = super::media_type_of(&file) else {
        return text(StatusCode::NOT_FOUND, format!("no media file {file:?}"));
    };
    let path = node.media_dir().join(&file);
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, media_type),
                (http::header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        _ => text(StatusCode::NOT_FOUND, format!("no media file {file:?}")),
    }
}

/// A `multipart/form-data` form read whole: its text fields, and the
/// non-empty files of the file inputs named in `files` (a file input left
/// empty sends an empty part), in order.
async fn read_multipart(
    mut parts: axum::extract::Multipart,
    files: &[&str],
    what: &str,
) -> Result<(HashMap<String, String>, Vec<(String, Vec<u8>)>), Response> {
    let mut fields = HashMap::new();
    let mut uploads = Vec::new();
    loop {
        let field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(text(e.status(), format!("the {what} form: {}", e.body_text()))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(text(e.status(), format!("the {what} form: {}", e.body_text()))),
        };
        if files.contains(&name.as_str()) {
            if !bytes.is_empty() {
                uploads.push((name, bytes.to_vec()));
            }
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok((fields, uploads))
}

/// The profile form (`multipart/form-data`): display name, biography and
/// an avatar file, with the session's CSRF token.
async fn profile_form(State(node): Shared, headers: HeaderMap, parts: axum::extract::Multipart) -> Response {
    let v = viewer(&node, &headers);
    let (mut fields, files) = match read_multipart(parts, &["avatar"], "profile").await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let Some(user) = authorised(&node, &headers, &fields) else {
        return text(
            StatusCode::FORBIDDEN,
            "log in first (or the form's CSRF token is stale)".into(),
        );
    };
    let change = super::ProfileChange {
        display_name: fields.remove("display_name"),
        bio: fields.remove("bio"),
        avatar: files.into_iter().next().map(|(_, bytes)| bytes),
    };
    match node.update_profile(&user, change).await {
        Ok(_) => see_other("/home"),
        Err(e) => error_page(&node, &v, &e),
    }
}

/// The compose form (`multipart/form-data`): a status's text, content
/// warning, visibility and sensitive flag, and up to
/// [`super::MAX_ATTACHMENTS`] files in `attach` inputs.
async fn compose_form(State(node): Shared, headers: HeaderMap, parts: axum::extract::Multipart) -> Response {
    let (fields, files) = match read_multipart(parts, &["attach"], "compose").await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let Some(user) = authorised(&node, &headers, &fields) else {
        return text(
            StatusCode::FORBIDDEN,
            "log in first (or the form's CSRF token is stale)".into(),
        );
    };
    let back = fields.get("back").map_or("/home", String::as_str).to_owned();
    let files = files.into_iter().map(|(_, bytes)| bytes).collect();
    post_form(&node, &headers, &user, &fields, files, &back).await
}

/// Posts what a form says (text, `in_reply_to`, `visibility`, `cw`,
/// `sensitive`) with `files` attached; back to `back`, or the home page
/// with a note when some addressed people did not get it.
async fn post_form(
    node: &Arc<Node>,
    headers: &HeaderMap,
    user: &super::db::User,
    f: &HashMap<String, String>,
    files: Vec<Vec<u8>>,
    back: &str,
) -> Response {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or_default().to_owned();
    let visibility = match f.get("visibility").filter(|v| !v.is_empty()) {
        None => Ok(Visibility::Public),
        Some(v) => Visibility::parse(v).ok_or_else(|| {
            NodeError::Invalid(format!("visibility {v:?}: public, unlisted, private or direct"))
        }),
    };
    let posted = match visibility {
        Ok(visibility) => {
            let draft = super::Draft {
                in_reply_to: f.get("in_reply_to").filter(|p| !p.is_empty()).cloned(),
                visibility,
                content_warning: Some(field("cw")),
                sensitive: f.get("sensitive").is_some_and(|s| !s.is_empty()),
                attachments: files,
                ..super::Draft::new(field("text"))
            };
            node.post_draft(user, draft).await
        }
        Err(e) => Err(e),
    };
    let v = viewer(node, headers);
    match posted {
        Ok(p) if !p.withheld.is_empty() => {
            // Posted, but some of the people it names did not get it: say
            // so rather than let the poster believe they did.
            let csrf = v.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
            let note = format!(
                "Posted ({}), but not sent to {}: their server does not honour private posts.",
                p.status.visibility.as_str(),
                p.withheld.join(", ")
            );
            match pages::home(node, user, &csrf, &v, Some(&note)) {
                Ok(page) => html(StatusCode::OK, page),
                Err(e) => error_page(node, &v, &e),
            }
        }
        Ok(_) => see_other(back),
        Err(e) => error_page(node, &v, &e),
    }
}

async fn login_form(State(node): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let next = q.get("next").map_or("/home", String::as_str);
    html(StatusCode::OK, pages::login(&node, next, None))
}

async fn login(State(node): Shared, body: Bytes) -> Response {
    let f = form(&body);
    let next = f.get("next").map_or("/home", String::as_str).to_owned();
    let user = f.get("username").and_then(|u| node.db().user(u).ok().flatten());
    let ok = match (&user, f.get("password")) {
        (Some(u), Some(p)) => u.password.as_deref().is_some_and(|h| check_password(h, p)),
        _ => false,
    };
    let Some(user) = user.filter(|_| ok) else {
        return html(
            StatusCode::UNAUTHORIZED,
            pages::login(&node, &next, Some("Wrong username or password.")),
        );
    };
    // A hash of an earlier version (PBKDF2) is replaced by an Argon2id one
    // now that the password is known to be right.
    if let (Some(stored), Some(p)) = (user.password.as_deref(), f.get("password"))
        && super::auth::needs_rehash(stored)
        && let Ok(h) = super::auth::hash_password(p)
        && let Err(e) = node.db().set_password(user.id, &h)
    {
        tracing::warn!(error = %e, "upgrading a password hash failed");
    }
    let (Ok(t), Ok(csrf)) = (token(), token()) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "no randomness".into());
    };
    let now = super::now_secs();
    if let Err(e) = node
        .db()
        .create_session(&t, user.id, &csrf, now, now + SESSION_SECS)
    {
        return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    let mut r = see_other(&next);
    let secure = if node.config().insecure { "" } else { "; Secure" };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={t}; Path=/; Max-Age={SESSION_SECS}; HttpOnly; SameSite=Lax{secure}"
    )) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

/// The session's user, if the form's CSRF token matches.
fn authorised(node: &Node, headers: &HeaderMap, f: &HashMap<String, String>) -> Option<super::db::User> {
    let (user, csrf) = viewer(node, headers)?;
    same_token(&csrf, f.get("csrf")?).then_some(user)
}

async fn logout(State(node): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    if authorised(&node, &headers, &f).is_some()
        && let Some(t) = session_token(&headers)
    {
        let _ = node.db().delete_session(&t);
    }
    let mut r = see_other("/");
    r.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("ostatus_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
    r
}

async fn authorize_follow(
    State(node): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let v = viewer(&node, &headers);
    let acct = q.get("acct").cloned().unwrap_or_default();
    let acct = acct.strip_prefix("acct:").unwrap_or(&acct).to_owned();
    match &v {
        Some((_, csrf)) => html(StatusCode::OK, pages::authorize_follow(&node, &acct, csrf, &v)),
        None => {
            let next = format!(
                "/authorize_follow?acct={}",
                percent_encoding::utf8_percent_encode(&acct, percent_encoding::NON_ALPHANUMERIC)
            );
            html(StatusCode::OK, pages::login(&node, &next, None))
        }
    }
}

async fn remote_follow_form(State(node): Shared, Path(name): Path<String>) -> Response {
    match node.user(&name) {
        Ok(u) => html(StatusCode::OK, pages::remote_follow(&node, &u, None)),
        Err(e) => error_page(&node, &None, &e),
    }
}

/// The visitor's server's subscribe template, filled with this user.
async fn remote_follow(State(node): Shared, Path(name): Path<String>, body: Bytes) -> Response {
    let user = match node.user(&name) {
        Ok(u) => u,
        Err(e) => return error_page(&node, &None, &e),
    };
    let f = form(&body);
    let visitor = f
        .get("acct")
        .map(String::as_str)
        .unwrap_or_default()
        .trim()
        .trim_start_matches('@');
    let fail = |m: String| {
        html(
            StatusCode::BAD_REQUEST,
            pages::remote_follow(&node, &user, Some(&m)),
        )
    };
    let resource = match Resource::parse_lenient(visitor) {
        Ok(r) => r,
        Err(e) => return fail(format!("{visitor:?}: {e}")),
    };
    let found = match node.webfinger.resolve(&resource).await {
        Ok(f) => f,
        Err(e) => return fail(format!("{visitor}: {e}")),
    };
    let Some(template) = found
        .descriptor
        .link(&Rel::OStatusSubscribe)
        .and_then(|l| l.template.clone())
    else {
        return fail(format!("{visitor}'s server has no remote-follow page"));
    };
    let me = match ostatus_webfinger::Acct::parse(&node.user_acct(&user.username)) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    match ostatus_webfinger::expand_subscribe_template(&template, &me) {
        Ok(to) => (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response(),
        Err(e) => fail(e.to_string()),
    }
}

/// Liveness: the process answers (200 `ok`).
async fn healthz() -> Response {
    text(StatusCode::OK, "ok".into())
}

/// Readiness: the database answers (200 `ready`), else 503 with the reason.
async fn readyz(State(node): Shared) -> Response {
    match node.db().ping() {
        Ok(()) => text(StatusCode::OK, "ready".into()),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}")),
    }
}

/// The forms' actions.
async fn act(State(node): Shared, Path(action): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let Some(user) = authorised(&node, &headers, &f) else {
        return text(
            StatusCode::FORBIDDEN,
            "log in first (or the form's CSRF token is stale)".into(),
        );
    };
    let back = f.get("back").map_or("/home", String::as_str).to_owned();
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or_default().to_owned();
    let done = match action.as_str() {
        "post" => return post_form(&node, &headers, &user, &f, Vec::new(), &back).await,
        "follow" => node.follow(&user, &field("acct")).await.map(drop),
        "unfollow" => node.unfollow(&user, &field("acct")).await.map(drop),
        "favourite" => node.favourite(&user, &field("status"), true).await,
        "unfavourite" => node.favourite(&user, &field("status"), false).await,
        "share" => node.share(&user, &field("status")).await.map(drop),
        "delete" => node.delete(&user, &field("status")).await,
        "block" => node.block(&user, &field("acct")).await.map(drop),
        "unblock" => node.unblock(&user, &field("acct")).await.map(drop),
        "authorize" => node
            .answer_follow_request(&user, &field("acct"), true)
            .await
            .map(drop),
        "reject" => node
            .answer_follow_request(&user, &field("acct"), false)
            .await
            .map(drop),
        "lock" => node.set_locked(&user, true).await,
        "unlock" => node.set_locked(&user, false).await,
        other => Err(NodeError::NotFound(format!("action {other}"))),
    };
    match done {
        Ok(()) => see_other(&back),
        Err(e) => {
            let v = viewer(&node, &headers);
            error_page(&node, &v, &e)
        }
    }
}

/// A user's Salmon endpoint: 202 for a verified slap that was applied,
/// 4xx with the reason otherwise (INTEROP §1: never 2xx unverified).
async fn salmon(State(node): Shared, Path(name): Path<String>, req: Request) -> Response {
    let counts = node.clone();
    let resp = salmon_slap(node, name, req).await;
    let counter = if resp.status().is_success() {
        &counts.slaps_accepted
    } else {
        &counts.slaps_refused
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    resp
}

async fn salmon_slap(node: Arc<Node>, name: String, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ostatus_websub::axum::unreadable_body(&parts.headers, MAX_BODY, "salmon");
    };
    match node.user_exists(&name) {
        Ok(true) => {}
        Ok(false) => return text(StatusCode::NOT_FOUND, format!("no user {name}")),
        Err(e) => return text(status_of(&e), e.to_string()),
    }
    if !ostatus_salmon::acceptable_content_type(parts.headers.get(http::header::CONTENT_TYPE)) {
        let got = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("salmon: content type must be application/magic-envelope+xml, got {got:?}"),
        );
    }
    // The envelope is parsed and its payload decoded once; the signer is
    // named once, by the reader every later step uses (SAL-RCV-11).
    let incoming = match Incoming::parse(&bytes) {
        Ok(i) => i,
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    // Rate limit by the signer's host, whatever form its URI takes, before
    // any key lookup.
    let host = incoming.signer.host().to_owned();
    if !node.slap_allowed(&host) {
        let mut r = text(
            StatusCode::TOO_MANY_REQUESTS,
            format!("salmon: too many slaps from {host}; try again in a minute"),
        );
        r.headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    // Nothing from a blocked domain is looked up or applied.
    if node.db().domain_blocked(&host).unwrap_or(false) {
        return text(StatusCode::FORBIDDEN, format!("salmon: {host} is blocked here"));
    }
    // Friendica and StatusNet peers sign the legacy data-only form and
    // some with keys under 1024 bits (SECURITY.md): accepted on input,
    // never used by this node.
    let mut config = EndpointConfig::default();
    config.verify = VerifyOptions::legacy();
    let endpoint = Endpoint::with_config(node.keys(), config);
    let verifying = std::time::Instant::now();
    let received = endpoint.receive_incoming(incoming).await;
    super::add_micros(&node.slap_verify_micros, verifying.elapsed());
    let slap = match received {
        Ok(slap) => slap,
        Err(e) => return text(e.status(), e.to_string()),
    };
    // The database work goes to the node's slap writer; the runtime's
    // threads go on reading and verifying other slaps meanwhile.
    let applied = node.apply_verified_slap(name, slap).await;
    match applied {
        Ok(after) => {
            if let Some(after) = after {
                tokio::spawn(async move { node.after_slap(after).await });
            }
            text(StatusCode::ACCEPTED, "accepted".into())
        }
        Err(e) => text(status_of(&e), e.to_string()),
    }
}
