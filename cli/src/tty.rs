//! While bars are drawn, the terminal must not echo Ctrl-C as `^C`: that echo moves the cursor
//! under indicatif's feet, and its clearing then leaves the top bar on the screen (a test in
//! tmux shows it). [`QuietCtrlC`] turns the echo of control characters (`ECHOCTL`) off on
//! stderr's terminal and puts the saved settings back when dropped; [`restore`] puts them back
//! on the way out of a process that exits without unwinding (a second Ctrl-C).

use std::sync::Mutex;

/// The terminal settings before [`QuietCtrlC::new`] changed them (process-wide, as the terminal
/// is).
#[cfg(unix)]
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// The echo of control characters turned off until dropped.
pub struct QuietCtrlC(());

impl QuietCtrlC {
    /// Turns the echo off on stderr's terminal (nothing when it is not a terminal, or not Unix).
    pub fn new() -> Self {
        #[cfg(unix)]
        {
            let mut saved = SAVED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // SAFETY: tcgetattr and tcsetattr read and write a termios we own, on fd 2.
            unsafe {
                let mut settings: libc::termios = std::mem::zeroed();
                if saved.is_none() && libc::tcgetattr(libc::STDERR_FILENO, &mut settings) == 0 {
                    let original = settings;
                    settings.c_lflag &= !libc::ECHOCTL;
                    if libc::tcsetattr(libc::STDERR_FILENO, libc::TCSANOW, &settings) == 0 {
                        *saved = Some(original);
                    }
                }
            }
        }
        Self(())
    }
}

impl Drop for QuietCtrlC {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts back the terminal settings [`QuietCtrlC`] changed, if any.
pub fn restore() {
    #[cfg(unix)]
    {
        let mut saved = SAVED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(original) = saved.take() {
            // SAFETY: as above; `original` came from tcgetattr on the same fd.
            unsafe {
                libc::tcsetattr(libc::STDERR_FILENO, libc::TCSANOW, &original);
            }
        }
    }
}
