//! The web app: its build tools at pinned versions, its release build with trunk, and what its
//! browser tests need. See ../shared/TOOLCHAIN.md for why each pin is what it is.
//!
//! The tools are installed once per machine, not per clone, and only when `--version` does not
//! print the pinned version: trunk and wasm-bindgen with `cargo install` into cargo's own bin
//! folder (`$CARGO_HOME/bin`), npm's binaryen into one cache folder
//! (`$XDG_CACHE_HOME/felhom-hub/npm`, else `~/.cache/felhom-hub/npm`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::{cargo, root, run_cmd, tools};

const TRUNK: &str = "0.21.14";
/// Must equal the `wasm-bindgen` pinned in hub-web/Cargo.toml.
const WASM_BINDGEN: &str = "0.2.130";
/// npm's binaryen; Debian's (108) makes wasm that crashes in Chromium.
const BINARYEN: &str = "132";

/// Where `cargo install` puts binaries: `$CARGO_INSTALL_ROOT/bin`, `$CARGO_HOME/bin`, else
/// `~/.cargo/bin`.
fn cargo_bin_dir() -> PathBuf {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("CARGO_INSTALL_ROOT").or_else(|| var("CARGO_HOME")).unwrap_or_else(|| home().join(".cargo")).join("bin")
}

/// The machine-wide folder of the project's tools: `$XDG_CACHE_HOME/felhom-hub`, else
/// `~/.cache/felhom-hub`.
pub fn cache_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| home().join(".cache"));
    cache.join("felhom-hub")
}

/// The machine-wide npm prefix of the pinned binaryen (and the contract test's npm packages).
pub fn npm_dir() -> PathBuf {
    cache_dir().join("npm")
}

/// The user's home; without one, the clone's `target/tools` (the tools are then per clone).
fn home() -> PathBuf {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).unwrap_or_else(|| root().join("target/tools"))
}

/// PATH with the installed tools first: cargo's bin folder and npm's `.bin`.
fn tool_path() -> OsString {
    let mut dirs = vec![cargo_bin_dir(), npm_dir().join("node_modules/.bin")];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).expect("PATH entries contain no separator")
}

/// A command that finds the project's tools first.
fn tool(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("PATH", tool_path());
    cmd
}

/// Whether `program --version` prints `want`.
fn has_version(program: &str, want: &str) -> bool {
    tool(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).contains(want))
}

/// trunk, wasm-bindgen-cli and wasm-opt at the pinned versions, and the wasm target.
pub fn ensure_tools() -> Result<()> {
    tools::ensure_wasm_target()?;
    // No --root: cargo's own bin folder, shared by every clone on the machine.
    if !has_version("trunk", &format!("trunk {TRUNK}")) {
        run_cmd(cargo().args(["install", "trunk", "--locked", "--version", TRUNK]))?;
    }
    if !has_version("wasm-bindgen", &format!("wasm-bindgen {WASM_BINDGEN}")) {
        // Without --locked: its lockfile names a crate version the registry lacks.
        run_cmd(cargo().args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN]))?;
    }
    if !has_version("wasm-opt", &format!("version {BINARYEN}")) {
        if tools::probe("npm", &["--version"]).is_none() {
            tools::ensure_apt(&["nodejs", "npm"])?;
        }
        let prefix = npm_dir();
        std::fs::create_dir_all(&prefix)?;
        run_cmd(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&prefix)
                .arg(format!("binaryen@{BINARYEN}")),
        )?;
        if !has_version("wasm-opt", &format!("version {BINARYEN}")) {
            bail!("wasm-opt {BINARYEN} is still not found after installing npm's binaryen into {}", prefix.display());
        }
    }
    Ok(())
}

/// Builds the web app into `hub-web/dist` (release, size-optimized), printing its size and
/// the build time. The server embeds that folder, so build this first.
pub fn build() -> Result<()> {
    ensure_tools()?;
    let started = Instant::now();
    // trunk builds offline (Trunk.toml): fetch the crates first.
    run_cmd(cargo().arg("fetch"))?;
    // The wasm's own compiler flags (`--cfg erase_components`) are in .cargo/config.toml; a
    // RUSTFLAGS from the environment would replace them and silently grow the app by a fifth.
    run_cmd(
        tool("trunk")
            .args(["--skip-version-check", "build", "--release"])
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .current_dir(root().join("hub-web")),
    )?;
    let (raw, gz) = wasm_size()?;
    eprintln!(
        "built hub-web/dist in {:.0} s: {:.0} KB wasm, {:.0} KB gzipped",
        started.elapsed().as_secs_f64(),
        // KB of 1,000 bytes, as in the bench's SPA row.
        raw as f64 / 1000.0,
        gz as f64 / 1000.0
    );
    Ok(())
}

/// The raw and gzipped size of the built `.wasm`.
fn wasm_size() -> Result<(u64, u64)> {
    let dist = root().join("hub-web/dist");
    let wasm = std::fs::read_dir(&dist)
        .with_context(|| format!("cannot read {}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "wasm"))
        .with_context(|| format!("no .wasm in {}", dist.display()))?;
    let raw = std::fs::metadata(&wasm)?.len();
    let out = Command::new("gzip").args(["-9", "-c"]).arg(&wasm).output().context("cannot run gzip")?;
    Ok((raw, out.stdout.len() as u64))
}

/// Debian's Chromium and its WebDriver for the browser tests.
pub fn ensure_browser() -> Result<()> {
    tools::ensure_apt(&["chromium", "chromium-driver"])
}
