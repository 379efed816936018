//! bundle.json `invocationImages` and `images`: Porter's `ToBundle` and
//! `generateBundleImages`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::manifest::Image;

use super::InvocationImage;

/// The single invocation image Porter lists: always of type `docker`.
pub(super) fn invocation_images(image: &InvocationImage) -> Value {
    let mut entry = Map::new();
    entry.insert("imageType".into(), "docker".into());
    entry.insert("image".into(), image.image.clone().into());
    if let Some(size) = image.size {
        entry.insert("size".into(), size.into());
    }
    if let Some(id) = &image.image_id {
        let mut labels = Map::new();
        labels.insert(super::IMAGE_ID_LABEL.into(), id.clone().into());
        entry.insert("labels".into(), Value::Object(labels));
    }
    Value::Array(vec![Value::Object(entry)])
}

/// `images`, by alias. The reference is pinned by digest when one is known,
/// else by tag, else `:latest`. cnab-go always writes `description`.
pub(super) fn images(images: &BTreeMap<String, Image>) -> Map<String, Value> {
    images
        .iter()
        .map(|(alias, image)| (alias.clone(), bundle_image(image)))
        .collect()
}

fn bundle_image(image: &Image) -> Value {
    let mut entry = Map::new();
    let image_type = if image.image_type.is_empty() {
        "docker"
    } else {
        &image.image_type
    };
    entry.insert("imageType".into(), image_type.into());
    entry.insert("image".into(), image_reference(image).into());
    if !image.digest.is_empty() {
        entry.insert("contentDigest".into(), image.digest.clone().into());
    }
    if image.size != 0 {
        entry.insert("size".into(), image.size.into());
    }
    if !image.labels.is_empty() {
        let labels: Map<String, Value> = image
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        entry.insert("labels".into(), labels.into());
    }
    if !image.media_type.is_empty() {
        entry.insert("mediaType".into(), image.media_type.clone().into());
    }
    entry.insert("description".into(), image.description.clone().into());
    Value::Object(entry)
}

fn image_reference(image: &Image) -> String {
    if !image.digest.is_empty() {
        format!("{}@{}", image.repository, image.digest)
    } else if !image.tag.is_empty() {
        format!("{}:{}", image.repository, image.tag)
    } else {
        format!("{}:latest", image.repository)
    }
}
