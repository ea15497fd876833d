//! The binary's node subcommands, as an operator runs them: `serve` on a
//! data directory, then `user create`, `post`, `favourite`, `share`,
//! `delete` and `block-domain` in their own processes against it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ostatus-server"));
    c.env("RUST_LOG", "warn");
    c
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn serve_and_act_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("ostatus-cli-node-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().unwrap().to_owned();
    // A free port, named in --domain as well.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let domain = format!("127.0.0.1:{port}");
    let mut server = bin()
        .args([
            "serve",
            "--listen",
            &domain,
            "--domain",
            &domain,
            "--data",
            &data,
            "--insecure",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Whatever happens below, the server does not outlive the test.
    struct KillOnDrop(u32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = Command::new("kill").args(["-KILL", &self.0.to_string()]).status();
        }
    }
    let _guard = KillOnDrop(server.id());
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("serve exited").unwrap();
        if line.contains("listening on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});

    // Issue 20 item 2: the password comes from standard input, not argv.
    let mut create = bin()
        .args(["user", "create", "hana", "--password-stdin", "--data", &data])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    let acct = ok(create.wait_with_output().unwrap());
    assert_eq!(acct, format!("hana@{domain}"));
    // The password logs in, as an Argon2id hash (issue 20 item 3).
    let login = |password: &'static str| {
        let domain = domain.clone();
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(format!("http://{domain}/login"))
                .form(&[("username", "hana"), ("password", password), ("next", "/home")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(login("pw").await, 303);
    assert_eq!(login("nope").await, 401);
    // Issue 20 item 6: liveness and readiness.
    for (path, body) in [("healthz", "ok\n"), ("readyz", "ready\n")] {
        let r = reqwest::get(format!("http://{domain}/{path}")).await.unwrap();
        let (status, text) = (r.status().as_u16(), r.text().await.unwrap());
        assert_eq!((status, text.as_str()), (200, body), "/{path}");
    }
    // --password still works, loudly.
    let loud = bin()
        .args(["user", "create", "ines", "--password", "pw2", "--data", &data])
        .output()
        .unwrap();
    assert!(loud.status.success());
    assert!(
        String::from_utf8_lossy(&loud.stderr).contains("WARNING"),
        "{loud:?}"
    );
    let bad = bin()
        .args(["user", "create", "Not A Name", "--data", &data])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a-z"), "{bad:?}");

    let uri = ok(bin()
        .args([
            "post",
            "hello from the command line",
            "--as",
            "hana",
            "--data",
            &data,
        ])
        .output()
        .unwrap());
    assert_eq!(uri, format!("http://{domain}/users/hana/updates/1"));
    let feed = reqwest::get(format!("http://{domain}/users/hana.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains("hello from the command line"), "{feed}");
    // Feeds and pages are kept as rendered until the database changes
    // (issue 17). Asked again, unchanged: the same document, and 304 for
    // its ETag.
    let first = reqwest::get(format!("http://{domain}/users/hana.atom"))
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.text().await.unwrap(), feed);
    let revalidated = reqwest::Client::new()
        .get(format!("http://{domain}/users/hana.atom"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status().as_u16(), 304);
    let profile = || async {
        reqwest::get(format!("http://{domain}/users/hana"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(profile().await.contains("hello from the command line"));

    ok(bin()
        .args(["favourite", &uri, "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    let share = ok(bin()
        .args(["share", &uri, "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    assert_eq!(share, format!("http://{domain}/users/hana/updates/2"));
    ok(bin()
        .args(["delete", &uri, "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    ok(bin()
        .args(["block-domain", "spam.example", "--data", &data])
        .output()
        .unwrap());
    // Issue 18 item 6: blocks of single accounts, listed and lifted.
    let ines = format!("ines@{domain}");
    let blocked = ok(bin()
        .args(["block", &ines, "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    assert_eq!(blocked, format!("http://{domain}/users/ines"));
    let listed = ok(bin()
        .args(["blocks", "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    assert_eq!(listed, blocked);
    let twice = bin()
        .args(["block", &ines, "--as", "hana", "--data", &data])
        .output()
        .unwrap();
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("already"),
        "{twice:?}"
    );
    ok(bin()
        .args(["block", &ines, "--undo", "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    assert_eq!(
        ok(bin()
            .args(["blocks", "--as", "hana", "--data", &data])
            .output()
            .unwrap()),
        ""
    );
    // A locked account: ines's follow waits until hana approves it.
    ok(bin()
        .args(["lock", "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    let asked = bin()
        .args([
            "follow",
            &format!("hana@{domain}"),
            "--as",
            "ines",
            "--data",
            &data,
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&asked.stderr).contains("waits for their approval"),
        "{asked:?}"
    );
    let waiting = ok(bin()
        .args(["requests", "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    assert_eq!(waiting, blocked, "ines waits");
    ok(bin()
        .args(["authorize", &ines, "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    let node = ostatus_server::node::db::Db::open(&dir.join("node.db")).unwrap();
    assert!(
        node.follows(&blocked, &format!("http://{domain}/users/hana"))
            .unwrap()
    );
    drop(node);
    ok(bin()
        .args(["lock", "--undo", "--as", "hana", "--data", &data])
        .output()
        .unwrap());
    // Issue 18 item 5: the profile from the command line; the running
    // node serves the avatar and writes the new name in the feed.
    let avatar = dir.with_extension("gif");
    std::fs::write(&avatar, b"GIF89a\x30\x00\x30\x00\x00\x00\x00").unwrap();
    let url = ok(bin()
        .args([
            "profile",
            "--display-name",
            "Hana from the CLI",
            "--avatar",
            avatar.to_str().unwrap(),
            "--as",
            "hana",
            "--data",
            &data,
        ])
        .output()
        .unwrap());
    let served = reqwest::get(&url).await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/gif");
    let feed = reqwest::get(format!("http://{domain}/users/hana.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains("Hana from the CLI") && feed.contains(&url),
        "{feed}"
    );
    let text_file = dir.with_extension("txt");
    std::fs::write(&text_file, "not an image").unwrap();
    let not_image = bin()
        .args([
            "profile",
            "--avatar",
            text_file.to_str().unwrap(),
            "--as",
            "hana",
            "--data",
            &data,
        ])
        .output()
        .unwrap();
    assert!(!not_image.status.success());
    assert!(
        String::from_utf8_lossy(&not_image.stderr).contains("PNG, JPEG, GIF or WebP"),
        "{not_image:?}"
    );
    // Issue 18 item 4: a post with a picture; a file of no type taken is
    // refused, and nothing is posted.
    let pictured = ok(bin()
        .args([
            "post",
            "a picture from the command line",
            "--attach",
            avatar.to_str().unwrap(),
            "--sensitive",
            "--as",
            "hana",
            "--data",
            &data,
        ])
        .output()
        .unwrap());
    let feed = reqwest::get(format!("http://{domain}/users/hana.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains(&format!("<id>{pictured}</id>"))
            && feed.contains("<link rel=\"enclosure\" type=\"image/gif\" length=\"13\" href=\"http://")
            && feed.contains("<category term=\"nsfw\"/>"),
        "{feed}"
    );
    let not_media = bin()
        .args([
            "post",
            "not a picture",
            "--attach",
            text_file.to_str().unwrap(),
            "--as",
            "hana",
            "--data",
            &data,
        ])
        .output()
        .unwrap();
    assert!(!not_media.status.success());
    assert!(
        String::from_utf8_lossy(&not_media.stderr).contains("none of them"),
        "{not_media:?}"
    );
    let _ = std::fs::remove_file(&avatar);
    let _ = std::fs::remove_file(&text_file);
    let feed = reqwest::get(format!("http://{domain}/users/hana.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains("http://activitystrea.ms/schema/1.0/delete"),
        "{feed}"
    );
    assert!(
        feed.contains("http://activitystrea.ms/schema/1.0/share"),
        "{feed}"
    );
    // Written by other processes since: nothing stale is served.
    let after = reqwest::Client::new()
        .get(format!("http://{domain}/users/hana.atom"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 200, "the old ETag no longer matches");
    assert!(
        !profile().await.contains("hello from the command line"),
        "the deleted status is gone from the profile page"
    );

    // Issue 20: a backup while the node runs: consistent, checked copies.
    let saved = dir.with_extension("backup");
    let listed = ok(bin()
        .args(["backup", "--to", saved.to_str().unwrap(), "--data", &data])
        .output()
        .unwrap());
    assert!(listed.lines().any(|l| l.ends_with("node.db")), "{listed}");
    // ...and the uploaded avatar, which the copied node.db names.
    assert!(listed.lines().any(|l| l.contains("/media/avatar-")), "{listed}");
    let copy = ostatus_server::node::db::Db::open(&saved.join("node.db")).unwrap();
    assert!(copy.status(&uri).unwrap().is_some(), "the copy holds the post");
    assert!(copy.user("hana").unwrap().is_some());
    let nothing = bin()
        .args([
            "backup",
            "--to",
            saved.to_str().unwrap(),
            "--data",
            "/nonexistent-ostatus",
        ])
        .output()
        .unwrap();
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no node.db"));
    let _ = std::fs::remove_dir_all(&saved);

    // An action for a user that does not exist fails with a reason.
    let nobody = bin()
        .args(["post", "x", "--as", "nobody", "--data", &data])
        .output()
        .unwrap();
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("nobody"));

    assert!(
        Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}
