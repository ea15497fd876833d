//! Helpers shared by the server's load harnesses.

/// A whole number from the environment variable `name`, or `default`.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The peak resident set (`VmHWM`) of process `pid`, in MiB; 0 when it
/// cannot be read.
pub fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The `ostatus-server` binary as a command, run under `perf record -g`
/// (writing to the file named by the environment variable `perf_var`)
/// when that variable is set, for a profile.
pub fn server_command(perf_var: &str) -> std::process::Command {
    match std::env::var(perf_var) {
        Ok(out) => {
            let mut c = std::process::Command::new("perf");
            c.args(["record", "-F", "499", "-g", "-o", &out, "--"])
                .arg(env!("CARGO_BIN_EXE_ostatus-server"));
            c
        }
        Err(_) => std::process::Command::new(env!("CARGO_BIN_EXE_ostatus-server")),
    }
}
