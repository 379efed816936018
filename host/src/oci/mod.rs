//! Mixins in OCI registries: `porter mixins publish` pushes a `.wasm` as a
//! CNCF wasm artifact ([`artifact`]), `porter mixins install --reference`
//! pulls one back, checking every digest on the way.
//!
//! - [`push_wasm`] pushes an artifact and returns its manifest digest;
//! - [`pull`] / [`pull_wasm`] fetch a reference's `.wasm` and its layer
//!   digest (the sha256 of the `.wasm`), which the install then requires
//!   of the bytes. Pulling by `@sha256:<manifest digest>` always gets the
//!   same bytes, whatever the tags now point at.
//!
//! Plain HTTP is used only for loopback registries (127.0.0.0/8,
//! `localhost`, `[::1]`) or when the user says `--insecure-registry`;
//! credentials come from Docker's config ([`auth`]).
//!
//! oci-client is asynchronous; the rest of porter is not. Each call owns a
//! single-threaded tokio runtime and blocks on it, as docker/engine.rs does.

pub mod artifact;
pub mod auth;
pub mod bundle;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest, Sha256};

use crate::mixin::install::MAX_WASM_BYTES;

/// The prefix of an OCI source recorded in `mixin.json`.
pub const SOURCE_SCHEME: &str = "oci://";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How to talk to registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Porter's `--insecure-registry`: plain HTTP for this registry even
    /// when it is not on loopback.
    pub insecure: bool,
    /// The directory of Docker's `config.json` (`DOCKER_CONFIG`, or
    /// `~/.docker`); `None` for no credentials.
    pub docker_config_dir: Option<PathBuf>,
}

impl RegistryOptions {
    /// Credentials where Docker finds them.
    pub fn from_env(insecure: bool) -> RegistryOptions {
        RegistryOptions {
            insecure,
            docker_config_dir: auth::docker_config_dir(),
        }
    }
}

/// A `.wasm` pushed to a registry.
#[derive(Debug, Clone)]
pub struct Published {
    /// The reference pushed to, in full (`registry/repository:tag`).
    pub reference: String,
    /// The manifest's digest: `repository@digest` names these bytes forever.
    pub manifest_digest: String,
    /// The `.wasm`'s digest (its layer's).
    pub layer_digest: String,
}

/// A `.wasm` pulled from a registry, its digests checked.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub wasm: Vec<u8>,
    /// `sha256:<hex>` of `wasm`: the layer digest the manifest published.
    pub layer_digest: String,
    pub manifest_digest: String,
    /// What to record as the mixin's source: `oci://` and the reference in
    /// full, as given (by tag, or by `@sha256:` digest).
    pub source: String,
}

/// Parses `REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]`, with or without
/// `oci://` in front.
pub fn parse_reference(text: &str) -> Result<Reference> {
    let bare = text.strip_prefix(SOURCE_SCHEME).unwrap_or(text);
    let invalid = |e: &dyn std::fmt::Display| {
        anyhow!(
            "'{text}' is not an OCI reference ({e}): give it as REGISTRY/REPOSITORY:TAG \
             or REGISTRY/REPOSITORY@sha256:DIGEST, e.g. registry.example.com/mixins/exec:1.0.0"
        )
    };
    let reference: Reference = match bare.split_once('/') {
        // Docker's grammar has no IPv6 hosts: parse the rest under a
        // stand-in registry, then put the bracketed address back.
        Some((registry, rest)) if registry.starts_with('[') => {
            let parsed: Reference = format!("ipv6.invalid/{rest}")
                .parse()
                .map_err(|e| invalid(&e))?;
            let (repository, registry) = (parsed.repository().to_string(), registry.to_string());
            match (parsed.tag(), parsed.digest()) {
                (Some(tag), Some(digest)) => Reference::with_tag_and_digest(
                    registry,
                    repository,
                    tag.to_string(),
                    digest.to_string(),
                ),
                (None, Some(digest)) => {
                    Reference::with_digest(registry, repository, digest.to_string())
                }
                (tag, None) => {
                    Reference::with_tag(registry, repository, tag.unwrap_or("latest").to_string())
                }
            }
        }
        _ => bare.parse().map_err(|e| invalid(&e))?,
    };
    if let Some(digest) = reference.digest()
        && !artifact::is_sha256_digest(digest)
    {
        bail!("'{text}': only sha256 digests are supported (@sha256:<64 lowercase hex digits>)");
    }
    Ok(reference)
}

