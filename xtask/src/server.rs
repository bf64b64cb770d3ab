//! A server the tasks start (the hub, hub-sim's bare endpoint): its address from its
//! "listening on http://ADDR" line, and killed when dropped, so a failing task leaves nothing
//! running.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// A child process killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `cmd` and waits for its "listening on http://ADDR" line.
    pub fn start(mut cmd: Command) -> Result<Server> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    let _ = tx.send(line[i + "listening on ".len()..].trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // Its output ended: it exited (its own error is above, on stderr).
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                bail!("{cmd:?} exited before it listened ({status}); its error is printed above");
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                bail!("{cmd:?} did not say where it listens within 60 s");
            }
        };
        Ok(Server { child, url })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_exits_before_listening_is_reported_as_exited() {
        let err = Server::start(Command::new("false")).err().expect("false never listens").to_string();
        assert!(err.contains("exited before it listened"), "{err}");
    }
}
