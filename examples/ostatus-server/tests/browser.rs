//! The node's pages in a real headless browser (Debian's chromium, driven
//! through chromedriver's WebDriver API): bob's profile and the thread on
//! his node, alice logging in through the form, her home timeline, and a
//! status posted from the browser's form.
//!
//! It needs Debian's chromium and chromium-driver, so it is `#[ignore]`d:
//! `cargo test -p ostatus-server --test browser -- --ignored` runs it, and
//! fails when chromedriver is missing. `.ci/run` installs both and runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ostatus_server::demo::{LocalNode, story};
use serde_json::{Value, json};

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // End the WebDriver session first: chromedriver then quits the
        // browser it started. Killing chromedriver alone left chromium
        // running, orphaned, after the suite.
        let _ = self.delete_session();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Driver {
    /// `DELETE /session/{id}`, synchronously (it runs in `Drop`).
    fn delete_session(&self) -> std::io::Result<()> {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        let mut c = std::net::TcpStream::connect(addr)?;
        c.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            c,
            "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session
        )?;
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).map(drop)
    }

    async fn start() -> Option<Self> {
        let found = Command::new("chromedriver").arg("--version").output();
        assert!(
            found.is_ok(),
            "this test needs chromedriver and chromium (apt-get install chromium chromium-driver)"
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let start = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("ostatus-chromium-{}", std::process::id()));
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("chromium");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Some(Self {
            child,
            base,
            session,
            http,
            profile,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method.clone(), url);
        let req = if method == reqwest::Method::GET {
            req
        } else {
            req.json(&body)
        };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(v["value"].get("error").is_none(), "{path}: {v}");
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn text(&self) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                json!({"script": "return document.body.innerText", "args": []}),
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits for a page whose title starts with `prefix` (a click on a
    /// form's button may return before the next page has loaded).
    async fn wait_title(&self, prefix: &str) {
        let start = Instant::now();
        while !self.title().await.starts_with(prefix) {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "no page titled {prefix}: {}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's text holds `needle` (`present`) or no
    /// longer does; fails with the page after 15 s.
    async fn wait_text(&self, needle: &str, present: bool) {
        let start = Instant::now();
        while self.text().await.contains(needle) != present {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "waiting for {needle:?} (present: {present}): {}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn clear(&self, css: &str) {
        let e = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/clear"), json!({}))
            .await;
    }

    async fn click(&self, css: &str) {
        let e = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/click"), json!({}))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver); .ci/run runs it"]
async fn profile_thread_and_timeline_pages_in_a_headless_browser() {
    let browser = Driver::start().await.expect("chromedriver started");
    let root = std::env::temp_dir().join(format!("ostatus-browser-{}", std::process::id()));
    let a = LocalNode::start(&root.join("a"), 1024).await.unwrap();
    let b = LocalNode::start(&root.join("b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let s = story(&an, &bn, |_| {}).await.unwrap();
    // alice follows bob again, so that her home timeline shows him.
    an.follow(&s.alice, &bn.user_acct("bob")).await.unwrap();

    // bob's profile on his node: his name, his post, his share of alice's reply.
    browser.go(&bn.user_uri("bob")).await;
    assert!(
        browser.title().await.starts_with("Bob"),
        "{}",
        browser.title().await
    );
    let page = browser.text().await;
    assert!(page.contains("Hello from bob! Anyone out there?"), "{page}");
    assert!(page.contains("Bob (@bob@") && page.contains("shared"), "{page}");
    assert!(page.contains("Hi bob, alice here!"), "the shared reply: {page}");

    // The thread on bob's node: his post and alice's reply under it.
    browser.go(&s.bob_post.uri).await;
    let page = browser.text().await;
    assert!(page.contains("Conversation"), "{page}");
    let (post, reply) = (
        page.find("Hello from bob!").expect("the post"),
        page.find("Hi bob, alice here!").expect("the reply"),
    );
    assert!(post < reply, "oldest first: {page}");
    assert!(page.contains("in reply to Bob"), "{page}");

    // alice logs in through the form and sees her home timeline.
    browser.go(&format!("{}login", a.url())).await;
    browser.type_into("input[name=username]", "alice").await;
    browser.type_into("input[name=password]", "alice").await;
    browser.click("form[action='/login'] button").await;
    browser.wait_title("Home").await;
    let page = browser.text().await;
    assert!(
        page.contains("Hello from bob! Anyone out there?"),
        "bob's post: {page}"
    );
    assert!(page.contains("Hi bob, alice here!"), "her reply: {page}");
    assert!(page.contains("★ 1"), "bob's favourite of her reply: {page}");

    // ...and posts from the browser.
    browser
        .type_into("textarea[name=text]", "Posted from a real browser")
        .await;
    browser.click("form[action='/compose'] button").await;
    browser.wait_text("Posted from a real browser", true).await;
    let alice_uri = an.user_uri("alice");
    assert!(
        an.db()
            .statuses_by(&alice_uri, false, None, 10, None)
            .unwrap()
            .iter()
            .any(|st| st.content.contains("Posted from a real browser"))
    );
    // It is on her profile page, for anyone, its time shown relative by
    // the page's script (allowed by the page's CSP), exact on hover.
    browser.go(&alice_uri).await;
    assert!(browser.text().await.contains("Posted from a real browser"));
    browser.wait_text("just now", true).await;
    let time = browser.element("article.status time").await;
    let title = browser
        .call(
            reqwest::Method::GET,
            &format!("/element/{time}/attribute/title"),
            json!(null),
        )
        .await;
    assert!(
        title
            .as_str()
            .is_some_and(|t| !t.is_empty() && !t.contains("ago")),
        "{title}"
    );

    // A post with a content warning and a hashtag (issue 18 items 2, 3):
    // the warning shows, and the tag's page lists the post.
    browser.go(&format!("{}home", a.url())).await;
    browser.wait_title("Home").await;
    browser
        .type_into("input[name=cw]", "A warning from the browser")
        .await;
    browser
        .type_into("textarea[name=text]", "Behind the warning #BrowserTest")
        .await;
    browser.click("form[action='/compose'] button").await;
    browser.wait_text("A warning from the browser", true).await;
    browser.go(&format!("{}tags/browsertest", a.url())).await;
    browser.wait_title("#browsertest").await;
    assert!(browser.text().await.contains("A warning from the browser"));

    // Issue 18 item 9: her notifications (bob's favourite and share of
    // her reply, from the story) and the public timelines, from the nav.
    browser.click("nav a[href='/notifications']").await;
    browser.wait_title("Notifications").await;
    let page = browser.text().await;
    assert!(
        page.contains("favourited your status") && page.contains("shared your status"),
        "{page}"
    );
    browser.click("nav a[href='/public/local']").await;
    browser.wait_title("Local timeline").await;
    assert!(browser.text().await.contains("Posted from a real browser"));
    browser.click("nav a[href='/public']").await;
    browser.wait_title("Federated timeline").await;
    let page = browser.text().await;
    assert!(
        page.contains("Posted from a real browser") && page.contains("Hello from bob!"),
        "{page}"
    );

    // Issue 18 item 6: alice blocks bob from his post on her home page;
    // his posts leave it and the block is listed, with a way back.
    browser.go(&format!("{}home", a.url())).await;
    browser.wait_title("Home").await;
    browser.click("form[action='/actions/block'] button").await;
    browser.wait_text("Unblock", true).await;
    let page = browser.text().await;
    assert!(!page.contains("Hello from bob!"), "bob's post is hidden: {page}");
    assert_eq!(an.db().blocked_by(&alice_uri).unwrap(), [bn.user_uri("bob")]);
    browser.click("form[action='/actions/unblock'] button").await;
    browser.wait_text("Unblock", false).await;
    assert!(an.db().blocked_by(&alice_uri).unwrap().is_empty());

    // ...and locks her account: dave's follow waits on her home page
    // until she approves it there.
    browser.click("form[action='/actions/lock'] button").await;
    browser.wait_text("Your account is locked", true).await;
    let dave = bn.create_user("dave", "Dave", None).await.unwrap();
    bn.follow(&dave, &an.user_acct("alice")).await.unwrap();
    let dave_uri = bn.user_uri("dave");
    let start = Instant::now();
    loop {
        browser.go(&format!("{}home", a.url())).await;
        if browser.text().await.contains("Follow requests") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{}",
            browser.text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.click("form[action='/actions/authorize'] button").await;
    let start = Instant::now();
    while !an.db().follows(&dave_uri, &alice_uri).unwrap() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{}",
            browser.text().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.go(&format!("{}home", a.url())).await;
    browser.click("form[action='/actions/unlock'] button").await;
    browser.wait_text("Lock your account", true).await;

    // Issue 18 item 5: her profile, from the form (a real browser's
    // multipart POST, with no file chosen).
    browser.click("details.profile-form summary").await;
    browser.clear("input[name=display_name]").await;
    browser
        .type_into("input[name=display_name]", "Alice in the browser")
        .await;
    browser
        .type_into("textarea[name=bio]", "Edits her profile in Chromium.")
        .await;
    browser.click("form[action='/settings/profile'] button").await;
    let start = Instant::now();
    while an.user("alice").unwrap().display_name != "Alice in the browser" {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{}",
            browser.text().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.go(&alice_uri).await;
    browser.wait_title("Alice in the browser").await;
    assert!(
        browser.text().await.contains("Edits her profile in Chromium."),
        "{}",
        browser.text().await
    );

    // Issue 18 item 4: a picture from the compose form (a real browser's
    // file upload), shown on her profile page from /media/.
    browser.go(&format!("{}home", a.url())).await;
    browser.wait_title("Home").await;
    let picture = root.join("picture.gif");
    std::fs::write(&picture, b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;").unwrap();
    browser
        .type_into("textarea[name=text]", "A picture from the browser")
        .await;
    browser
        .type_into("input[name=attach]", picture.to_str().unwrap())
        .await;
    browser.click("form[action='/compose'] button").await;
    let start = Instant::now();
    let pictured = loop {
        let mine = an.db().statuses_by(&alice_uri, false, None, 10, None).unwrap();
        if let Some(s) = mine.into_iter().find(|s| !s.attachments.is_empty()) {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{}",
            browser.text().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(pictured.attachments[0].media_type.as_deref(), Some("image/gif"));
    browser.go(&alice_uri).await;
    browser.wait_text("A picture from the browser", true).await;
    let img = browser.element("div.attachments img").await;
    let src = browser
        .call(
            reqwest::Method::GET,
            &format!("/element/{img}/attribute/src"),
            json!(null),
        )
        .await;
    assert!(src.as_str().is_some_and(|s| s.contains("/media/media-")), "{src}");

    drop(browser);
    a.stop().await;
    b.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
