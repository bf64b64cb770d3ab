//! The API contract, checked in `cargo xtask test` against what a live hub really does:
//!
//! 1. `openapi.json` validates as OpenAPI 3.1 (openapi-spec-validator);
//! 2. two generators from two ecosystems build a client with every operation and no warning
//!    (openapi-python-client; openapi-typescript for openapi-fetch, type-checked by tsc), and a
//!    script with each (`contract/python`, `contract/typescript`) runs against the hub: as the
//!    operator create a customer, post a report with its key, read the 24 h history, page events;
//! 3. schemathesis runs property-based tests over every operation, once with the global key and
//!    once with an operator session (`contract/schemathesis-*.toml`).
//!
//! The tools are pinned and installed once per machine, only when missing: a Python venv in
//! `~/.cache/felhom-hub/venv`, npm packages in `~/.cache/felhom-hub/npm`. The clients are
//! generated into `target/contract/` and never committed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::server::Server;
use crate::{cargo, root, run_cmd, tools, web};

const PYTHON_TOOLS: [(&str, &str); 3] =
    [("openapi-spec-validator", "0.9.0"), ("openapi-python-client", "0.29.1"), ("schemathesis", "4.32.5")];
const NPM_TOOLS: [(&str, &str); 4] = [
    ("openapi-typescript", "7.13.0"),
    ("openapi-fetch", "0.17.0"),
    ("typescript", "5.9.3"),
    ("@types/node", "20.19.9"),
];

const PASSWORD: &str = "contract-operator-password";
const GLOBAL_KEY: &str = "contract-global-key-0123456789abcdef";
/// Test cases per operation and phase in each schemathesis run: every operation is covered with
/// its boundary values and some random ones, and each run stays under a minute.
const MAX_EXAMPLES: &str = "20";
/// The same cases every run, so a failure is reproducible; `FELHOM_CONTRACT_SEED` picks others.
const DEFAULT_SEED: &str = "20260401";

/// What the contract step found: how many checks passed, and the names of those that failed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub passed: u64,
    pub failed: Vec<String>,
}

impl Outcome {
    fn check(&mut self, name: &str, result: Result<()>) {
        match result {
            Ok(()) => {
                eprintln!("contract: {name}: ok");
                self.passed += 1;
            }
            Err(e) => {
                eprintln!("FAILED: contract: {name}: {e:#}");
                self.failed.push(format!("contract: {name}"));
            }
        }
    }
}

/// Runs every check; an `Err` means the checks could not run at all (a tool would not install,
/// the hub would not start).
pub fn run() -> Result<Outcome> {
    let started = Instant::now();
    ensure_tools()?;
    let spec = root().join("openapi.json");
    let out = root().join("target/contract");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    let operations = operation_ids(&spec)?;
    let mut outcome = Outcome::default();
    outcome.check("openapi-spec-validator", run_cmd(Command::new(venv_bin("openapi-spec-validator")).arg(&spec)));
    outcome.check("openapi-python-client generates every operation", generate_python(&spec, &out, &operations));
    outcome.check("openapi-typescript generates every operation", generate_typescript(&spec, &out, &operations));

    let hub = LiveHub::start(&out)?;
    let script_env = [("FELHOM_URL", hub.server.url.clone()), ("FELHOM_PASSWORD", PASSWORD.to_string())];
    let mut python = Command::new(venv_bin("python"));
    python.arg(root().join("contract/python/smoke.py")).env("PYTHONPATH", out.join("python")).envs(script_env.clone());
    outcome.check("the Python client against the hub", run_without_env(&mut python));
    let mut node = Command::new("node");
    node.arg(out.join("typescript/smoke.js")).envs(script_env);
    outcome.check("the TypeScript client against the hub", run_without_env(&mut node));

    // Signed in before schemathesis tries wrong passwords, which lock sign-ins out for a while.
    let (session, csrf) = hub.sign_in()?;
    let global = [("FELHOM_GLOBAL_KEY", GLOBAL_KEY.to_string())];
    outcome.check("schemathesis with the global key", schemathesis(&hub, &out, "global", &global));
    let operator = [("FELHOM_SESSION", session), ("FELHOM_CSRF", csrf)];
    outcome.check("schemathesis with an operator session", schemathesis(&hub, &out, "operator", &operator));
    drop(hub);
    eprintln!("the contract step took {:.0} s", started.elapsed().as_secs_f64());
    Ok(outcome)
}

