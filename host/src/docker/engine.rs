//! The connection to a Docker engine: where it is (`DOCKER_HOST`, a unix
//! socket by default, tcp for a remote engine, with Docker's
//! `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH`), which API version both sides
//! speak (negotiated, so a 20.10 engine works as well as a current one), and
//! a clear error when nothing answers.
//!
//! bollard is asynchronous; the rest of porter is not. An [`Engine`] owns a
//! single-threaded tokio runtime and blocks on it, so callers see plain
//! functions.

use std::time::Duration;

use anyhow::{Context, Result};
use bollard::Docker;

use super::image_build;
use crate::build::{BuiltImage, ImageEngine, ImageRequest};

/// Docker's default address on Linux.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// How long an engine has to answer a short request (version, inspect).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// An image build may run for a long time (package installs); bollard's
/// timeout covers the wait for the response's first bytes.
const BUILD_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// A Docker engine that answered.
pub struct Engine {
    runtime: tokio::runtime::Runtime,
    docker: Docker,
    address: String,
    api_version: String,
}

impl Engine {
    /// Connects to the engine `DOCKER_HOST` names (or Docker's default) and
    /// negotiates the API version.
    pub fn connect() -> Result<Engine> {
        let address = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the I/O runtime for the Docker engine")?;
        let docker = match Docker::connect_with_defaults() {
            Ok(docker) => docker.with_timeout(ANSWER_TIMEOUT),
            Err(bollard::errors::Error::UnsupportedURISchemeError { uri }) => anyhow::bail!(
                "DOCKER_HOST={uri} is not an engine address porter can use: \
                 set it to unix:///path/to/docker.sock or tcp://host:port (with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for TLS)"
            ),
            Err(e) => return Err(unavailable(&address, &describe(&e))),
        };
        let docker = runtime
            .block_on(async {
                tokio::time::timeout(ANSWER_TIMEOUT, docker.negotiate_version()).await
            })
            .map_err(|_| unavailable(&address, "it did not answer within 30 seconds"))?
            .map_err(|e| unavailable(&address, &describe(&e)))?;
        let api_version = docker.client_version().to_string();
        Ok(Engine {
            runtime,
            docker: docker.with_timeout(BUILD_TIMEOUT),
            address,
            api_version,
        })
    }

    /// The image `reference` names, if the engine has it: its ID and size.
    pub fn inspect(&self, reference: &str) -> Result<Option<BuiltImage>> {
        let answer = self.runtime.block_on(async {
            tokio::time::timeout(ANSWER_TIMEOUT, self.docker.inspect_image(reference)).await
        });
        match answer {
            Err(_) => Err(unavailable(
                &self.address,
                "it did not answer within 30 seconds",
            )),
            Ok(Ok(image)) => Ok(image.id.map(|id| BuiltImage {
                id,
                size: image.size.and_then(|s| u64::try_from(s).ok()),
            })),
            Ok(Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            })) => Ok(None),
            Ok(Err(e)) => Err(anyhow::anyhow!(
                "the Docker engine at {} could not inspect {reference}: {}",
                self.address,
                describe(&e)
            )),
        }
    }
}

impl ImageEngine for Engine {
    fn has_image(&self, reference: &str, id: &str) -> Result<bool> {
        Ok(self.inspect(reference)?.is_some_and(|image| image.id == id))
    }

    fn build_image(&self, request: &ImageRequest<'_>) -> Result<BuiltImage> {
        let engine = format!("{}, API {}", self.address, self.api_version);
        let id = image_build::run(&self.runtime, &self.docker, &engine, request)?;
        // The size, and the full ID when the engine gave a short one.
        match self.inspect(request.tag)? {
            Some(image) => Ok(image),
            None => Ok(BuiltImage { id, size: None }),
        }
    }
}

/// The error for an engine that cannot be reached, with what to do next.
pub(super) fn unavailable(address: &str, cause: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot reach the Docker engine at {address}: {cause}\n\
         \x20 hint: start the engine (`sudo systemctl start docker`, or `sudo dockerd &`), \
         set DOCKER_HOST to an engine that is running, \
         or pass --no-image to write .cnab/ without building the image"
    )
}

/// bollard's errors, with the cause a user can act on.
pub(super) fn describe(error: &bollard::errors::Error) -> String {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError { message, .. } => message.clone(),
        Error::SocketNotFoundError(path) => format!("no socket at {path}"),
        other => crate::error_text::one_line(other),
    }
}
