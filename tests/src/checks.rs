//! The checks.

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Request, Response};
use ostatus_activitystreams::Feed;
use ostatus_portable_contacts::Response as PocoResponse;
use ostatus_salmon::{Envelope, PrivateKey};
use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::resolver::FetchError;
use ostatus_webfinger::{Descriptor, NetPolicy, Rel, expand_template};
use url::Url;

use crate::report::Report;
use crate::{CheckResult, Level, Outcome, Protocol, REQUEST_TIMEOUT, Target};

/// Runs checks against a server.
pub struct Checker {
    client: Client,
    callback_listen: Option<std::net::SocketAddr>,
    callback_base: Option<Url>,
    hub_wait: std::time::Duration,
    subscribe_hook: Option<crate::subscriber::SubscribeHook>,
}

/// What the checker serves on `--callback-listen` for the hub and
/// subscriber checks, or why it cannot.
struct Served {
    hub: Result<crate::hub::HubTests, String>,
    subscriber: Result<crate::subscriber::SubscriberTests, String>,
    account: Result<std::sync::Arc<crate::account::CheckerAccount>, String>,
}

impl Served {
    fn failed(why: String) -> Self {
        Self {
            hub: Err(why.clone()),
            subscriber: Err(why.clone()),
            account: Err(why),
        }
    }
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("client", &self.client)
            .field("callback_listen", &self.callback_listen)
            .field("callback_base", &self.callback_base)
            .field("hub_wait", &self.hub_wait)
            .field("subscribe_hook", &self.subscribe_hook.is_some())
            .finish()
    }
}

/// One exchange, for the report.
struct Exchange {
    sent: String,
    resp: Result<Response<Vec<u8>>, FetchError>,
}

impl Exchange {
    fn status(&self) -> Option<u16> {
        self.resp.as_ref().ok().map(|r| r.status().as_u16())
    }

    fn header(&self, name: &str) -> Option<String> {
        self.resp
            .as_ref()
            .ok()
            .and_then(|r| r.headers().get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    fn body(&self) -> &[u8] {
        self.resp
            .as_ref()
            .map(|r| r.body().as_slice())
            .unwrap_or_default()
    }

    fn received(&self) -> Vec<String> {
        match &self.resp {
            Err(e) => vec![format!("error: {e}")],
            Ok(r) => {
                let mut v = vec![format!("HTTP {}", r.status())];
                for h in ["content-type", "access-control-allow-origin", "location", "link"] {
                    if let Some(x) = r.headers().get(h).and_then(|x| x.to_str().ok()) {
                        v.push(format!("{h}: {x}"));
                    }
                }
                let body = String::from_utf8_lossy(r.body());
                let excerpt: String = body.chars().take(300).collect();
                if !excerpt.is_empty() {
                    v.push(excerpt);
                }
                v
            }
        }
    }
}

struct Ctx<'a> {
    report: &'a mut Report,
    progress: &'a mut dyn FnMut(&CheckResult),
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        protocol: Protocol,
        id: &'static str,
        level: Level,
        title: &'static str,
        outcome: Outcome,
        ex: Option<&Exchange>,
    ) {
        let r = CheckResult {
            id,
            protocol,
            level,
            title,
            outcome,
            sent: ex.map(|e| vec![e.sent.clone()]).unwrap_or_default(),
            received: ex.map(Exchange::received).unwrap_or_default(),
        };
        (self.progress)(&r);
        self.report.results.push(r);
    }
}

fn pass_if(ok: bool, why: impl FnOnce() -> String) -> Outcome {
    if ok { Outcome::Pass } else { Outcome::Fail(why()) }
}

fn is_jrd_type(ct: Option<&str>) -> bool {
    ct.and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/jrd+json"))
}

fn enc(s: &str) -> String {
    expand_template("{uri}", s).unwrap_or_default()
}

impl Checker {
    /// A checker. With `insecure`, plain http and loopback/private addresses
    /// may be checked (local testing); without it both are refused.
    ///
    /// # Errors
    ///
    /// A message when the HTTP client cannot be built.
    pub fn new(insecure: bool) -> Result<Self, String> {
        let mut cfg = ClientConfig::default();
        cfg.timeout = REQUEST_TIMEOUT;
        cfg.max_body = 4 << 20;
        if insecure {
            cfg.net = NetPolicy::dangerous_allow_http_and_private();
        }
        Ok(Self {
            client: Client::new(cfg).map_err(|e| e.to_string())?,
            callback_listen: None,
            callback_base: None,
            hub_wait: std::time::Duration::from_secs(15),
            subscribe_hook: None,
        })
    }

    /// Where the checker serves the topics and subscriber callbacks of the
    /// hub checks; the hub must be able to reach this address over plain
    /// http (so these checks run against hubs that allow it, such as
    /// `ostatus-server hub --insecure`).
    #[must_use]
    pub fn with_callback_listen(mut self, addr: std::net::SocketAddr) -> Self {
        self.callback_listen = Some(addr);
        self
    }