/// Runs a command like `run_cmd`, but shows only its program and arguments: its environment
/// holds the hub's password, key or session.
fn run_without_env(cmd: &mut Command) -> Result<()> {
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let shown = format!("{} {}", cmd.get_program().to_string_lossy(), args.join(" "));
    eprintln!("$ {shown}");
    let status = cmd.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn venv_dir() -> PathBuf {
    web::cache_dir().join("venv")
}

fn venv_bin(program: &str) -> PathBuf {
    venv_dir().join("bin").join(program)
}

/// The pinned Python tools in the machine-wide venv and the pinned npm packages in the
/// machine-wide npm prefix, each installed only when its version is not the pinned one.
fn ensure_tools() -> Result<()> {
    let names: Vec<&str> = PYTHON_TOOLS.iter().map(|(name, _)| *name).collect();
    let want: Vec<&str> = PYTHON_TOOLS.iter().map(|(_, version)| *version).collect();
    let have = tools::probe(
        &venv_bin("python").to_string_lossy(),
        &[&["-c", "import importlib.metadata as m, sys; print(*(m.version(n) for n in sys.argv[1:]))"], &names[..]]
            .concat(),
    );
    if have.as_deref().map(str::split_whitespace).is_none_or(|have| !have.eq(want.iter().copied())) {
        if tools::probe("python3", &["-m", "venv", "--help"]).is_none() {
            tools::ensure_apt(&["python3-venv"])?;
        }
        if !venv_bin("python").exists() {
            run_cmd(Command::new("python3").args(["-m", "venv"]).arg(venv_dir()))?;
        }
        let pins: Vec<String> = PYTHON_TOOLS.iter().map(|(name, version)| format!("{name}=={version}")).collect();
        run_cmd(Command::new(venv_bin("pip")).args(["install", "--quiet", "--disable-pip-version-check"]).args(&pins))?;
    }

    let prefix = web::npm_dir();
    let missing: Vec<String> = NPM_TOOLS
        .iter()
        .filter(|(name, version)| npm_version(&prefix, name).as_deref() != Some(*version))
        .map(|(name, version)| format!("{name}@{version}"))
        .collect();
    if !missing.is_empty() {
        if tools::probe("npm", &["--version"]).is_none() {
            tools::ensure_apt(&["nodejs", "npm"])?;
        }
        std::fs::create_dir_all(&prefix)?;
        run_cmd(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--save-exact", "--prefix"])
                .arg(&prefix)
                .args(&missing),
        )?;
    }
    Ok(())
}

/// The version of an installed npm package, from its `package.json`.
fn npm_version(prefix: &Path, name: &str) -> Option<String> {
    let manifest = std::fs::read_to_string(prefix.join("node_modules").join(name).join("package.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&manifest).ok()?;
    manifest["version"].as_str().map(String::from)
}

/// Every `operationId` of the document.
fn operation_ids(spec: &Path) -> Result<Vec<String>> {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(spec)?)?;
    let ids: Vec<String> = doc["paths"]
        .as_object()
        .context("openapi.json has no paths")?
        .values()
        .filter_map(|item| item.as_object())
        .flat_map(|item| item.values())
        .filter_map(|op| op["operationId"].as_str().map(String::from))
        .collect();
    if ids.is_empty() {
        bail!("openapi.json has no operations");
    }
    Ok(ids)
}

/// Runs a generator, failing on its exit code and on any warning it prints.
fn run_generator(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let Output { status, stdout, stderr } = cmd.output().with_context(|| format!("cannot start {shown}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    eprint!("{text}");
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    let lower = text.to_lowercase();
    if lower.contains("warn") || lower.contains("error") {
        bail!("the generator warned (see above)");
    }
    Ok(())
}

/// The Python client into `target/contract/python/felhom_hub_client`: one module per operation.
fn generate_python(spec: &Path, out: &Path, operations: &[String]) -> Result<()> {
    let package = out.join("python/felhom_hub_client");
    run_generator(
        Command::new(venv_bin("openapi-python-client"))
            .args(["generate", "--meta", "none", "--overwrite", "--path"])
            .arg(spec)
            .arg("--config")
            .arg(root().join("contract/python/openapi-python-client.yaml"))
            .arg("--output-path")
            .arg(&package),
    )?;
    let mut modules = Vec::new();
    for tag in std::fs::read_dir(package.join("api"))?.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()) {
        modules.extend(std::fs::read_dir(tag.path())?.filter_map(|e| e.ok()?.file_name().into_string().ok()));
    }
    let missing: Vec<&String> = operations.iter().filter(|op| !modules.contains(&format!("{op}.py"))).collect();
    if !missing.is_empty() {
        bail!("the Python client lacks {missing:?}");
    }
    Ok(())
}

/// The TypeScript types into `target/contract/typescript/schema.d.ts` with every operation, and
/// the script beside them compiled by tsc (strict), so it only calls what the document allows.
fn generate_typescript(spec: &Path, out: &Path, operations: &[String]) -> Result<()> {
    let dir = out.join("typescript");
    std::fs::create_dir_all(&dir)?;
    let bin = web::npm_dir().join("node_modules/.bin");
    run_generator(Command::new(bin.join("openapi-typescript")).arg(spec).arg("-o").arg(dir.join("schema.d.ts")))?;
    let types = std::fs::read_to_string(dir.join("schema.d.ts"))?;
    let listed = types.split_once("export interface operations").map(|(_, rest)| rest).unwrap_or("");
    let missing: Vec<&String> = operations.iter().filter(|op| !listed.contains(&format!("\n    {op}: {{"))).collect();
    if !missing.is_empty() {
        bail!("the TypeScript types lack {missing:?}");
    }
    for file in ["smoke.ts", "tsconfig.json"] {
        std::fs::copy(root().join("contract/typescript").join(file), dir.join(file))?;
    }
    std::fs::write(dir.join("package.json"), "{ \"type\": \"module\", \"private\": true }\n")?;
    std::os::unix::fs::symlink(web::npm_dir().join("node_modules"), dir.join("node_modules"))?;
    run_cmd(Command::new(bin.join("tsc")).arg("-p").arg(&dir))
}

/// The debug `felhom-hub` on 127.0.0.1 with a fresh data dir, a global key and a password.
struct LiveHub {
    server: Server,
    data: PathBuf,
}

impl LiveHub {
    fn start(out: &Path) -> Result<LiveHub> {
        // What `cargo test --workspace` built, with the same features, so nothing compiles again.
        run_cmd(cargo().args(["test", "--workspace", "--no-run", "--quiet"]))?;
        let bin = root().join("target/debug/felhom-hub");
        let mut hash = Command::new(&bin)
            .arg("hash-password")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run felhom-hub hash-password")?;
        std::io::Write::write_all(&mut hash.stdin.take().expect("piped"), PASSWORD.as_bytes())?;
        let hash = hash.wait_with_output()?;
        if !hash.status.success() {
            bail!("felhom-hub hash-password failed");
        }
        let data = out.join("hub-data");
        std::fs::create_dir_all(&data)?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve")
            .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
            .env("HUB_SERVER__DATA_DIR", &data)
            .env("HUB_API__REPORT_API_KEY", GLOBAL_KEY)
            .env("HUB_AUTH__PASSWORD_HASH", String::from_utf8_lossy(&hash.stdout).trim())
            .env("HUB_ASSETS__SEED_DIR", root().join("assets-seed"))
            // The registry watch off: the contract's hub talks to nothing outside this machine.
            .env("HUB_REGISTRY__IMAGE", "")
            .env("RUST_LOG", "error");
        Ok(LiveHub { server: Server::start(cmd)?, data })
    }

    /// Signs in as the operator: the session cookie's value and the CSRF token.
    fn sign_in(&self) -> Result<(String, String)> {
        let out = Command::new(venv_bin("python"))
            .arg(root().join("contract/python/sign_in.py"))
            .env("FELHOM_URL", &self.server.url)
            .env("FELHOM_PASSWORD", PASSWORD)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        match text.split_whitespace().collect::<Vec<_>>()[..] {
            [session, csrf] if out.status.success() => Ok((session.to_string(), csrf.to_string())),
            _ => bail!("cannot sign in: {}", String::from_utf8_lossy(&out.stderr)),
        }
    }
}

impl Drop for LiveHub {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// One schemathesis run with `contract/schemathesis-{name}.toml` and the credentials in `env`.
fn schemathesis(hub: &LiveHub, out: &Path, name: &str, env: &[(&str, String)]) -> Result<()> {
    let seed = std::env::var("FELHOM_CONTRACT_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let started = Instant::now();
    let result = run_without_env(
        Command::new(venv_bin("schemathesis"))
            .arg("--config-file")
            .arg(root().join(format!("contract/schemathesis-{name}.toml")))
            .arg("run")
            .arg(root().join("openapi.json"))
            .args(["--url", &hub.server.url, "--max-examples", MAX_EXAMPLES, "--seed", &seed])
            .current_dir(out)
            .envs(env.iter().cloned()),
    );
    eprintln!("schemathesis ({name}) took {:.0} s", started.elapsed().as_secs_f64());
    result
}
