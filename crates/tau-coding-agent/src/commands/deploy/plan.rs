//! Everything a deploy decides before it touches anything: the config, the Dockerfile, the
//! context tar, the image reference and the requests. A dry run prints exactly this.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::Result;
use tau_cloud::config::{BuildSource, DeploymentConfig};
use tau_cloud::context::Context;

use super::Common;

pub struct Build {
    /// The Dockerfile text (generated, or the config's own file).
    pub dockerfile: String,
    /// `generated` or the context-relative path of the user's Dockerfile.
    pub dockerfile_source: String,
    pub context: Context,
    pub tag: String,
    /// `registry/repository:tag`.
    pub image: String,
}

pub fn load(common: &Common) -> Result<DeploymentConfig> {
    DeploymentConfig::load(&common.config_path()).map_err(super::errors::refusal)
}

/// `.tau/deployments.json` beside the config file, so the records follow the project and not
/// the directory the command happened to run in.
pub fn records_path(config: &DeploymentConfig) -> PathBuf {
    let base = config
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    base.join(tau_cloud::records::FILE)
}

pub fn engine_url(common: &Common) -> String {
    common
        .engine
        .clone()
        .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

/// A client of the engine `--engine` (else `DOCKER_HOST`) names.
pub fn engine(common: &Common) -> Result<tau_engine::Engine> {
    tau_engine::Engine::connect(Some(&engine_url(common)))
        .map_err(|e| super::errors::refusal(tau_cloud::Error::Engine(e.to_string())))
}

/// Generates the Dockerfile and packs the context in memory; the context directory is only read.
pub fn build(config: &DeploymentConfig) -> Result<Build> {
    let dir = config.context_dir();
    let span = tracing::info_span!("deploy.context", dir = %dir.display());
    let _entered = span.enter();
    let generated = tau_cloud::dockerfile::generate(config);
    let (context, dockerfile_source) = match &config.build.source {
        BuildSource::Generated { .. } => (
            tau_cloud::context::pack(&dir, generated.as_deref(), None),
            "generated".to_string(),
        ),
        BuildSource::Dockerfile(path) => (
            tau_cloud::context::pack(&dir, None, Some(path)),
            path.display().to_string(),
        ),
    };
    let context = context.map_err(super::errors::refusal)?;
    let dockerfile = match generated {
        Some(text) => text,
        None => {
            let BuildSource::Dockerfile(path) = &config.build.source else {
                unreachable!("generate() returns None only for a Dockerfile source")
            };
            std::fs::read_to_string(dir.join(path)).unwrap_or_default()
        }
    };
    let inputs = tau_cloud::tag::TagInputs {
        now: SystemTime::now(),
        git_sha: git_sha(&dir),
    };
    let tag = tau_cloud::tag::resolve(&config.registry, &inputs).map_err(super::errors::refusal)?;
    let image = format!(
        "{}/{}:{tag}",
        config.registry.url, config.registry.repository
    );
    Ok(Build {
        dockerfile,
        dockerfile_source,
        context,
        tag,
        image,
    })
}

/// The commit of the context directory, for `tag_strategy: git-sha`.
fn git_sha(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
