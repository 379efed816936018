//! Where the pointers a mixin returns are in porter.yaml. A mixin sees its
//! own input, not the file: its `config` block, and per action only its own
//! steps. Each pointer into that input is mapped back to the node it names
//! in porter.yaml or, when the mixin made it up, to the nearest ancestor
//! written there (never to nothing).

use super::model::{Action, Manifest, Step};
use super::source::escape;

/// One mixin's input, as written in porter.yaml.
pub struct MixinPlaces<'m> {
    manifest: &'m Manifest,
    mixin: &'m str,
}

impl<'m> MixinPlaces<'m> {
    pub fn new(manifest: &'m Manifest, mixin: &'m str) -> Self {
        MixinPlaces { manifest, mixin }
    }

    /// `pointer` inside the mixin's `config` block (`/packages/1`); inside
    /// the declaration when the mixin is declared by name only.
    pub fn config(&self, pointer: &str) -> String {
        match self.manifest.mixin(self.mixin) {
            Some(declaration) => join(&declaration.config_pointer, pointer),
            None => String::new(),
        }
    }

    /// The mixin's declaration (`- picky: ...`), the whole of its input.
    pub fn declaration(&self) -> String {
        self.manifest
            .mixin(self.mixin)
            .map(|d| d.pointer.clone())
            .unwrap_or_default()
    }

    /// `pointer` inside the body of the mixin's `number`th (1-based) step in
    /// `action`, as a lint result's step-location names it. A step the
    /// action does not have falls back to the action, an action without the
    /// mixin's steps to the declaration.
    pub fn step(&self, action: &str, number: u32, pointer: &str) -> String {
        match self.find_step(action, number) {
            Ok(step) => join(&format!("{}/{}", step.pointer, escape(self.mixin)), pointer),
            Err(fallback) => fallback,
        }
    }

    /// The step itself (`- picky: ...`), with [`step`](Self::step)'s fallbacks.
    pub fn step_entry(&self, action: &str, number: u32) -> String {
        match self.find_step(action, number) {
            Ok(step) => step.pointer.clone(),
            Err(fallback) => fallback,
        }
    }

    fn find_step(&self, action: &str, number: u32) -> Result<&'m Step, String> {
        let Some(action) = self.action(action) else {
            return Err(self.declaration());
        };
        (number as usize)
            .checked_sub(1)
            .and_then(|index| self.steps(action).nth(index))
            .ok_or_else(|| action.pointer.clone())
    }

    /// A pointer from an `invalid-config` problem. It names a step
    /// (`/<action>/<index among the mixin's steps>/<path in the body>`) when
    /// its first token is an action holding the mixin's steps and the
    /// config has nothing at that pointer; otherwise it is into the config.
    pub fn problem(&self, pointer: &str) -> String {
        let config = self
            .manifest
            .mixin(self.mixin)
            .and_then(|d| d.config.as_ref());
        let in_config = config.is_some_and(|c| c.pointer(pointer).is_some());
        match self.step_parts(pointer) {
            Some((action, number, inside)) if !in_config => self.step(action, number, &inside),
            _ => self.config(pointer),
        }
    }

    /// `/<action>/<index>/<rest>` as the action's name, the 1-based step
    /// number (0 when the index is missing or not a number) and `/<rest>`.
    fn step_parts(&self, pointer: &str) -> Option<(&'m str, u32, String)> {
        let mut tokens = pointer.strip_prefix('/')?.splitn(3, '/');
        let action = self.action(&unescape(tokens.next()?))?;
        let number = tokens
            .next()
            .and_then(|index| index.parse::<u32>().ok())
            .map_or(0, |index| index.saturating_add(1));
        let inside = tokens.next().map(|p| format!("/{p}")).unwrap_or_default();
        Some((&action.name, number, inside))
    }

    /// `name`, when it is an action holding at least one of the mixin's steps.
    fn action(&self, name: &str) -> Option<&'m Action> {
        self.manifest
            .action(name)
            .filter(|action| self.steps(action).next().is_some())
    }

    fn steps(&self, action: &'m Action) -> impl Iterator<Item = &'m Step> {
        let mixin = self.mixin;
        action.steps.iter().filter(move |s| s.mixin == mixin)
    }
}