    /// The public URL (scheme, host and port; the routes are served at its
    /// root) at which the peers reach the `--callback-listen` address, when
    /// it is not `http://ADDR` (a checker behind a reverse proxy or a
    /// tunnel, say).
    #[must_use]
    pub fn with_callback_base(mut self, base: Url) -> Self {
        self.callback_base = Some(base);
        self
    }

    /// How long the hub checks wait for a verification or a delivery, and
    /// for its absence after an unsubscription (default 15 s, as websub.rocks).
    #[must_use]
    pub fn with_hub_wait(mut self, wait: std::time::Duration) -> Self {
        self.hub_wait = wait;
        self
    }

    /// How the subscriber checks ask the subscriber under test to
    /// subscribe to each of their topics (see
    /// [`subscribe_command`](crate::subscribe_command)). The checker serves
    /// the topics and their hub on the `--callback-listen` address, on a
    /// port of its own.
    #[must_use]
    pub fn with_subscribe_hook(mut self, hook: crate::subscriber::SubscribeHook) -> Self {
        self.subscribe_hook = Some(hook);
        self
    }

    async fn send(&self, req: Request<Vec<u8>>) -> Exchange {
        let sent = format!("{} {}", req.method(), req.uri());
        Exchange {
            sent,
            resp: self.client.send(req).await,
        }
    }

    async fn get(&self, url: &str, accept: Option<&str>) -> Exchange {
        let mut b = Request::get(url);
        if let Some(a) = accept {
            b = b.header(ACCEPT, a);
        }
        match b.body(Vec::new()) {
            Ok(req) => self.send(req).await,
            Err(e) => Exchange {
                sent: format!("GET {url}"),
                resp: Err(FetchError::InvalidUrl(e.to_string())),
            },
        }
    }

    /// Runs the checks of the selected protocols; `progress` sees each
    /// result as it is decided.
    pub async fn run(
        &self,
        target: &Target,
        only: &[Protocol],
        mut progress: impl FnMut(&CheckResult),
    ) -> Report {
        let mut report = Report {
            target: target
                .acct
                .as_ref()
                .map_or_else(|| target.base.to_string(), ToString::to_string),
            ..Report::default()
        };
        let mut ctx = Ctx {
            report: &mut report,
            progress: &mut progress,
        };
        let base = target.base.as_str().trim_end_matches('/').to_owned();
        let wanted = |p: Protocol| only.contains(&p);
        let descriptor = self
            .webfinger(&mut ctx, target, &base, wanted(Protocol::Webfinger))
            .await;
        if wanted(Protocol::Hostmeta) {
            self.host_meta(&mut ctx, target, &base).await;
        }
        if wanted(Protocol::Feed) {
            self.feed(&mut ctx, descriptor.as_ref()).await;
        }
        let served = self
            .serve_callbacks(
                wanted(Protocol::Hub) || wanted(Protocol::Subscriber) || wanted(Protocol::Salmon),
            )
            .await;
        if wanted(Protocol::Salmon) {
            self.salmon(&mut ctx, descriptor.as_ref(), served.as_ref().map(|s| &s.account))
                .await;
        }
        if wanted(Protocol::Hub) {
            self.hub(
                &mut ctx,
                descriptor.as_ref(),
                &base,
                served.as_ref().map(|s| &s.hub),
            )
            .await;
        }
        if wanted(Protocol::Subscriber) {
            self.subscriber(&mut ctx, served.as_ref().map(|s| &s.subscriber))
                .await;
        }
        if wanted(Protocol::Poco) {
            self.poco(&mut ctx, descriptor.as_ref(), &base).await;
        }
        report
    }

