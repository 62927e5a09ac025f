//! Progress reporting: the reference's log lines, word for word, and a bar on a terminal.
//!
//! People reading Cloud Run logs know the reference's lines (README §3.3), so each line is a named
//! function here, tested for its exact text. Periodic progress lines go out every
//! [`PROGRESS_EVERY`] entities in logs; when stderr is a terminal an indicatif bar replaces them.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Entities between two progress lines (the reference's 50).
pub const PROGRESS_EVERY: usize = 50;

/// What a processor counts: PCF and MLFS count players, PGS player-game records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityNoun {
    Players,
    Records,
}

/// `Processing 369 players with 10 workers (parallel mode)` and its serial and PGS variants.
pub fn processing_start_line(noun: EntityNoun, count: usize, parallel_workers: Option<usize>) -> String {
    let what = match noun {
        EntityNoun::Players => "players",
        EntityNoun::Records => "player-game records",
    };
    match parallel_workers {
        Some(workers) => format!("Processing {count} {what} with {workers} workers (parallel mode)"),
        None => format!("Processing {count} {what} (serial mode)"),
    }
}

/// `Player processing progress: 50/369 | Rate: 621.1 players/sec | ETA: 0.0min`.
pub fn progress_line(noun: EntityNoun, done: usize, total: usize, elapsed_seconds: f64) -> String {
    let rate = if elapsed_seconds > 0.0 { done as f64 / elapsed_seconds } else { 0.0 };
    let eta_minutes = if rate > 0.0 { (total - done.min(total)) as f64 / rate / 60.0 } else { 0.0 };
    match noun {
        EntityNoun::Players => format!(
            "Player processing progress: {done}/{total} | Rate: {rate:.1} players/sec | ETA: {eta_minutes:.1}min"
        ),
        EntityNoun::Records => format!(
            "Player-game processing progress: {done}/{total} | Rate: {rate:.1} records/sec | ETA: {eta_minutes:.1}min"
        ),
    }
}

/// `Completed 369 players in 0.5s (avg 0.00s/player) | 0 failed`; PGS:
/// `Completed 241 records in 0.1s (avg 0.00s/record)`.
pub fn completion_line(noun: EntityNoun, succeeded: usize, failed: usize, elapsed_seconds: f64) -> String {
    let average = if succeeded > 0 { elapsed_seconds / succeeded as f64 } else { 0.0 };
    match noun {
        EntityNoun::Players => {
            format!(
                "Completed {succeeded} players in {elapsed_seconds:.1}s (avg {average:.2}s/player) | {failed} failed"
            )
        }
        EntityNoun::Records => {
            format!("Completed {succeeded} records in {elapsed_seconds:.1}s (avg {average:.2}s/record)")
        }
    }
}

/// Counts completions from any worker thread and reports every [`PROGRESS_EVERY`].
pub struct Progress {
    noun: EntityNoun,
    total: usize,
    done: AtomicUsize,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar when stderr is a terminal, log lines otherwise.
    pub fn start(noun: EntityNoun, total: usize, label: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .expect("the template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_owned());
            bar
        });
        Progress { noun, total, done: AtomicUsize::new(0), started: Instant::now(), bar }
    }

    pub fn entity_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if done % PROGRESS_EVERY == 0 => {
                tracing::info!("{}", progress_line(self.noun, done, self.total, self.elapsed_seconds()));
            }
            None => {}
        }
    }

    pub fn elapsed_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines_match_the_reference() {
        assert_eq!(
            processing_start_line(EntityNoun::Players, 369, Some(10)),
            "Processing 369 players with 10 workers (parallel mode)"
        );
        assert_eq!(
            processing_start_line(EntityNoun::Players, 369, None),
            "Processing 369 players (serial mode)"
        );
        assert_eq!(
            processing_start_line(EntityNoun::Records, 241, Some(10)),
            "Processing 241 player-game records with 10 workers (parallel mode)"
        );
        assert_eq!(
            processing_start_line(EntityNoun::Records, 241, None),
            "Processing 241 player-game records (serial mode)"
        );
    }

    #[test]
    fn progress_lines_match_the_reference() {
        // 50 players in 0.0805 s: 621.1 players/s, 319 left → 0.0086 min.
        assert_eq!(
            progress_line(EntityNoun::Players, 50, 369, 0.0805),
            "Player processing progress: 50/369 | Rate: 621.1 players/sec | ETA: 0.0min"
        );
        assert_eq!(
            progress_line(EntityNoun::Records, 100, 200, 10.0),
            "Player-game processing progress: 100/200 | Rate: 10.0 records/sec | ETA: 0.2min"
        );
    }

    #[test]
    fn completion_lines_match_the_reference() {
        assert_eq!(
            completion_line(EntityNoun::Players, 369, 0, 0.5),
            "Completed 369 players in 0.5s (avg 0.00s/player) | 0 failed"
        );
        assert_eq!(
            completion_line(EntityNoun::Records, 241, 0, 0.06),
            "Completed 241 records in 0.1s (avg 0.00s/record)"
        );
        assert_eq!(
            completion_line(EntityNoun::Players, 0, 3, 0.2),
            "Completed 0 players in 0.2s (avg 0.00s/player) | 3 failed"
        );
    }
}