/// `pointer` under `base`; a pointer without its leading `/` (RFC 6901
/// wants one) is taken as meant.
fn join(base: &str, pointer: &str) -> String {
    match pointer {
        "" => base.to_string(),
        p if p.starts_with('/') => format!("{base}{p}"),
        p => format!("{base}/{p}"),
    }
}

/// One JSON Pointer token as written (RFC 6901).
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{LoadedManifest, Position, load_str};

    /// picky's config is on lines 8-9; its steps are porter.yaml's
    /// `/install/1` (line 13) and `/uninstall/0` (line 16).
    const TEXT: &str = "schemaVersion: 1.0.1\nname: t\nversion: 0.1.0\nregistry: example.com\nmixins:\n  - exec\n  - picky@0.1:\n      packages: [tree]\n      install: [x]\ninstall:\n  - exec:\n      command: ./install.sh\n  - picky:\n      script: ./install.sh\nuninstall:\n  - picky:\n      script: ./uninstall.sh\n";

    fn loaded() -> LoadedManifest {
        load_str("porter.yaml", TEXT.to_string()).unwrap()
    }

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn config_and_step_pointers_name_their_place_in_porter_yaml() {
        let loaded = loaded();
        let places = MixinPlaces::new(&loaded.manifest, "picky");
        let config = "/mixins/1/picky@0.1";
        assert_eq!(places.config("/packages/0"), format!("{config}/packages/0"));
        assert_eq!(
            places.problem("/packages/0"),
            format!("{config}/packages/0")
        );
        // picky's first install step is porter.yaml's second.
        assert_eq!(
            places.problem("/install/0/script"),
            "/install/1/picky/script"
        );
        assert_eq!(places.problem("/uninstall/0"), "/uninstall/0/picky");
        assert_eq!(
            places.step("install", 1, "/script"),
            "/install/1/picky/script"
        );
        assert_eq!(places.step("uninstall", 1, ""), "/uninstall/0/picky");
        assert_eq!(places.step_entry("uninstall", 1), "/uninstall/0");
        // A pointer the config has is the config's, even when it starts
        // with an action's name.
        assert_eq!(places.problem("/install"), format!("{config}/install"));
        let lines = &loaded.source.locations;
        assert_eq!(lines.value(&places.problem("/packages/0")), at(8, 18));
        assert_eq!(
            lines.value(&places.problem("/install/0/script")),
            at(14, 15)
        );
    }

    #[test]
    fn made_up_pointers_fall_back_to_the_nearest_ancestor_written() {
        let loaded = loaded();
        let places = MixinPlaces::new(&loaded.manifest, "picky");
        let lines = &loaded.source.locations;
        // A step past the mixin's steps: the action's list.
        assert_eq!(places.step("install", 2, "/script"), "/install");
        assert_eq!(places.step("install", 0, ""), "/install");
        assert_eq!(places.problem("/install/5/script"), "/install");
        assert_eq!(places.problem("/install/first"), "/install");
        assert_eq!(lines.value(&places.problem("/install/5/script")), at(11, 3));
        // An action without the mixin's steps: the declaration, or (for a
        // problem, whose pointer is then into the config) the config block.
        assert_eq!(places.step("upgrade", 1, "/script"), "/mixins/1");
        assert_eq!(lines.value(&places.step("upgrade", 1, "")), at(7, 5));
        assert_eq!(lines.value(&places.problem("/upgrade/0/script")), at(8, 7));
        // A field the step or config does not have: the step body, the
        // config block, the nearest value that is written.
        assert_eq!(
            lines.value(&places.step("install", 1, "/no/such")),
            at(14, 7)
        );
        assert_eq!(lines.value(&places.problem("/packages/7")), at(8, 17));
        // A pointer without its leading `/`.
        assert_eq!(
            places.step("install", 1, "script"),
            "/install/1/picky/script"
        );
    }

    #[test]
    fn a_mixin_declared_by_name_has_its_config_at_the_declaration() {
        let loaded = loaded();
        let places = MixinPlaces::new(&loaded.manifest, "exec");
        assert_eq!(places.config(""), "/mixins/0");
        assert_eq!(
            loaded.source.locations.value(&places.problem("/x")),
            at(6, 5)
        );
        assert_eq!(
            places.problem("/install/0/command"),
            "/install/0/exec/command"
        );
    }
}
