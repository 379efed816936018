//! CNAB bundles in OCI registries, laid out as cnab-to-oci (and so Porter)
//! pushes them: an OCI index whose first manifest (annotated
//! `io.cnab.manifest.type: config`) has bundle.json as its config blob.
//!
//! - [`resolve_digest`]: the digest a reference's tag names now, which
//!   dependencies v2 pins a dependency to;
//! - [`pull_bundle`]: a dependency's bundle.json, which lint checks its
//!   mappings against;
//! - [`push_bundle`]: the same layout pushed (what `porter publish` pushes
//!   for a bundle's definition; the tests publish dependencies with it).

use anyhow::{Result, anyhow, bail};
use futures_util::StreamExt;
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    ImageIndexEntry, OciDescriptor, OciImageIndex, OciImageManifest, OciManifest,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ACCEPTED_MANIFESTS, PullError, RegistryOptions, Session, parse_reference};

/// cnab-to-oci's media type for bundle.json as a config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cnab.config.v1+json";
/// The annotation naming each manifest's role in a bundle's index.
const MANIFEST_TYPE: &str = "io.cnab.manifest.type";
/// Larger than any bundle.json has reason to be.
const MAX_BUNDLE_BYTES: usize = 16 << 20;

const BUNDLE_MISSING: &str = "check the dependency's reference, or publish the bundle there first";

/// The manifest digest `reference` names (`sha256:<hex>`): by its digest
/// when it has one, else what its tag points at now.
pub fn resolve_digest(reference: &str, options: &RegistryOptions) -> Result<String> {
    let parsed = parse_reference(reference)?;
    if let Some(digest) = parsed.digest() {
        return Ok(digest.to_string());
    }
    let session = bundle_session(&parsed, options)?;
    session.block_on(async {
        let (_, digest) = session
            .client
            .pull_manifest_raw(&parsed, &session.auth, ACCEPTED_MANIFESTS)
            .await?;
        Ok::<_, PullError>(digest)
    })
}

/// The bundle.json `reference` names, parsed.
pub fn pull_bundle(reference: &str, options: &RegistryOptions) -> Result<Value> {
    let parsed = parse_reference(reference)?;
    let whole = parsed.whole();
    let session = bundle_session(&parsed, options)?;
    let not_a_bundle =
        |what: &str| PullError::Porter(anyhow!("{whole} is not a CNAB bundle: {what}"));
    session.block_on(async {
        let client = &session.client;
        let (manifest, _) = client.pull_manifest(&parsed, &session.auth).await?;
        let config_manifest = match manifest {
            OciManifest::Image(image) => image,
            OciManifest::ImageIndex(index) => {
                let entry = index
                    .manifests
                    .iter()
                    .find(|m| {
                        m.annotations.as_ref().and_then(|a| a.get(MANIFEST_TYPE))
                            == Some(&"config".to_string())
                    })
                    .ok_or_else(|| not_a_bundle("its index has no config manifest"))?;
                let by_digest = parsed.clone_with_digest(entry.digest.clone());
                match client.pull_manifest(&by_digest, &session.auth).await?.0 {
                    OciManifest::Image(image) => image,
                    OciManifest::ImageIndex(_) => {
                        return Err(not_a_bundle("its config manifest is an index"));
                    }
                }
            }
        };
        let config = &config_manifest.config;
        if config.size < 0 || config.size as usize > MAX_BUNDLE_BYTES {
            return Err(not_a_bundle("its bundle.json is larger than any bundle's"));
        }
        // Streamed and capped at the size the manifest gives: a registry
        // cannot make lint hold more than that before the digest check.
        let mut stream = client.pull_blob_stream(&parsed, config).await?;
        let mut bytes = Vec::with_capacity(config.size as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(OciDistributionError::from)?;
            if (bytes.len() + chunk.len()) as i64 > config.size {
                return Err(PullError::Porter(anyhow!(
                    "the registry sent more than the {} bytes {whole}'s manifest gives its bundle.json",
                    config.size
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if actual != config.digest {
            return Err(PullError::Porter(anyhow!(
                "the registry sent {whole}'s bundle.json with digest {actual}, not {}",
                config.digest
            )));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| not_a_bundle(&format!("its bundle.json is not JSON ({e})")))
    })
}

/// Pushes `bundle_json` (canonical bytes) to `reference` (a tag) as
/// cnab-to-oci lays a bundle out, and returns the index's digest.
pub fn push_bundle(
    reference: &str,
    bundle_json: &[u8],
    options: &RegistryOptions,
) -> Result<String> {
    let parsed = parse_reference(reference)?;
    if parsed.digest().is_some() || parsed.tag().is_none() {
        bail!("'{reference}' does not name a tag: push a bundle to REGISTRY/REPOSITORY:TAG");
    }
    let config = blob(CONFIG_MEDIA_TYPE, bundle_json);
    let manifest = OciImageManifest {
        config: config.clone(),
        layers: Vec::new(),
        ..OciImageManifest::default()
    };
    let manifest_bytes = serde_json::to_vec(&manifest)?;
    let entry = blob(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE, &manifest_bytes);
    let index = OciImageIndex {
        schema_version: 2,
        media_type: Some(oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE.to_string()),
        manifests: vec![ImageIndexEntry {
            media_type: entry.media_type.clone(),
            digest: entry.digest.clone(),
            size: entry.size,
            platform: None,
            annotations: Some([(MANIFEST_TYPE.to_string(), "config".to_string())].into()),
            artifact_type: None,
        }],
        artifact_type: None,
        annotations: None,
    };
    let index_bytes = serde_json::to_vec(&index)?;
    let index_digest = blob(
        oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE,
        &index_bytes,
    )
    .digest;
    let session = bundle_session(&parsed, options)?;
    session.block_on(async {
        let client = &session.client;
        client
            .store_auth_if_needed(parsed.resolve_registry(), &session.auth)
            .await;
        client
            .push_blob(&parsed, bundle_json.to_vec(), &config.digest)
            .await?;
        let by_digest = parsed.clone_with_digest(entry.digest.clone());
        client
            .push_manifest_raw(
                &by_digest,
                manifest_bytes,
                oci_client::manifest::OCI_IMAGE_MEDIA_TYPE
                    .parse()
                    .expect("a header value"),
            )
            .await?;
        client
            .push_manifest_raw(
                &parsed,
                index_bytes,
                oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE
                    .parse()
                    .expect("a header value"),
            )
            .await?;
        Ok::<(), OciDistributionError>(())
    })?;
    Ok(index_digest)
}

fn blob(media_type: &str, bytes: &[u8]) -> OciDescriptor {
    OciDescriptor {
        media_type: media_type.to_string(),
        digest: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
        size: bytes.len() as i64,
        ..OciDescriptor::default()
    }
}

fn bundle_session(reference: &oci_client::Reference, options: &RegistryOptions) -> Result<Session> {
    let mut session = Session::new(reference, options)?;
    session.missing_hint = BUNDLE_MISSING;
    Ok(session)
}
