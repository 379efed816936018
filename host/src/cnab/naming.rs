//! The names Porter derives when it maps porter.yaml onto bundle.json:
//! environment variables, definition names, the hidden wiring parameters,
//! paths inside the invocation image and extension keys.
//!
//! Each function says which Porter function it mirrors (`pkg/manifest`,
//! `pkg/cnab/config-adapter`, `pkg/cnab` at getporter/porter 9b11297).

use crate::layout::{APP_DIR, OUTPUTS_DIR};

/// What a definition describes; the suffix of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionKind {
    Parameter,
    Output,
    /// Porter's own state parameter and output (`porter-state`).
    State,
}

impl DefinitionKind {
    fn suffix(self) -> &'static str {
        match self {
            DefinitionKind::Parameter => "-parameter",
            DefinitionKind::Output => "-output",
            DefinitionKind::State => "-state",
        }
    }
}

/// `manifest.ParamToEnvVar`: upper case, with `-` and `.` as `_`. Used for
/// parameters that name no destination and for the wiring parameters.
pub fn env_var_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => crate::go::to_upper(c),
        })
        .collect()
}

/// `addDefinition`: `<name>-parameter`, `<name>-output` or `<name>-state`,
/// unless the name already ends with that suffix.
pub fn definition_name(name: &str, kind: DefinitionKind) -> String {
    if name.ends_with(kind.suffix()) {
        name.to_string()
    } else {
        format!("{name}{}", kind.suffix())
    }
}

/// `manifest.GetParameterSourceForOutput`: the hidden parameter through
/// which a bundle output is fed back into later actions.
pub fn output_wiring_parameter(output: &str) -> String {
    format!("porter-{output}-output")
}

/// `manifest.GetParameterSourceForDependency`: the hidden parameter through
/// which a dependency's output reaches this bundle.
pub fn dependency_output_wiring_parameter(dependency: &str, output: &str) -> String {
    format!("porter-{dependency}-{output}-dep-output")
}

/// `X` of the template variable `bundle.outputs.X` (Porter's
/// `^bundle\.outputs\.(.+)$`).
pub fn templated_output(variable: &str) -> Option<&str> {
    variable
        .strip_prefix("bundle.outputs.")
        .filter(|name| !name.is_empty())
}

/// `(D, O)` of the template variable `bundle.dependencies.D.outputs.O`
/// (Porter's greedy `^bundle\.dependencies\.(.+).outputs.(.+)$`).
pub fn templated_dependency_output(variable: &str) -> Option<(&str, &str)> {
    let rest = variable.strip_prefix("bundle.dependencies.")?;
    let at = rest.rfind(".outputs.")?;
    let (dependency, output) = (&rest[..at], &rest[at + ".outputs.".len()..]);
    (!dependency.is_empty() && !output.is_empty()).then_some((dependency, output))
}

/// `manifest.ResolvePath`: absolute paths are kept as written, relative ones
/// are joined to `/cnab/app` (and cleaned, as Go's `path.Join` does).
pub fn resolve_path(value: &str) -> String {
    if value.is_empty() || value.starts_with('/') {
        value.to_string()
    } else {
        clean_absolute(&format!("{APP_DIR}/{value}"))
    }
}

/// Where an output is collected: always `/cnab/app/outputs/<name>`, whatever
/// path the manifest gives (that one only tells the runtime where to look).
pub fn output_path(name: &str) -> String {
    clean_absolute(&format!("{OUTPUTS_DIR}/{name}"))
}

/// Go's `path.Clean` for an absolute path: no `.`, no `..`, no `//`.
fn clean_absolute(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            segment => parts.push(segment),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `lookupExtensionKey`: the short names Porter knows expand to their full
/// keys; any other name is used as written.
pub fn extension_key(name: &str) -> &str {
    match name {
        "docker" => "io.cnab.docker",
        "dependencies" => "io.cnab.dependencies",
        "dependencies@v2" => "org.getporter.dependencies@v2",
        "parameter-sources" => "io.cnab.parameter-sources",
        "file-parameters" => "sh.porter.file-parameters",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnab_env_var_names_follow_param_to_env_var() {
        assert_eq!(env_var_name("log_level"), "LOG_LEVEL");
        assert_eq!(env_var_name("mysql-connstr"), "MYSQL_CONNSTR");
        assert_eq!(env_var_name("app.port"), "APP_PORT");
        assert_eq!(env_var_name("porter-msg-output"), "PORTER_MSG_OUTPUT");
        assert_eq!(env_var_name("straße"), "STRAßE");
    }

    #[test]
    fn cnab_definition_names_are_suffixed_once() {
        use DefinitionKind::*;
        assert_eq!(definition_name("port", Parameter), "port-parameter");
        assert_eq!(
            definition_name("port-parameter", Parameter),
            "port-parameter"
        );
        assert_eq!(definition_name("port", Output), "port-output");
        assert_eq!(
            definition_name("porter-msg-output", Output),
            "porter-msg-output"
        );
        assert_eq!(definition_name("porter-state", State), "porter-state");
        // Only the kind's own suffix counts.
        assert_eq!(definition_name("x-output", Parameter), "x-output-parameter");
    }

    #[test]
    fn cnab_wiring_names() {
        assert_eq!(
            output_wiring_parameter("some-thing"),
            "porter-some-thing-output"
        );
        assert_eq!(
            dependency_output_wiring_parameter("mysql", "mysql-password"),
            "porter-mysql-mysql-password-dep-output"
        );
        assert_eq!(templated_output("bundle.outputs.msg"), Some("msg"));
        assert_eq!(templated_output("bundle.outputs."), None);
        assert_eq!(templated_output("bundle.parameters.msg"), None);
        assert_eq!(
            templated_dependency_output("bundle.dependencies.db.outputs.connstr"),
            Some(("db", "connstr"))
        );
        assert_eq!(
            templated_dependency_output("bundle.dependencies.db.name"),
            None
        );
    }

    #[test]
    fn cnab_paths_resolve_against_the_app_dir() {
        assert_eq!(resolve_path(""), "");
        assert_eq!(resolve_path("buncfg.json"), "/cnab/app/buncfg.json");
        assert_eq!(resolve_path("./a/../b"), "/cnab/app/b");
        assert_eq!(resolve_path("/tmp/password"), "/tmp/password");
        assert_eq!(output_path("connStr"), "/cnab/app/outputs/connStr");
    }

    #[test]
    fn cnab_extension_short_names_expand() {
        assert_eq!(extension_key("docker"), "io.cnab.docker");
        assert_eq!(
            extension_key("dependencies@v2"),
            "org.getporter.dependencies@v2"
        );
        assert_eq!(extension_key("io.cnab.docker"), "io.cnab.docker");
        assert_eq!(extension_key("requiredExtension1"), "requiredExtension1");
    }
}