    /// Serves the hub and subscriber checks' topics, callbacks and hub on
    /// one listener at `--callback-listen`.
    async fn serve_callbacks(&self, needed: bool) -> Option<Served> {
        let listen = self.callback_listen.filter(|_| needed)?;
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => return Some(Served::failed(format!("cannot listen on {listen}: {e}"))),
        };
        let base = match (&self.callback_base, listener.local_addr()) {
            (Some(b), _) => b.as_str().trim_end_matches('/').to_owned(),
            (None, Ok(local)) => format!("http://{local}"),
            (None, Err(e)) => return Some(Served::failed(e.to_string())),
        };
        let mut app = axum::Router::new();
        let hub = crate::hub::HubTests::new(&base, self.hub_wait).map(|(t, r)| {
            app = std::mem::take(&mut app).merge(r);
            t
        });
        let subscriber = match self.subscribe_hook.clone() {
            Some(hook) => {
                let (t, r) = crate::subscriber::SubscriberTests::new(&base, hook, self.hub_wait);
                app = app.merge(r);
                Ok(t)
            }
            None => Err("needs --subscribe-command CMD (how to make the subscriber subscribe)".to_owned()),
        };
        let account = crate::account::CheckerAccount::new(&base).inspect(|a| {
            app = std::mem::take(&mut app).merge(a.router());
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(Served {
            hub,
            subscriber,
            account,
        })
    }

    /// websub.rocks hub tests 100–106 against the account feed's hub, or
    /// the target URL itself when there is no account.
    async fn hub(
        &self,
        ctx: &mut Ctx<'_>,
        descriptor: Option<&Descriptor>,
        base: &str,
        served: Option<&Result<crate::hub::HubTests, String>>,
    ) {
        const TESTS: [(u32, &str, &str); 7] = [
            (
                100,
                "WS-HUB-01",
                "hub 100: subscription answered 202, verified with a lease, one unsigned delivery",
            ),
            (
                101,
                "WS-HUB-19",
                "hub 101: a subscription with a secret gets signed deliveries",
            ),
            (102, "WS-HUB-02", "hub 102: unknown parameters are ignored"),
            (
                103,
                "WS-HUB-03",
                "hub 103: a re-subscription replaces the subscription (one delivery)",
            ),
            (104, "WS-HUB-04", "hub 104: unsubscription stops deliveries"),
            (
                105,
                "WS-HUB-15",
                "hub 105: a text/plain topic is delivered verbatim",
            ),
            (106, "WS-HUB-15.2", "hub 106: a JSON topic is delivered verbatim"),
        ];
        let skip = |ctx: &mut Ctx<'_>, why: String| {
            for (_, id, title) in TESTS {
                ctx.record(
                    Protocol::Hub,
                    id,
                    Level::Must,
                    title,
                    Outcome::Skip(why.clone()),
                    None,
                );
            }
        };
        let tests = match served {
            None => {
                skip(
                    ctx,
                    "needs --callback-listen ADDR (the checker serves topics and callbacks)".into(),
                );
                return;
            }
            Some(Err(e)) => {
                skip(ctx, e.clone());
                return;
            }
            Some(Ok(t)) => t,
        };
        let hub = match descriptor {
            Some(d) => match d.href(&Rel::UpdatesFrom) {
                Some(feed) => {
                    let ex = self.get(feed, Some("application/atom+xml")).await;
                    Feed::parse(ex.body())
                        .ok()
                        .and_then(|f| f.links.iter().find(|l| l.rel == "hub").map(|l| l.href.clone()))
                }
                None => None,
            },
            None => Some(base.to_owned()),
        };
        let Some(hub) = hub else {
            skip(ctx, "the account's feed names no hub".into());
            return;
        };
        tests.set_hub(&hub);
        for (n, id, title) in TESTS {
            let outcome = match tests.run(n).await {
                Ok(()) => Outcome::Pass,
                Err(why) => Outcome::Fail(why),
            };
            ctx.record(Protocol::Hub, id, Level::Must, title, outcome, None);
        }
    }

