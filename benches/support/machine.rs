//! Figures about the machine and a process, read from `/proc`: the CPU, the
//! load, a process's memory, threads and CPU time.

use std::{fs, path::Path, process::Command};

/// `<cpus> CPUs (<model>), <date>`.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpus} CPUs ({model}), {date}")
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The size of a file in MB (10^6 bytes).
pub fn file_mb(p: &Path) -> f64 {
    fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// A number field of `/proc/<pid>/status` (`"VmRSS:"`, `"Threads:"`, …);
/// NaN when missing.
fn status_field(pid: u32, name: &str) -> f64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// (VmRSS, VmHWM) of a process, in MB (10^6 bytes).
pub fn memory_mb(pid: u32) -> (f64, f64) {
    let mb = |field| status_field(pid, field) * 1024.0 / 1e6;
    (mb("VmRSS:"), mb("VmHWM:"))
}

/// (VmRSS, VmHWM) of a process, in MiB.
pub fn memory_mib(pid: u32) -> (f64, f64) {
    let mib = |field| status_field(pid, field) / 1024.0;
    (mib("VmRSS:"), mib("VmHWM:"))
}

/// The number of threads of a process (0 when it is gone).
pub fn threads(pid: u32) -> u64 {
    let n = status_field(pid, "Threads:");
    if n.is_nan() { 0 } else { n as u64 }
}

/// The CPU time (user + system) a process has used so far, in seconds; NaN
/// when it cannot be read. `/proc/<pid>/stat` counts in clock ticks, which
/// Linux reports to user space as 100 per second (`USER_HZ`).
pub fn cpu_seconds(pid: u32) -> f64 {
    const USER_HZ: f64 = 100.0;
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces), from
    // field 3 (state): utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / USER_HZ,
        _ => f64::NAN,
    }
}

/// A process and its children (one level: a pre-fork server's master and
/// workers), found through the parent id in `/proc/<pid>/stat`.
pub fn process_and_children(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    let Ok(dir) = fs::read_dir("/proc") else {
        return pids;
    };
    for entry in dir.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        // Field 4 (ppid) is the second after the command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            pids.push(child);
        }
    }
    pids
}

/// The CPU time (user + system) a process and its children have used so
/// far, in seconds (see [`cpu_seconds`] and [`process_and_children`]).
pub fn tree_cpu_seconds(pid: u32) -> f64 {
    process_and_children(pid)
        .into_iter()
        .map(cpu_seconds)
        .filter(|s| !s.is_nan())
        .sum()
}

/// The resident memory (VmRSS) of a process and its children, summed, in
/// MB (10^6 bytes); shared pages count once per process.
pub fn tree_memory_mb(pid: u32) -> f64 {
    process_and_children(pid)
        .into_iter()
        .map(|p| memory_mb(p).0)
        .filter(|m| !m.is_nan())
        .sum()
}
