//! Who used the machine's CPU during a run: the bot, this tool, and everything else (other
//! processes on a shared machine make the figures worse, so the report says how busy it was).

/// CPU time counters, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    busy: u64,
    all: u64,
    cores: u64,
    bot: u64,
    tool: u64,
}

/// Percent of one core, over the interval between two snapshots.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub bot: f64,
    pub tool: f64,
    pub other: f64,
    pub cores: u64,
}

fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after it are space-separated.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

pub fn snapshot(bot_pid: u32) -> Option<Snapshot> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = cpu
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4);
    let busy: u64 = busy.map(|(_, v)| v).sum();
    let all: u64 = cpu.iter().take(8).sum();
    let cores = stat.lines().filter(|l| l.starts_with("cpu")).count() as u64 - 1;
    Some(Snapshot {
        busy,
        all,
        cores: cores.max(1),
        bot: process_ticks(&bot_pid.to_string())?,
        tool: process_ticks("self")?,
    })
}

pub fn between(a: Snapshot, b: Snapshot) -> Usage {
    let all = b.all.saturating_sub(a.all).max(1) as f64;
    let percent = |ticks: u64| ticks as f64 / all * b.cores as f64 * 100.0;
    let bot = b.bot.saturating_sub(a.bot);
    let tool = b.tool.saturating_sub(a.tool);
    let busy = b.busy.saturating_sub(a.busy);
    Usage {
        bot: percent(bot),
        tool: percent(tool),
        other: percent(busy.saturating_sub(bot + tool)),
        cores: b.cores,
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bot {:.0} %, load tool {:.0} %, other processes {:.0} % (of {} %)",
            self.bot,
            self.tool,
            self.other,
            self.cores * 100
        )
    }
}
