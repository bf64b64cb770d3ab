//! The project's build tasks: `cargo xtask run|test|bench|openapi|dist`.
//!
//! Everything a fresh Debian machine with only Rust lacks is installed here, at pinned versions,
//! and only when `--version` does not already print the pinned one (see `tools`).

mod bench;
mod bench_fleet;
mod bench_scale;
mod contract;
mod deploy;
mod pg;
mod server;
mod tools;
mod web;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args.split_first().map(|(t, r)| (t.as_str(), r)).unwrap_or(("help", &[]));
    match task {
        "run" => run(rest),
        "test" => test(rest),
        "contract" => {
            let outcome = contract::run()?;
            println!("{} passed, {} failed", outcome.passed, outcome.failed.len());
            if !outcome.failed.is_empty() {
                bail!("failed: {}", outcome.failed.join(", "));
            }
            Ok(())
        }
        "bench" => bench::bench(rest),
        "test-postgres" => {
            let mut tally = Tally::default();
            let ok = postgres_tests(&mut tally)?;
            println!("{} passed, {} failed", tally.passed, tally.failed + u64::from(!ok));
            if ok {
                Ok(())
            } else {
                bail!("the PostgreSQL run failed")
            }
        }
        "openapi" => openapi(),
        "check-deploy" => deploy::check(),
        "dist" => dist(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 run [--demo]   install what the build needs, build the web app and the server, start the hub\n\
                 test           every check: fmt, clippy, wasm build, deployment files, unit, integration and browser tests\n\
                 bench [--quick] [--only STEP,..] [--no-build] measure ingest, storage and reads, a 10,000-node fleet, memory\n\
                                and the SPA; writes BENCHMARKS.md (steps: ingest, storage, fleet, spa; with\n\
                                --only the table is printed, not written)\n\
                 test-postgres  only the integration suite against a private PostgreSQL cluster\n\
                 contract       only the API contract checks (validator, generated clients, schemathesis)\n\
                 openapi        rewrite openapi.json from the code\n\
                 check-deploy   only the deployment files: manifests against the Kubernetes schemas, hadolint\n\
                 dist           build the release binary with the web app embedded"
            );
            if task == "help" || task == "--help" {
                Ok(())
            } else {
                bail!("unknown task {task:?}")
            }
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs a command, failing with its name when it fails.
pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let status = cmd.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn openapi() -> Result<()> {
    let out = cargo().args(["run", "--quiet", "-p", "hub-api", "--bin", "felhom-hub", "--", "openapi"]).output()?;
    if !out.status.success() {
        bail!("felhom-hub openapi failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    std::fs::write(root().join("openapi.json"), &out.stdout)?;
    eprintln!("wrote openapi.json");
    Ok(())
}

/// Builds the release binaries `run`, `dist` and `bench` use, `felhom-hub` and `hub-sim`, in
/// one cargo call: the two then share one feature set, so their common dependencies (reqwest,
/// rustls, hub-api itself) compile once and the next of these tasks finds them built. Returns
/// the folder that holds them.
pub fn build_release_binaries() -> Result<PathBuf> {
    run_cmd(cargo().args([
        "build",
        "--release",
        "-p",
        "hub-api",
        "-p",
        "hub-sim",
        "--bin",
        "felhom-hub",
        "--bin",
        "hub-sim",
    ]))?;
    Ok(root().join("target/release"))
}

fn dist() -> Result<()> {
    tools::ensure_build_tools()?;
    web::build()?;
    build_release_binaries()?;
    eprintln!("built target/release/felhom-hub");
    Ok(())
}

fn run(args: &[String]) -> Result<()> {
    let demo = args.iter().any(|a| a == "--demo");
    tools::ensure_build_tools()?;
    web::build()?;
    let bins = build_release_binaries()?;
    let data = root().join("data");
    std::fs::create_dir_all(&data)?;
    let listen = std::env::var("HUB_SERVER__LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let mut hub = Command::new(bins.join("felhom-hub"));
    hub.arg("serve")
        .env("HUB_SERVER__LISTEN", &listen)
        .env("HUB_SERVER__DATA_DIR", &data)
        .env("HUB_ASSETS__SEED_DIR", root().join("assets-seed"));
    let demo_key =
        std::env::var("HUB_API__REPORT_API_KEY").unwrap_or_else(|_| "demo-report-key-for-this-machine-only".into());
    // The demo's controllers (and the registry the hub watches) are hub-sim's, on this port.
    let sim_side = "127.0.0.1:18091";
    if demo {
        hub.env("HUB_API__REPORT_API_KEY", &demo_key)
            .env("HUB_REGISTRY__IMAGE", format!("{sim_side}/felhom/controller"))
            .env("HUB_REGISTRY__IMAGE_ALLOW_HTTP", "true")
            .env("HUB_REGISTRY__CHECK_INTERVAL", "1m");
    }
    eprintln!("starting felhom-hub with SQLite under {}", data.display());
    println!("\n  felhom-hub: http://{listen}/   (API docs: http://{listen}/api/docs)\n");
    let mut child = hub.spawn().context("cannot start felhom-hub")?;
    let mut fleet = None;
    if demo {
        // 200 simulated controllers: a week of history first, then an hour a minute. Twenty are
        // managed; half of those run the hub's config, the others have drifted; the registry
        // has a newer version than every node runs, so the fleet is outdated.
        let host = listen.strip_prefix(':').map(|port| format!("127.0.0.1:{port}")).unwrap_or_else(|| listen.clone());
        let host = host.replace("0.0.0.0", "127.0.0.1");
        eprintln!("--demo: starting hub-sim with 200 nodes (7 days of backfill, --speed 60)");
        let spawned = Command::new(bins.join("hub-sim"))
            .args(["run", "--url", &format!("http://{host}"), "--nodes", "200", "--backfill", "7d", "--speed", "60"])
            .args(["--controller-listen", sim_side, "--manage", "20"])
            .env("HUB_SIM_KEY", &demo_key)
            .spawn();
        match spawned {
            Ok(sim) => fleet = Some(sim),
            Err(e) => eprintln!("cannot start hub-sim: {e}"),
        }
    }
    let status = child.wait()?;
    if let Some(mut sim) = fleet {
        let _ = sim.kill();
        let _ = sim.wait();
    }
    if !status.success() {
        bail!("felhom-hub exited with {status}");
    }
    Ok(())
}

/// Totals of the test runners' closing lines.
#[derive(Debug, Default)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Tally {
    /// Adds a libtest line such as `test result: ok. 12 passed; 0 failed; 1 ignored; ...`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else { return };
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            let n = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok()).unwrap_or(0);
            match words.as_slice() {
                [.., _, "passed"] => self.passed += n(words.len() - 2),
                [_, "failed"] => self.failed += n(0),
                [_, "ignored"] => self.ignored += n(0),
                _ => {}
            }
        }
    }
}

