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
/// when that variable is set, for a profile; `PERF_FREQ` samples a second
/// (499 unless set).
pub fn server_command(perf_var: &str) -> std::process::Command {
    match std::env::var(perf_var) {
        Ok(out) => {
            let mut c = std::process::Command::new("perf");
            let freq = std::env::var("PERF_FREQ").unwrap_or_else(|_| "499".into());
            c.args(["record", "-F", &freq, "-g", "-o", &out, "--"])
                .arg(env!("CARGO_BIN_EXE_ostatus-server"));
            c
        }
        Err(_) => std::process::Command::new(env!("CARGO_BIN_EXE_ostatus-server")),
    }
}

/// The CPU time (user and system, all threads, in seconds) that process
/// `pid` (or `"self"`) has used so far; 0 when it cannot be read. Linux
/// counts it in ticks of 1/100 s (`USER_HZ`), so runs of a second or more
/// read it to a percent or so.
#[allow(dead_code, reason = "node_load reads it; hub_load does not")]
pub fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The command name (field 2) may hold spaces; the fields after
            // it start with the state (field 3): utime and stime are 14, 15.
            let rest = s.rsplit_once(')')?.1;
            let mut f = rest.split_whitespace().skip(11);
            let utime: f64 = f.next()?.parse().ok()?;
            let stime: f64 = f.next()?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}
