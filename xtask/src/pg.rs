//! A private PostgreSQL cluster for the tests: Debian's `postgresql` package (installed when
//! missing), `initdb` + `pg_ctl` on a free local port in a temporary directory, removed on drop.
//! The system's own PostgreSQL service is never used.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::tools;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    pub port: u16,
}

impl Cluster {
    /// The superuser URL tests use to create their own databases.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Installs PostgreSQL if needed and starts a fresh cluster.
    pub fn start() -> Result<Cluster> {
        tools::ensure_apt(&["postgresql"])?;
        let bin = find_bin_dir()?;
        let as_postgres = tools::probe("id", &["-u"]).is_some_and(|u| u.trim() == "0");
        let dir = std::env::temp_dir().join(format!("felhom-hub-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if as_postgres {
            // initdb refuses to run as root: the cluster belongs to the postgres user.
            crate::run_cmd(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let port = free_port()?;
        let cluster = Cluster { dir, bin, as_postgres, port };
        let data = cluster.dir.join("data");
        cluster
            .run("initdb", &["-D", path(&data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"])?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off",
            cluster.dir.display()
        );
        let log = cluster.dir.join("postgres.log");
        cluster.run("pg_ctl", &["-D", path(&data), "-o", &opts, "-l", path(&log), "-w", "-t", "60", "start"])?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("PostgreSQL did not start; see {}", log.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("PostgreSQL test cluster on 127.0.0.1:{port} in {}", cluster.dir.display());
        Ok(cluster)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<()> {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        cmd.args(args).current_dir(&self.dir);
        crate::run_cmd(&mut cmd)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.run("pg_ctl", &["-D", path(&data), "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Debian puts the server tools under /usr/lib/postgresql/<major>/bin; take the newest.
fn find_bin_dir() -> Result<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed under /usr/lib/postgresql")?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin).context("no initdb under /usr/lib/postgresql/*/bin")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
