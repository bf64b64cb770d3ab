//! Installs what the build and the tests need, at pinned versions, only when missing.
//! See ../shared/TOOLCHAIN.md for why each pin is what it is.

use std::process::Command;

use anyhow::Result;

use crate::run_cmd;

/// Output of `cmd --version`-like probes, or `None` when the tool is missing.
pub fn probe(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

/// The wasm target for hub-shared's check and the web app.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = probe("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run_cmd(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// Installs Debian packages that are missing (as root, or with sudo when available).
pub fn ensure_apt(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| probe("dpkg-query", &["-W", "-f=${Status}", p]).is_none_or(|s| !s.contains("install ok installed")))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = probe("id", &["-u"]).is_some_and(|u| u.trim() != "0");
    let apt = |args: &[&str]| {
        let mut cmd = if sudo { Command::new("sudo") } else { Command::new("apt-get") };
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run_cmd(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq"]);
    install.args(&missing);
    run_cmd(&mut install)
}

/// What `cargo xtask run` and `dist` need.
pub fn ensure_build_tools() -> Result<()> {
    ensure_wasm_target()
}

/// What `cargo xtask test` needs.
pub fn ensure_test_tools() -> Result<()> {
    ensure_wasm_target()?;
    let installed = probe("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    for component in ["rustfmt", "clippy"] {
        if !installed.lines().any(|l| l.starts_with(component)) {
            run_cmd(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    // The README's recovery recipe is run by a test.
    ensure_apt(&["jq"])
}