    /// websub.rocks subscriber tests 100–104, 200–205 and 300–302.
    async fn subscriber(
        &self,
        ctx: &mut Ctx<'_>,
        served: Option<&Result<crate::subscriber::SubscriberTests, String>>,
    ) {
        const TESTS: [(u32, &str, Level, &str); 14] = [
            (
                100,
                "WS-SUB-01",
                Level::Must,
                "subscriber 100: discovery from HTTP Link headers",
            ),
            (
                101,
                "WS-SUB-01.2",
                Level::Must,
                "subscriber 101: discovery from HTML <link> tags",
            ),
            (
                102,
                "WS-SUB-01.3",
                Level::Must,
                "subscriber 102: discovery in an Atom feed served as text/xml",
            ),
            (
                103,
                "WS-SUB-01.4",
                Level::Must,
                "subscriber 103: discovery in an RSS feed served as text/xml",
            ),
            (
                104,
                "WS-SUB-01.5",
                Level::Must,
                "subscriber 104: Link headers take priority over the body",
            ),
            (
                200,
                "WS-SUB-04",
                Level::Must,
                "subscriber 200: hub.topic is the advertised rel=self",
            ),
            (
                201,
                "WS-SUB-04.2",
                Level::Must,
                "subscriber 201: a topic redirected with 302",
            ),
            (
                202,
                "WS-SUB-04.3",
                Level::Must,
                "subscriber 202: a topic redirected with 301",
            ),
            (
                203,
                "WS-SUB-08",
                Level::Should,
                "subscriber 203: a hub redirecting with 307",
            ),
            (
                204,
                "WS-SUB-08.2",
                Level::Should,
                "subscriber 204: a hub redirecting with 308",
            ),
            (
                205,
                "WS-SUB-09",
                Level::Must,
                "subscriber 205: a verification for a topic it did not ask for gets 404",
            ),
            (
                300,
                "WS-SUB-13",
                Level::Must,
                "subscriber 300: a delivery is acknowledged with 2xx",
            ),
            (
                301,
                "WS-SUB-16",
                Level::Should,
                "subscriber 301: a delivery with a wrong signature is refused",
            ),
            (
                302,
                "WS-SUB-17",
                Level::Must,
                "subscriber 302: an unsigned delivery to a subscription with a secret is refused",
            ),
        ];
        let skip = |ctx: &mut Ctx<'_>, why: &str| {
            for (_, id, level, title) in TESTS {
                ctx.record(
                    Protocol::Subscriber,
                    id,
                    level,
                    title,
                    Outcome::Skip(why.to_owned()),
                    None,
                );
            }
        };
        let tests = match served {
            None => {
                skip(
                    ctx,
                    "needs --callback-listen ADDR and --subscribe-command CMD (how to make the subscriber subscribe)",
                );
                return;
            }
            Some(Err(e)) => {
                skip(ctx, e);
                return;
            }
            Some(Ok(t)) => t,
        };
        for (n, id, level, title) in TESTS {
            let outcome = match tests.run(n).await {
                Ok(()) => Outcome::Pass,
                Err(why) => Outcome::Fail(why),
            };
            ctx.record(Protocol::Subscriber, id, level, title, outcome, None);
        }
    }

    /// WebFinger server checks; returns the account's descriptor when found.
    async fn webfinger(
        &self,
        ctx: &mut Ctx<'_>,
        target: &Target,
        base: &str,
        record: bool,
    ) -> Option<Descriptor> {
        let proto = Protocol::Webfinger;
        let wf = format!("{base}/.well-known/webfinger");
        let Some(acct) = &target.acct else {
            if record {
                ctx.record(
                    proto,
                    "WF-SRV-06",
                    Level::Must,
                    "a known account resolves to a JRD",
                    Outcome::Skip("no account given (use user@host)".into()),
                    None,
                );
            }
            return None;
        };
        let good = self
            .get(&format!("{wf}?resource={}", enc(&acct.to_string())), None)
            .await;
        let descriptor = (good.status() == Some(200))
            .then(|| Descriptor::from_jrd(good.body()).ok())
            .flatten();
        if !record {
            return descriptor;
        }
        ctx.record(
            proto,
            "WF-SRV-06",
            Level::Must,
            "a known account resolves to a JRD (application/jrd+json)",
            pass_if(
                descriptor.is_some() && is_jrd_type(good.header("content-type").as_deref()),
                || {
                    format!(
                        "status {:?}, content type {:?}",
                        good.status(),
                        good.header("content-type")
                    )
                },
            ),
            Some(&good),
        );
        ctx.record(
            proto,
            "WF-SRV-14",
            Level::Must,
            "Access-Control-Allow-Origin is sent",
            pass_if(good.header("access-control-allow-origin").is_some(), || {
                "no Access-Control-Allow-Origin header".into()
            }),
            Some(&good),
        );
        if let Some(d) = &descriptor {
            ctx.record(
                proto,
                "WF-SRV-12",
                Level::Should,
                "the JRD has a subject",
                pass_if(d.subject.is_some(), || "no subject".into()),
                Some(&good),
            );
        }
        let missing = self.get(&wf, None).await;
        ctx.record(
            proto,
            "WF-SRV-04",
            Level::Must,
            "no resource gives 400",
            pass_if(missing.status() == Some(400), || {
                format!("status {:?}", missing.status())
            }),
            Some(&missing),
        );
        let malformed = self
            .get(
                &format!("{wf}?resource==acct%3A{}", enc(&acct.without_scheme())),
                None,
            )
            .await;
        ctx.record(
            proto,
            "WF-SRV-04.2",
            Level::Must,
            "a malformed resource gives 400",
            pass_if(malformed.status() == Some(400), || {
                format!("status {:?}", malformed.status())
            }),
            Some(&malformed),
        );
        let unknown = self
            .get(
                &format!(
                    "{wf}?resource={}",
                    enc(&format!("acct:no-such-user-ostatus-check@{}", acct.host()))
                ),
                None,
            )
            .await;
        ctx.record(
            proto,
            "WF-SRV-05",
            Level::Must,
            "an unknown account gives 404",
            pass_if(unknown.status() == Some(404), || {
                format!("status {:?}", unknown.status())
            }),
            Some(&unknown),
        );
        for (id, r, title) in [
            (
                "WF-SRV-18",
                "mailto:nobody@example.invalid",
                "an unknown mailto: resource gives 404",
            ),
            (
                "WF-SRV-18.2",
                "foo://example.invalid",
                "an unknown foo: resource gives 404",
            ),
        ] {
            let ex = self.get(&format!("{wf}?resource={}", enc(r)), None).await;
            ctx.record(
                proto,
                id,
                Level::Should,
                title,
                pass_if(ex.status() == Some(404), || format!("status {:?}", ex.status())),
                Some(&ex),
            );
        }
        if let Some(d) = &descriptor {
            let rels: Vec<String> = d.links.iter().map(|l| l.rel.to_string()).take(3).collect();
            if rels.len() >= 2 {
                let q = |order: &[String]| {
                    order
                        .iter()
                        .map(|r| format!("&rel={}", enc(r)))
                        .collect::<String>()
                };
                let mut rotated = rels.clone();
                rotated.rotate_left(1);
                let a = self
                    .get(
                        &format!("{wf}?resource={}{}", enc(&acct.to_string()), q(&rels)),
                        None,
                    )
                    .await;
                let b = self
                    .get(
                        &format!("{wf}?resource={}{}", enc(&acct.to_string()), q(&rotated)),
                        None,
                    )
                    .await;
                let da = Descriptor::from_jrd(a.body()).ok();
                let db = Descriptor::from_jrd(b.body()).ok();
                ctx.record(
                    proto,
                    "WF-SRV-03",
                    Level::Must,
                    "rel parameter order does not matter",
                    pass_if(da.is_some() && da == db, || {
                        "rotated rel orders gave different answers".into()
                    }),
                    Some(&b),
                );
                let subset = da
                    .as_ref()
                    .is_some_and(|f| f.links.iter().all(|l| d.links.contains(l)));
                let only_asked = da
                    .as_ref()
                    .is_some_and(|f| f.links.iter().all(|l| rels.contains(&l.rel.to_string())));
                ctx.record(
                    proto,
                    "WF-SRV-09",
                    Level::Should,
                    "rel filtering returns only the requested links",
                    pass_if(subset && only_asked, || {
                        "the filtered answer has other links".into()
                    }),
                    Some(&a),
                );
            }
        }
        descriptor
    }

    async fn host_meta(&self, ctx: &mut Ctx<'_>, target: &Target, base: &str) {
        let proto = Protocol::Hostmeta;
        let hm = self.get(&format!("{base}/.well-known/host-meta"), None).await;
        let doc = (hm.status() == Some(200))
            .then(|| Descriptor::from_xrd(hm.body()).ok())
            .flatten();
        ctx.record(
            proto,
            "HM-SRV-01",
            Level::Must,
            "host-meta is served as an XRD document",
            pass_if(doc.is_some(), || format!("status {:?}, not an XRD", hm.status())),
            Some(&hm),
        );
        let ct = hm.header("content-type").unwrap_or_default();
        ctx.record(
            proto,
            "HM-SRV-02",
            Level::Should,
            "host-meta is served as application/xrd+xml",
            pass_if(ct.starts_with("application/xrd+xml"), || {
                format!("content type {ct:?}")
            }),
            Some(&hm),
        );
        let template = doc
            .as_ref()
            .and_then(|d| d.lrdd_templates().next().map(str::to_owned));
        ctx.record(
            proto,
            "HM-SRV-07",
            Level::Should,
            "host-meta has an lrdd template (OStatus discovery)",
            pass_if(template.is_some(), || "no lrdd template".into()),
            Some(&hm),
        );
        let json = self
            .get(&format!("{base}/.well-known/host-meta.json"), None)
            .await;
        let json_ok = match json.status() {
            Some(200) => {
                Descriptor::from_jrd(json.body()).is_ok()
                    && json
                        .header("content-type")
                        .unwrap_or_default()
                        .starts_with("application/json")
            }
            Some(404) => true,
            _ => false,
        };
        ctx.record(
            proto,
            "HM-SRV-04",
            Level::Should,
            "host-meta.json is JSON (application/json), or 404",
            pass_if(json_ok, || {
                format!(
                    "status {:?}, content type {:?}",
                    json.status(),
                    json.header("content-type")
                )
            }),
            Some(&json),
        );
        match (template, &target.acct) {
            (Some(t), Some(acct)) => {
                let url = expand_template(&t, &acct.to_string()).unwrap_or(t);
                let ex = self.get(&url, Some("application/xrd+xml")).await;
                let d = Descriptor::parse(ex.body(), ex.header("content-type").as_deref()).ok();
                let same = d
                    .as_ref()
                    .and_then(|d| d.subject.as_deref())
                    .and_then(|s| ostatus_webfinger::Acct::parse(s).ok())
                    .is_some_and(|s| s.eq_ignore_user_case(acct));
                ctx.record(
                    proto,
                    "HM-CLI-09",
                    Level::Should,
                    "the LRDD template resolves the account",
                    pass_if(ex.status() == Some(200) && same, || {
                        format!("status {:?}, subject not the account", ex.status())
                    }),
                    Some(&ex),
                );
            }
            _ => ctx.record(
                proto,
                "HM-CLI-09",
                Level::Should,
                "the LRDD template resolves the account",
                Outcome::Skip("no template or no account".into()),
                None,
            ),
        }
    }

    async fn feed(&self, ctx: &mut Ctx<'_>, d: Option<&Descriptor>) {
        let proto = Protocol::Feed;
        let Some(url) = d.and_then(|d| d.href(&Rel::UpdatesFrom)).map(str::to_owned) else {
            ctx.record(
                proto,
                "OST-PUB-11",
                Level::Must,
                "WebFinger links the account's feed (updates-from)",
                Outcome::Fail("no updates-from link (or no WebFinger answer)".into()),
                None,
            );
            return;
        };
        let ex = self.get(&url, Some("application/atom+xml")).await;
        let feed = (ex.status() == Some(200))
            .then(|| Feed::parse(ex.body()))
            .transpose();
        let feed = match feed {
            Ok(Some(f)) => f,
            Ok(None) => {
                ctx.record(
                    proto,
                    "ATOM-PRD-01",
                    Level::Must,
                    "the feed is a well-formed Atom document",
                    Outcome::Fail(format!("status {:?}", ex.status())),
                    Some(&ex),
                );
                return;
            }
            Err(e) => {
                ctx.record(
                    proto,
                    "ATOM-PRD-01",
                    Level::Must,
                    "the feed is a well-formed Atom document",
                    Outcome::Fail(e.to_string()),
                    Some(&ex),
                );
                return;
            }
        };
        ctx.record(
            proto,
            "ATOM-PRD-01",
            Level::Must,
            "the feed is a well-formed Atom document",
            Outcome::Pass,
            Some(&ex),
        );
        ctx.record(
            proto,
            "ATOM-PRD-05",
            Level::Must,
            "the feed has an id, a title and updated",
            pass_if(
                feed.id.is_some() && feed.title.is_some() && feed.updated.is_some(),
                || "id, title or updated missing".into(),
            ),
            Some(&ex),
        );
        ctx.record(
            proto,
            "OST-PUB-07",
            Level::Must,
            "the feed links a hub (rel=hub)",
            pass_if(feed.hubs().next().is_some(), || "no hub link".into()),
            Some(&ex),
        );
        ctx.record(
            proto,
            "WS-PUB-02",
            Level::Should,
            "the feed links itself (rel=self)",
            pass_if(feed.self_link().is_some(), || "no self link".into()),
            Some(&ex),
        );
        ctx.record(
            proto,
            "OST-PUB-07.2",
            Level::Should,
            "the feed links a Salmon endpoint (rel=salmon)",
            pass_if(feed.salmon().is_some(), || "no salmon link".into()),
            Some(&ex),
        );
        let ids_ok = feed.entries.iter().all(|e| e.id.is_some() && e.updated.is_some());
        ctx.record(
            proto,
            "ATOM-PRD-07",
            Level::Must,
            "every entry has an id and updated",
            pass_if(ids_ok, || "an entry lacks id or updated".into()),
            Some(&ex),
        );
        let verbs_ok = feed
            .entries
            .iter()
            .all(|e| e.verb.as_ref().is_some_and(|v| v.iri().contains("://")));
        ctx.record(
            proto,
            "AS-MOD-02",
            Level::Should,
            "every entry has an activity verb as a full IRI",
            pass_if(verbs_ok, || "an entry has no activity:verb or a bare one".into()),
            Some(&ex),
        );
        let authored = feed.owner().is_some() || feed.entries.iter().all(|e| e.actor().is_some());
        ctx.record(
            proto,
            "OST-PUB-04",
            Level::Must,
            "the feed or each entry names its author",
            pass_if(authored, || "no author".into()),
            Some(&ex),
        );
        for c in crate::feed::checks(&feed) {
            ctx.record(proto, c.id, c.level, c.title, c.outcome, Some(&ex));
        }
    }

    async fn salmon(
        &self,
        ctx: &mut Ctx<'_>,
        d: Option<&Descriptor>,
        account: Option<&Result<std::sync::Arc<crate::account::CheckerAccount>, String>>,
    ) {
        let proto = Protocol::Salmon;
        self.magic_key(ctx, d);
        let Some(url) = d.and_then(|d| d.href(&Rel::Salmon)).map(str::to_owned) else {
            ctx.record(
                proto,
                "SAL-DSC-03",
                Level::Should,
                "WebFinger links the Salmon endpoint (rel=salmon)",
                Outcome::Fail("no salmon link (or no WebFinger answer)".into()),
                None,
            );
            return;
        };
        let post = |ct: &str, body: Vec<u8>| Request::post(url.as_str()).header(CONTENT_TYPE, ct).body(body);
        // A slap from an account that cannot exist: its key cannot be found.
        const FORGED: (&str, &str) = (
            "SAL-RCV-02.1",
            "an envelope signed by a key that cannot be found gets no 2xx",
        );
        let forged = PrivateKey::generate(2048)
            .map_err(|e| e.to_string())
            .and_then(|k| {
                let entry = "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:activity=\"http://activitystrea.ms/spec/1.0/\"><id>tag:ostatus-check.invalid,2026:1</id><title>check</title><updated>2026-01-01T00:00:00Z</updated><author><uri>https://ostatus-check.invalid/users/nobody</uri><name>nobody</name></author><activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb><content>conformance check</content></entry>";
                Envelope::sign(entry.as_bytes(), "application/atom+xml", &k).map_err(|e| e.to_string())
            })
            .and_then(|e| {
                post("application/magic-envelope+xml", e.to_xml().into_bytes()).map_err(|e| e.to_string())
            });
        match forged {
            Ok(req) => {
                let ex = self.send(req).await;
                let ok = ex.status().is_some_and(|s| !(200..300).contains(&s));
                ctx.record(
                    proto,
                    FORGED.0,
                    Level::Must,
                    FORGED.1,
                    pass_if(ok, || format!("status {:?}", ex.status())),
                    Some(&ex),
                );
            }
            Err(e) => ctx.record(
                proto,
                FORGED.0,
                Level::Must,
                FORGED.1,
                Outcome::Fail(format!("the check's set-up failed: {e}")),
                None,
            ),
        }
        match post("application/magic-envelope+xml", b"<not-an-envelope/>".to_vec()) {
            Ok(req) => {
                let ex = self.send(req).await;
                ctx.record(
                    proto,
                    "SAL-RCV-02.2",
                    Level::Should,
                    "a malformed envelope gets 400",
                    pass_if(ex.status() == Some(400), || format!("status {:?}", ex.status())),
                    Some(&ex),
                );
            }
            Err(e) => ctx.record(
                proto,
                "SAL-RCV-02.2",
                Level::Should,
                "a malformed envelope gets 400",
                Outcome::Fail(format!("the check's set-up failed: {e}")),
                None,
            ),
        }
        match post("text/plain", b"hello".to_vec()) {
            Ok(req) => {
                let ex = self.send(req).await;
                let ok = ex.status().is_some_and(|s| (400..500).contains(&s));
                ctx.record(
                    proto,
                    "MS-ENV-09",
                    Level::Should,
                    "a wrong content type gets 4xx",
                    pass_if(ok, || format!("status {:?}", ex.status())),
                    Some(&ex),
                );
            }
            Err(e) => ctx.record(
                proto,
                "MS-ENV-09",
                Level::Should,
                "a wrong content type gets 4xx",
                Outcome::Fail(format!("the check's set-up failed: {e}")),
                None,
            ),
        }
        self.salmon_accepts(ctx, d, &url, account).await;
    }

    /// The positive side: slaps signed by the checker's own account (served
    /// on `--callback-listen`, so the target can discover its key) are
    /// accepted. A server that refuses every slap fails here.
    async fn salmon_accepts(
        &self,
        ctx: &mut Ctx<'_>,
        d: Option<&Descriptor>,
        url: &str,
        account: Option<&Result<std::sync::Arc<crate::account::CheckerAccount>, String>>,
    ) {
        const MENTION: (&str, &str) = (
            "SAL-RCV-02.3",
            "a correctly signed mention from a discoverable account is accepted (2xx)",
        );
        const REPLY: (&str, &str) = (
            "SAL-RCV-02.4",
            "a correctly signed reply to the account's latest status is accepted (2xx)",
        );
        let proto = Protocol::Salmon;
        let account = match account {
            Some(Ok(a)) => a.clone(),
            other => {
                let outcome = match other {
                    Some(Err(e)) => Outcome::Fail(format!("the check's set-up failed: {e}")),
                    _ => Outcome::Skip(
                        "needs --callback-listen ADDR (the checker serves its own account there, so that \
                         the target can verify its slaps)"
                            .into(),
                    ),
                };
                for (id, title) in [MENTION, REPLY] {
                    ctx.record(proto, id, Level::Must, title, outcome.clone(), None);
                }
                return;
            }
        };
        let now = ostatus_core::time::rfc3339_millis(std::time::SystemTime::now());
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let slap = |body: Vec<u8>| {
            Request::post(url)
                .header(CONTENT_TYPE, "application/magic-envelope+xml")
                .body(body)
                .map_err(|e| e.to_string())
        };
        // Whom to mention: the account's URI (an http alias), else its profile page.
        let whom = d.and_then(|d| {
            d.aliases
                .iter()
                .find(|a| a.starts_with("http"))
                .map(String::as_str)
                .or_else(|| d.href(&Rel::ProfilePage))
                .map(str::to_owned)
        });
        let mention = whom
            .ok_or_else(|| "the WebFinger answer names no account URI to mention".to_owned())
            .and_then(|w| account.mention(&w, &now, n))
            .and_then(slap);
        self.expect_accepted(ctx, MENTION, mention).await;
        // What to answer: the newest entry of the account's feed.
        let parent = match d.and_then(|d| d.href(&Rel::UpdatesFrom)) {
            Some(feed) => {
                let ex = self.get(feed, Some("application/atom+xml")).await;
                Feed::parse(ex.body()).ok().and_then(|f| {
                    f.entries.into_iter().find_map(|e| {
                        let href = e.link("alternate").map(|l| l.href.clone());
                        e.id.map(|id| (id, href))
                    })
                })
            }
            None => None,
        };
        match parent {
            Some((id, href)) => {
                let reply = account.reply(&id, href, &now, n).and_then(slap);
                self.expect_accepted(ctx, REPLY, reply).await;
            }
            None => ctx.record(
                proto,
                REPLY.0,
                Level::Must,
                REPLY.1,
                Outcome::Skip("the account's feed has no status to reply to".into()),
                None,
            ),
        }
    }

    async fn expect_accepted(
        &self,
        ctx: &mut Ctx<'_>,
        (id, title): (&'static str, &'static str),
        req: Result<Request<Vec<u8>>, String>,
    ) {
        match req {
            Ok(req) => {
                let ex = self.send(req).await;
                let ok = ex.status().is_some_and(|s| (200..300).contains(&s));
                ctx.record(
                    Protocol::Salmon,
                    id,
                    Level::Must,
                    title,
                    pass_if(ok, || format!("status {:?}", ex.status())),
                    Some(&ex),
                );
            }
            Err(e) => ctx.record(
                Protocol::Salmon,
                id,
                Level::Must,
                title,
                Outcome::Fail(format!("the check's set-up failed: {e}")),
                None,
            ),
        }
    }

    /// The account's magic public key: it parses (MS-KEY-01), is at least
    /// 1024 bits (what every OStatus peer verifies) and, better, 2048.
    fn magic_key(&self, ctx: &mut Ctx<'_>, d: Option<&Descriptor>) {
        let proto = Protocol::Salmon;
        let Some(d) = d else { return };
        let found: Vec<String> = d.magic_keys().map(str::to_owned).collect();
        let key = found
            .iter()
            .find_map(|k| ostatus_salmon::MagicPublicKey::parse(k).ok());
        ctx.record(
            proto,
            "MS-KEY-01",
            Level::Must,
            "the account's magic public key (WebFinger) parses",
            pass_if(key.is_some(), || match found.first() {
                Some(k) => format!("not a magic key: {k}"),
                None => "no magic-public-key link or property".into(),
            }),
            None,
        );
        let Some(key) = key else { return };
        let bits = key.bits();
        ctx.record(
            proto,
            "MS-KEY-01.2",
            Level::Must,
            "the magic public key has at least 1024 bits (the floor OStatus peers verify)",
            pass_if(bits >= 1024, || format!("{bits} bits")),
            None,
        );
        ctx.record(
            proto,
            "MS-KEY-01.3",
            Level::Should,
            "the magic public key has at least 2048 bits",
            pass_if(bits >= 2048, || format!("{bits} bits")),
            None,
        );
    }

    async fn poco(&self, ctx: &mut Ctx<'_>, d: Option<&Descriptor>, base: &str) {
        let proto = Protocol::Poco;
        let Some(url) = d
            .and_then(|d| d.href(&Rel::from("http://portablecontacts.net/spec/1.0")))
            .map(str::to_owned)
        else {
            ctx.record(
                proto,
                "POCO-PRV-05",
                Level::Must,
                "the Portable Contacts endpoint answers",
                Outcome::Skip(format!(
                    "no http://portablecontacts.net/spec/1.0 link for the account at {base}"
                )),
                None,
            );
            return;
        };
        let url = url.trim_end_matches('/').to_owned();
        let ex = self.get(&url, Some("application/json")).await;
        let resp = (ex.status() == Some(200))
            .then(|| PocoResponse::from_json(ex.body()).ok())
            .flatten();
        ctx.record(
            proto,
            "POCO-PRV-12",
            Level::Must,
            "the endpoint answers with a response envelope (JSON)",
            pass_if(resp.is_some(), || {
                format!("status {:?}, not a PoCo response", ex.status())
            }),
            Some(&ex),
        );
        let xml = self.get(&format!("{url}/@me/@all?format=xml"), None).await;
        let xml_ok = xml.status() == Some(200) && PocoResponse::from_xml(xml.body()).is_ok();
        ctx.record(
            proto,
            "POCO-PRV-10",
            Level::Must,
            "format=xml gives the same data as XML",
            pass_if(xml_ok, || format!("status {:?}", xml.status())),
            Some(&xml),
        );
        let missing = self
            .get(&format!("{url}/@me/@all/no-such-contact-ostatus-check"), None)
            .await;
        ctx.record(
            proto,
            "POCO-PRV-13",
            Level::Must,
            "an unknown contact id gives 404",
            pass_if(missing.status() == Some(404), || {
                format!("status {:?}", missing.status())
            }),
            Some(&missing),
        );
        let empty = self.get(&format!("{url}/@me/@all?filterBy=displayName&filterOp=equals&filterValue=no-such-name-ostatus-check"), None).await;
        let empty_ok = empty.status() == Some(200)
            && PocoResponse::from_json(empty.body()).is_ok_and(|r| r.contacts().is_empty());
        ctx.record(
            proto,
            "POCO-PRV-13.2",
            Level::Must,
            "a filter without matches gives 200 and no entries",
            pass_if(empty_ok, || format!("status {:?}", empty.status())),
            Some(&empty),
        );
        let _ = Url::parse(&url);
    }
}
