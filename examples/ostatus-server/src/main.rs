//! `ostatus-server`: the ostatus-rs reference OStatus node and standalone
//! WebSub hub.
//!
//! Status: not started (issue #9 of the project). Until then the binary only
//! says so and exits with status 2, so that no script mistakes it for a
//! running server.

fn main() -> std::process::ExitCode {
    eprintln!("ostatus-server: not implemented yet; see the project's README for what works today");
    std::process::ExitCode::from(2)
}