/// Pushes `wasm` to `reference` (which must name a tag) as a wasm artifact.
pub fn push_wasm(
    reference: &str,
    wasm: &[u8],
    info: &artifact::ArtifactInfo<'_>,
    options: &RegistryOptions,
) -> Result<Published> {
    let parsed = parse_reference(reference)?;
    if parsed.digest().is_some() || parsed.tag().is_none() {
        bail!(
            "'{reference}' does not name a tag: publish to REGISTRY/REPOSITORY:TAG \
             (the manifest digest is printed once it is pushed)"
        );
    }
    let artifact = artifact::build(wasm, info);
    let session = Session::new(&parsed, options)?;
    session.block_on(async {
        let client = &session.client;
        client
            .store_auth_if_needed(parsed.resolve_registry(), &session.auth)
            .await;
        for blob in [&artifact.layer, &artifact.config] {
            let exists = client
                .blob_exists(&parsed, &blob.digest)
                .await
                .unwrap_or(false);
            if !exists {
                client
                    .push_blob(&parsed, blob.bytes.clone(), &blob.digest)
                    .await?;
            }
        }
        client
            .push_manifest_raw(
                &parsed,
                artifact.manifest.clone(),
                artifact::MANIFEST_MEDIA_TYPE
                    .parse()
                    .expect("a valid header value"),
            )
            .await?;
        Ok::<(), OciDistributionError>(())
    })?;
    Ok(Published {
        reference: parsed.whole(),
        manifest_digest: artifact.manifest_digest,
        layer_digest: artifact.layer.digest,
    })
}

/// Pulls the `.wasm` `reference` names (`oci://` in front or not):
/// its bytes and their digest (`sha256:<hex>`), the layer digest the
/// manifest published, which the bytes were checked against.
///
/// For re-fetching a source recorded in `mixin.json` (or a lock): a
/// recorded `oci://…@sha256:` source always gives the same bytes; a tag
/// may have moved since, so compare the digest with the recorded one, or
/// install with the recorded digest as `InstallRequest::expected_digest`
/// and the mismatch is refused before anything is written.
pub fn pull_wasm(reference: &str, options: &RegistryOptions) -> Result<(Vec<u8>, String)> {
    let pulled = pull(reference, options)?;
    Ok((pulled.wasm, pulled.layer_digest))
}

/// Pulls the manifest `reference` names, checks it is a wasm artifact,
/// and pulls its layer, checking its size and digest.
pub fn pull(reference: &str, options: &RegistryOptions) -> Result<Pulled> {
    pull_expecting(reference, None, options)
}

/// [`pull`], refusing before the layer is downloaded when the manifest
/// names another `.wasm` than `expected` (`sha256:<hex>`, e.g. `--digest`
/// or a locked digest: a tag that moved).
pub fn pull_expecting(
    reference: &str,
    expected: Option<&str>,
    options: &RegistryOptions,
) -> Result<Pulled> {
    let parsed = parse_reference(reference)?;
    let session = Session::new(&parsed, options)?;
    let whole = parsed.whole();
    session.block_on(async {
        let client = &session.client;
        // Manifests by digest are checked against it by oci-client.
        let (manifest, manifest_digest) = client
            .pull_manifest_raw(&parsed, &session.auth, ACCEPTED_MANIFESTS)
            .await?;
        let layer = artifact::wasm_layer(&manifest).map_err(|what| {
            PullError::Porter(anyhow!(
                "{whole} is not a mixin: {what}; publish mixins with `porter mixins publish`"
            ))
        })?;
        if let Some(expected) = expected
            && expected != layer.digest
        {
            return Err(PullError::Porter(anyhow!(
                "{whole} is a .wasm with digest {}, not the expected {expected}: \
                 nothing was installed; if the tag was moved on purpose, give the new digest",
                layer.digest
            )));
        }
        if layer.size > MAX_WASM_BYTES {
            return Err(PullError::Porter(anyhow!(
                "{whole}'s wasm layer is {} MiB, larger than any mixin ({} MiB at most)",
                layer.size >> 20,
                MAX_WASM_BYTES >> 20
            )));
        }
        let descriptor = OciDescriptor {
            media_type: artifact::WASM_LAYER_MEDIA_TYPE.to_string(),
            digest: layer.digest.clone(),
            size: layer.size as i64,
            ..OciDescriptor::default()
        };
        let mut stream = client.pull_blob_stream(&parsed, &descriptor).await?;
        let mut wasm = Vec::with_capacity(layer.size as usize);
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(OciDistributionError::from)?;
            if (wasm.len() + chunk.len()) as u64 > layer.size {
                return Err(PullError::Porter(anyhow!(
                    "the registry sent more than the {} bytes {whole}'s manifest gives its layer",
                    layer.size
                )));
            }
            hasher.update(&chunk);
            wasm.extend_from_slice(&chunk);
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != layer.digest {
            return Err(PullError::Porter(anyhow!(
                "the registry sent a layer whose digest is {actual}, not the {} {whole}'s \
                 manifest names ({} of {} bytes): nothing was installed; try again, and \
                 report it to the registry's operators if it persists",
                layer.digest,
                wasm.len(),
                layer.size
            )));
        }
        Ok(Pulled {
            wasm,
            layer_digest: layer.digest,
            manifest_digest,
            source: format!("{SOURCE_SCHEME}{whole}"),
        })
    })
}