/// Runs `cargo test` with extra args and environment, streaming its output and tallying it.
fn cargo_test(tally: &mut Tally, args: &[&str], env: &[(&str, String)]) -> Result<bool> {
    use std::io::{BufRead, BufReader};
    let mut cmd = cargo();
    cmd.arg("test").args(args).stdout(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    eprintln!("$ cargo test {}", args.join(" "));
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        tally.add_line(&line);
    }
    Ok(child.wait()?.success())
}

/// The integration suite once more, against a private PostgreSQL cluster. A test that would
/// skip for want of PostgreSQL fails in this run (`HUB_TEST_REQUIRE_POSTGRES`, see
/// hub-testkit), so the run cannot pass having tested nothing.
fn postgres_tests(tally: &mut Tally) -> Result<bool> {
    let started = Instant::now();
    let cluster = pg::Cluster::start()?;
    let env = [("HUB_TEST_POSTGRES_URL", cluster.admin_url()), ("HUB_TEST_REQUIRE_POSTGRES", "1".into())];
    // `--workspace` as in the SQLite run, so cargo resolves the same features and reuses that
    // build instead of compiling the dependencies again for `-p hub-api` alone.
    let ok = cargo_test(tally, &["--workspace", "--test", "api", "--no-fail-fast"], &env)?;
    drop(cluster);
    eprintln!("the PostgreSQL run took {:.0?}", started.elapsed());
    Ok(ok)
}

fn test(_args: &[String]) -> Result<()> {
    tools::ensure_test_tools()?;
    web::ensure_browser()?;
    let mut failures: Vec<String> = Vec::new();
    let step = |failures: &mut Vec<String>, name: &str, ok: Result<()>| {
        if let Err(e) = ok {
            eprintln!("FAILED: {name}: {e:#}");
            failures.push(name.to_string());
        }
    };
    step(&mut failures, "cargo fmt --check", run_cmd(cargo().args(["fmt", "--all", "--check"])));
    step(
        &mut failures,
        "clippy",
        run_cmd(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])),
    );
    step(
        &mut failures,
        "hub-shared for wasm32",
        run_cmd(cargo().args(["build", "-p", "hub-shared", "--target", "wasm32-unknown-unknown"])),
    );
    step(&mut failures, "deployment files (manifests, Dockerfile)", deploy::check());
    // The browser tests (hub-web-e2e) serve the freshly built app.
    step(&mut failures, "web app build", web::build());
    let mut tally = Tally::default();
    let before = tally.failed;
    // The PostgreSQL-only tests run in the PostgreSQL run below, where skipping fails; here
    // they would only pass having tested nothing.
    let sqlite_args = ["--workspace", "--no-fail-fast", "--", "--skip", "postgres::"];
    if !cargo_test(&mut tally, &sqlite_args, &[])? && tally.failed == before {
        failures.push("cargo test (SQLite)".into());
    }
    let before = tally.failed;
    match postgres_tests(&mut tally) {
        Ok(true) => {}
        Ok(false) if tally.failed > before => {}
        Ok(false) => failures.push("cargo test (PostgreSQL)".into()),
        Err(e) => step(&mut failures, "PostgreSQL test cluster", Err(e)),
    }
    // The API contract against a live hub (the debug felhom-hub the tests built).
    match contract::run() {
        Ok(outcome) => {
            tally.passed += outcome.passed;
            tally.failed += outcome.failed.len() as u64;
            failures.extend(outcome.failed);
        }
        Err(e) => step(&mut failures, "contract", Err(e)),
    }
    println!();
    if !failures.is_empty() {
        eprintln!("failed steps: {}", failures.join(", "));
    }
    let failed = tally.failed + failures.len() as u64;
    println!("{} passed, {} failed", tally.passed, failed);
    if failed > 0 {
        bail!("cargo xtask test failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tallies_libtest_lines() {
        let mut t = Tally::default();
        t.add_line("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        t.add_line("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out");
        t.add_line("running 5 tests");
        assert_eq!((t.passed, t.failed, t.ignored), (15, 2, 1));
    }
}
