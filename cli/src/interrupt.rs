//! Ctrl-C, shared by the commands that wait: the first press resolves [`Interrupt::first`] (the
//! command stops waiting and says what it left), a second exits at once.

use std::sync::Arc;

/// Ctrl-C: the first resolves [`first`](Self::first); a second exits at once.
pub struct Interrupt {
    notify: Arc<tokio::sync::Notify>,
}

impl Interrupt {
    pub fn install() -> Self {
        let notify = Arc::new(tokio::sync::Notify::new());
        let first = notify.clone();
        tokio::spawn(async move {
            let mut fired = false;
            while tokio::signal::ctrl_c().await.is_ok() {
                if fired {
                    crate::tty::restore();
                    eprintln!("\ncerebras-batch: interrupted twice; exiting now");
                    std::process::exit(130);
                }
                fired = true;
                first.notify_one();
            }
        });
        Self { notify }
    }

    pub async fn first(&self) {
        self.notify.notified().await;
    }
}
