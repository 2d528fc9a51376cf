//! Measurements, ratios, and the report: each figure's median and spread over the rounds.

use std::time::Duration;

/// One client's measurement: wall time, the process's CPU time, and units of work done.
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    pub wall: Duration,
    pub cpu: Duration,
    pub units: u64,
}

/// The process's CPU time so far (user + system, every thread).
pub fn cpu_now() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Measures `work`, which returns its units of work.
pub async fn measure<F: std::future::Future<Output = Result<u64, String>>>(work: F) -> Result<Measure, String> {
    let (wall, cpu) = (std::time::Instant::now(), cpu_now());
    let units = work.await?;
    Ok(Measure {
        wall: wall.elapsed(),
        cpu: cpu_now().saturating_sub(cpu),
        units,
    })
}

/// Ours, the floor and async-openai, measured in the same round.
pub struct Trio {
    pub ours: Measure,
    pub floor: Measure,
    pub peer: Measure,
}

impl Trio {
    /// Ours and the floor.
    pub fn ours_floor(&self) -> Pair {
        Pair {
            ours: self.ours,
            floor: self.floor,
        }
    }

    /// Ours and async-openai (as the pair's floor).
    pub fn ours_peer(&self) -> Pair {
        Pair {
            ours: self.ours,
            floor: self.peer,
        }
    }

    /// async-openai (as the pair's ours) and the floor.
    pub fn peer_floor(&self) -> Pair {
        Pair {
            ours: self.peer,
            floor: self.floor,
        }
    }
}

/// Two measurements of the same round: `ours` against `floor`.
pub struct Pair {
    pub ours: Measure,
    pub floor: Measure,
}

impl Pair {
    /// Units per second, ours / floor (above 1: ours is faster).
    pub fn rate_ratio(&self) -> f64 {
        let rate = |m: &Measure| m.units as f64 / m.wall.as_secs_f64();
        rate(&self.ours) / rate(&self.floor)
    }

    /// CPU time per unit, ours / floor (below 1: ours uses less).
    pub fn cpu_ratio(&self) -> f64 {
        let per = |m: &Measure| m.cpu.as_secs_f64() / m.units as f64;
        per(&self.ours) / per(&self.floor)
    }
}

/// The report.
#[derive(Default)]
pub struct Table {
    rows: Vec<(String, String, Vec<f64>)>,
}

impl Table {
    /// Adds one round's `ratio` to `figure`; `goal` is `≥ 0.97×`, `≤ 1.10×`, or `—` for a
    /// figure reported without one.
    pub fn add(&mut self, figure: &str, ratio: f64, goal: &str) {
        match self.rows.iter_mut().find(|(f, _, _)| f == figure) {
            Some((_, _, values)) => values.push(ratio),
            None => self.rows.push((figure.to_owned(), goal.to_owned(), vec![ratio])),
        }
    }

    /// The median of each figure, its spread (lowest–highest), its goal and whether the median
    /// meets it.
    pub fn render(&self) -> String {
        let mut out = format!(
            "\n{:<64} {:>8}  {:>15}  {:<8} {}\n",
            "figure (ratio)", "median", "spread", "goal", "met"
        );
        for (figure, goal, values) in &self.rows {
            let (median, low, high) = median_spread(values);
            let met = match goal.as_str() {
                "—" => "—",
                _ if goal_met(goal, median) => "yes",
                _ => "NO",
            };
            out.push_str(&format!(
                "{:<64} {:>7.2}×  {:>6.2}×–{:>6.2}×  {:<8} {met}\n",
                figure, median, low, high, goal,
            ));
        }
        out
    }
}

/// The median of `values`, their lowest and their highest.
pub fn median_spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[0], sorted[n - 1])
}

/// Whether `value` meets a goal written `≥ 0.97×`, `≤ 1.10×` or `< 1.00×`.
fn goal_met(goal: &str, value: f64) -> bool {
    let number = |s: &str| s.trim().trim_end_matches('×').trim().parse::<f64>().unwrap_or(f64::NAN);
    if let Some(g) = goal.strip_prefix('≥') {
        value >= number(g)
    } else if let Some(g) = goal.strip_prefix('≤') {
        value <= number(g)
    } else if let Some(g) = goal.strip_prefix('<') {
        value < number(g)
    } else {
        false
    }
}