/// The manifest types asked for: an OCI or Docker image manifest (an index
/// is accepted only to say clearly that it is not a mixin).
const ACCEPTED_MANIFESTS: &[&str] = &[
    oci_client::manifest::OCI_IMAGE_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE,
    oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
];

/// Whether plain HTTP is allowed without `--insecure-registry`: the
/// registry is on this machine's loopback.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.split(':').next().unwrap_or(registry)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What went wrong in a session: the registry's error, or porter's own
/// (already explained).
enum PullError {
    Registry(OciDistributionError),
    Porter(anyhow::Error),
}

impl From<OciDistributionError> for PullError {
    fn from(e: OciDistributionError) -> Self {
        PullError::Registry(e)
    }
}

/// One command's connection to one registry.
struct Session {
    runtime: tokio::runtime::Runtime,
    client: Client,
    auth: RegistryAuth,
    /// `http` or `https`, for messages.
    scheme: &'static str,
    registry: String,
    reference: String,
    credentials: auth::Credentials,
    /// Said when the reference names nothing.
    missing_hint: &'static str,
}

impl Session {
    fn new(reference: &Reference, options: &RegistryOptions) -> Result<Session> {
        let registry = reference.resolve_registry().to_string();
        let plain_http = options.insecure || is_loopback(&registry);
        let credentials = auth::credentials(options.docker_config_dir.as_deref(), &registry)?;
        let auth = match &credentials.basic {
            Some((user, password)) => RegistryAuth::Basic(user.clone(), password.clone()),
            None => RegistryAuth::Anonymous,
        };
        // The ring provider: the one rustls already uses for the Docker
        // engine's TLS, so no second crypto backend is compiled in. Fails
        // only when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = ClientConfig {
            protocol: if plain_http {
                ClientProtocol::HttpsExcept(vec![registry.clone()])
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        let client = Client::try_from(config)
            .map_err(|e| anyhow!("cannot set up the registry client: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the I/O runtime for the registry")?;
        Ok(Session {
            runtime,
            client,
            auth,
            scheme: if plain_http { "http" } else { "https" },
            registry,
            reference: reference.whole(),
            credentials,
            missing_hint: MIXIN_MISSING,
        })
    }

    fn block_on<T, E: Into<PullError>>(
        &self,
        work: impl std::future::Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        self.runtime.block_on(work).map_err(|e| match e.into() {
            PullError::Registry(e) => self.explain(e),
            PullError::Porter(e) => e,
        })
    }

    /// The registry's error, said with what to do next.
    fn explain(&self, error: OciDistributionError) -> anyhow::Error {
        let at = format!("the registry at {}://{}", self.scheme, self.registry);
        let reference = &self.reference;
        match &error {
            OciDistributionError::RequestError(e) => {
                let cause = crate::error_text::one_line(e);
                if e.is_timeout() {
                    anyhow!(
                        "{at} did not answer in time ({cause}): check that it is up and reachable, then try again"
                    )
                } else if cause.contains("onnection refused") {
                    anyhow!(
                        "cannot reach {at}: connection refused: is the registry running, \
                         and is {} the right address?",
                        self.registry
                    )
                } else if self.scheme == "https"
                    && (cause.contains("InvalidContentType")
                        || cause.contains("corrupt message")
                        || cause.contains("tls")
                        || cause.contains("TLS"))
                {
                    anyhow!(
                        "cannot talk TLS to {at} ({cause}): if it serves plain HTTP, \
                         pass --insecure-registry"
                    )
                } else {
                    anyhow!("cannot reach {at}: {cause}")
                }
            }
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => self.unauthorized(&error),
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                let messages: Vec<&str> =
                    envelope.errors.iter().map(|e| e.message.as_str()).collect();
                let messages = messages.join("; ");
                if codes.contains(&&OciErrorCode::NameUnknown)
                    || codes.contains(&&OciErrorCode::ManifestUnknown)
                    || codes.contains(&&OciErrorCode::NotFound)
                {
                    not_found(&at, reference, &messages, self.missing_hint)
                } else if codes.contains(&&OciErrorCode::Unauthorized)
                    || codes.contains(&&OciErrorCode::Denied)
                {
                    self.unauthorized(&error)
                } else {
                    anyhow!("{at} refused the request for {reference}: {messages}")
                }
            }
            OciDistributionError::ServerError { code, message, .. } => match code {
                401 | 403 => self.unauthorized(&error),
                404 => not_found(&at, reference, "not found", self.missing_hint),
                _ => anyhow!(
                    "{at} answered HTTP {code} for {reference}: {}",
                    message.trim()
                ),
            },
            OciDistributionError::DigestError(e) => anyhow!(
                "{at} sent content for {reference} that does not match its digest ({e}): \
                 nothing was installed"
            ),
            OciDistributionError::IoError(e) => {
                anyhow!(
                    "the connection to {at} failed for {reference}: {}",
                    crate::error_text::one_line(e)
                )
            }
            _ => anyhow!("{at} failed for {reference}: {error}"),
        }
    }

    fn unauthorized(&self, error: &OciDistributionError) -> anyhow::Error {
        let registry = &self.registry;
        let config = match &self.credentials.config_file {
            Some(file) => file.display().to_string(),
            None => "config.json in DOCKER_CONFIG or ~/.docker".to_string(),
        };
        let what = if self.credentials.basic.is_some() {
            format!("refused the credentials for {registry} in {config}")
        } else {
            format!("requires credentials, and {config} has none for {registry} in \"auths\"")
        };
        let helper = match &self.credentials.helper {
            Some(helper) if self.credentials.basic.is_none() => format!(
                "; your Docker config has the credential helper {helper} for it, which porter \
                 does not run: put the credentials in \"auths\" (a DOCKER_CONFIG directory \
                 whose config.json has no credsStore, then `docker login {registry}`)"
            ),
            _ => String::new(),
        };
        anyhow!(
            "the registry at {}://{registry} {what} ({error}): log in with \
             `docker login {registry}`{helper}",
            self.scheme
        )
    }
}

/// A reference the registry does not have.
fn not_found(at: &str, reference: &str, answer: &str, hint: &str) -> anyhow::Error {
    anyhow!("{at} has no {reference}: no such repository, tag or digest ({answer}); {hint}")
}

/// What to do when a mixin's reference names nothing.
const MIXIN_MISSING: &str = "check the reference, or publish the mixin there first \
     (porter mixins publish --file X.wasm --reference REGISTRY/REPOSITORY:TAG)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_told_apart() {
        for registry in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost:5000",
            "LOCALHOST",
            "[::1]:5000",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in [
            "registry.example.com",
            "10.0.0.1:5000",
            "localhost.example.com:5000",
            "docker.io",
        ] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }

    #[test]
    fn references_are_parsed_with_or_without_the_scheme() {
        let r = parse_reference("oci://127.0.0.1:5000/mixins/exec:1.0.0").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "mixins/exec");
        assert_eq!(r.tag(), Some("1.0.0"));
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = parse_reference(&format!("127.0.0.1:5000/mixins/exec@{digest}")).unwrap();
        assert_eq!(r.digest(), Some(digest.as_str()));
        let r = parse_reference("[::1]:5000/mixins/exec:1.0.0").unwrap();
        assert_eq!(r.registry(), "[::1]:5000");
        assert_eq!(r.whole(), "[::1]:5000/mixins/exec:1.0.0");
        assert!(is_loopback(r.resolve_registry()));
        let err = parse_reference("Not A Reference").unwrap_err().to_string();
        assert!(err.contains("is not an OCI reference"), "{err}");
    }
}
