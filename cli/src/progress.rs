//! What a person sees on stderr while `submit` and `files upload` run: an upload's byte bar and
//! one live line per batch (indicatif). When stderr is not a terminal (cron, CI, a pipe) there
//! are no bars: a plain line is printed for each change of a batch's status instead; `--quiet`
//! prints neither.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{printable, printable_lines};

/// The display of one command.
pub struct Display {
    bars: MultiProgress,
    /// Draw bars (stderr is a terminal and not `--quiet`).
    live: bool,
    /// Print plain lines (stderr is not a terminal, and not `--quiet`).
    plain: bool,
    /// A short last line (what Ctrl-C does). The cursor rests at the end of the last line, and
    /// a terminal echoes Ctrl-C there as `^C`: after a full-width bar that echo wraps to a new
    /// row, and the bars' clearing would then leave their top row behind.
    footer: Option<ProgressBar>,
    /// No `^C` echo while bars are drawn (see [`crate::tty`]).
    _quiet_ctrl_c: Option<crate::tty::QuietCtrlC>,
}

impl Display {
    /// A display for stderr, as `quiet` and the terminal allow.
    pub fn new(quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let target = if terminal && !quiet {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            bars: MultiProgress::with_draw_target(target),
            live: terminal && !quiet,
            plain: !terminal && !quiet,
            footer: None,
            _quiet_ctrl_c: (terminal && !quiet).then(crate::tty::QuietCtrlC::new),
        }
    }

    /// Shows `text` as the last line, below every bar, while bars are drawn.
    pub fn footer(&mut self, text: &str) {
        if self.live && self.footer.is_none() {
            let footer = self.bars.add(ProgressBar::new_spinner());
            footer
                .set_style(ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
            footer.set_message(text.to_owned());
            footer.tick();
            self.footer = Some(footer);
        }
    }

    /// Removes the footer.
    pub fn remove_footer(&mut self) {
        if let Some(footer) = self.footer.take() {
            footer.finish_and_clear();
        }
    }

    /// Adds `bar` above the footer.
    fn add(&self, bar: ProgressBar) -> ProgressBar {
        match &self.footer {
            Some(footer) => self.bars.insert_before(footer, bar),
            None => self.bars.add(bar),
        }
    }

    /// Prints a line above the bars (or plainly).
    pub fn line(&self, text: impl AsRef<str>) {
        if self.live {
            let _ = self.bars.println(printable_lines(text.as_ref()));
        } else if self.plain {
            eprintln!("{}", printable_lines(text.as_ref()));
        }
    }

    /// A byte bar for uploading `name` (`total` bytes).
    pub fn upload(&self, name: &str, total: u64) -> ProgressBar {
        let bar = self.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("uploading {}", printable(name)));
        bar
    }

    /// A spinner saying what is being done (`checking`, `merging`, `downloading ...`) while no
    /// other line moves; `total` bytes, when known, show as a byte count.
    pub fn spinner(&self, text: impl Into<String>, total: Option<u64>) -> ProgressBar {
        let bar = self.add(match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::no_length(),
        });
        let template = match total {
            Some(_) => "{spinner} {msg} {bytes}/{total_bytes} {bytes_per_sec} ({elapsed})",
            None => "{spinner} {msg} ({elapsed})",
        };
        bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.set_message(printable(&text.into()).into_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// Clears every bar from the screen and stops drawing them: what follows is printed as
    /// plain lines (after Ctrl-C, no stale progress line stays above the message).
    pub fn clear(&mut self) {
        // Erased, then drawn nowhere: finishing the bars afterwards (which redraws every line)
        // must not draw them again.
        let _ = self.bars.clear();
        self.bars.set_draw_target(ProgressDrawTarget::hidden());
        self.remove_footer();
        if self.live {
            self.live = false;
            self.plain = true;
        }
    }

    /// A line for one batch: `prefix [bar] done/total message (elapsed)`, the bar as wide as
    /// the terminal leaves room for (a line never wraps: indicatif cuts it at the width).
    pub fn batch(&self, prefix: String) -> ProgressBar {
        let bar = self.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{wide_bar}] {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(printable(&prefix).into_owned());
        bar.enable_steady_tick(Duration::from_secs(1));
        bar
    }

    /// Whether bars are drawn (a terminal, not `--quiet`).
    pub fn live(&self) -> bool {
        self.live
    }

    /// Whether plain lines are printed (no terminal).
    pub fn plain(&self) -> bool {
        self.plain
    }
}
