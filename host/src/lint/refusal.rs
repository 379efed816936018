//! A mixin hook's `invalid-config` refusal, as porter.yaml errors: one per
//! problem the mixin names, each on the value its pointer names, rather
//! than one line about the mixin.

use crate::manifest::mixin_place::MixinPlaces;
use crate::manifest::{Diagnostic, LoadedManifest, ManifestErrors};
use crate::mixin::{HookError, HookErrorKind, Refusal};

/// Each problem of an `invalid-config` refusal, placed and in file order;
/// `None` for any other failure of the hook.
pub fn diagnostics(loaded: &LoadedManifest, error: &HookError) -> Option<Vec<Diagnostic>> {
    let HookErrorKind::Refused(Refusal::InvalidConfig(problems)) = &error.kind else {
        return None;
    };
    let mixin = &error.mixin.name;
    let places = MixinPlaces::new(&loaded.manifest, mixin);
    let located = |pointer: &str, message: String| {
        let at = loaded.source.locations.value(pointer);
        Diagnostic::error(&loaded.source, at, message).hint(format!(
            "change this as mixin {mixin} asks; \
             `porter schema` shows what its config and steps accept"
        ))
    };
    if problems.is_empty() {
        return Some(vec![located(&places.declaration(), error.to_string())]);
    }
    let mut found: Vec<Diagnostic> = problems
        .iter()
        .map(|problem| {
            let message = format!(
                "mixin {} ({}): {}",
                error.mixin, error.hook, problem.message
            );
            located(&places.problem(&problem.pointer), message)
        })
        .collect();
    found.sort_by_key(|d| d.at);
    Some(found)
}

/// A hook's failure during `porter build`: an `invalid-config` refusal
/// becomes the porter.yaml errors it names; anything else is kept as it is.
pub fn located(loaded: &LoadedManifest, error: anyhow::Error) -> anyhow::Error {
    let placed = error
        .downcast_ref::<HookError>()
        .and_then(|failed| diagnostics(loaded, failed));
    match placed {
        Some(diagnostics) => ManifestErrors {
            file: loaded.source.path.clone(),
            diagnostics,
            next_step: None,
        }
        .into(),
        None => error,
    }
}
