//! The runtime half of the contract: what a mixin asks the host to run
//! inside the invocation image, and what it hands back.
//!
//! A mixin is a WebAssembly component and cannot start processes. At
//! runtime it turns one rendered step into [`Command`]s, the host runs each
//! one in the invocation image and answers with a [`CommandOutput`], and the
//! mixin finishes the step with [`StepOutputs`]: the values of the step's
//! outputs, as bytes or as a file the host reads.
//!
//! ```
//! use mixin_sdk::command::{Command, StepOutputs};
//!
//! let install = Command::new("helm3")
//!     .args(["upgrade", "--install", "mysql", "bitnami/mysql"])
//!     .arg("--atomic")
//!     .env("HELM_EXPERIMENTAL_OCI", "1")
//!     .dir("charts");
//! assert_eq!(install.to_string(), "helm3 upgrade --install mysql bitnami/mysql --atomic");
//!
//! let outputs = StepOutputs::bytes("release", "mysql").with_file("kubeconfig", "kube/config");
//! assert_eq!(outputs.len(), 2);
//! ```
//!
//! Most mixins do not build these by hand: [`crate::steps`] turns a step's
//! `command`, `arguments`, `flags` and `outputs` into a `Command` and
//! `StepOutputs` the way Porter's own mixins do.

use std::fmt;

/// A command a mixin asks the host to run inside the invocation image.
///
/// [`Command::new`] streams the command's output to the user (Porter's
/// default); [`Command::default`] is quiet and has no program.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    /// The program: a name looked up in the image's `PATH`, or a path.
    pub program: String,
    /// The arguments after the program, each passed as one argument (no
    /// shell: quotes and spaces are not interpreted).
    pub args: Vec<String>,
    /// Added to the container's environment.
    pub env: Vec<(String, String)>,
    /// Working directory; None = the bundle directory (/cnab/app). Relative paths resolve from it.
    pub dir: Option<String>,
    /// Stream stdout/stderr to the user while it runs (the host masks sensitive values). Output is always captured too.
    pub show_output: bool,
    /// Bytes written to the command's stdin (None: stdin is empty).
    pub stdin: Option<Vec<u8>>,
}

impl Command {
    /// Runs `program` with no arguments in the bundle directory, its output
    /// shown to the user.
    pub fn new(program: impl Into<String>) -> Self {
        Command {
            program: program.into(),
            show_output: true,
            ..Command::default()
        }
    }

    /// A command from a whole argv: the first item is the program. `None`
    /// when `argv` is empty.
    pub fn from_argv<I, S>(argv: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut argv = argv.into_iter().map(Into::into);
        let program = argv.next()?;
        Some(Command::new(program).args(argv))
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments, in order.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command (added to the
    /// container's environment; a later value of the same name wins).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Sets several environment variables, in order.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Runs the command in `dir`; a relative path resolves from the bundle
    /// directory (`/cnab/app`).
    pub fn dir(mut self, dir: impl Into<String>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Captures the output without showing it to the user (Porter's
    /// `suppress-output: true`).
    pub fn quiet(mut self) -> Self {
        self.show_output = false;
        self
    }

    /// Whether the output is streamed to the user while the command runs.
    pub fn show_output(mut self, show: bool) -> Self {
        self.show_output = show;
        self
    }

    /// Writes `bytes` to the command's stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The program followed by its arguments.
    pub fn argv(&self) -> Vec<&str> {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect()
    }
}

/// `program arg1 arg2 ...`, joined with spaces (no quoting), as Porter
/// prints commands.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

/// What the host reports once a [`Command`] has finished.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutput {
    /// The exit code; None when the command was killed by a signal.
    pub exit_code: Option<i32>,
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the command wrote to stderr.
    pub stderr: Vec<u8>,
}

impl CommandOutput {
    /// A command that exited 0 with this stdout.
    pub fn ok(stdout: impl Into<Vec<u8>>) -> Self {
        CommandOutput {
            exit_code: Some(0),
            stdout: stdout.into(),
            stderr: Vec::new(),
        }
    }

    /// A command that exited with `code` and wrote `stderr`.
    pub fn failed(code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        CommandOutput {
            exit_code: Some(code),
            stdout: Vec::new(),
            stderr: stderr.into(),
        }
    }

    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// stdout as text (invalid UTF-8 replaced by U+FFFD).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced by U+FFFD).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// How the command ended, in Go's words: `exit status 2`, or
    /// `killed by a signal`.
    pub fn status_text(&self) -> String {
        match self.exit_code {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        }
    }
}

/// A value of one output of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputValue {
    Bytes(Vec<u8>),
    /// read by the host from this path (relative to /cnab/app) after the step
    File(String),
}

/// The outputs a step produced, in the order they were set. Setting an
/// output again replaces its earlier value (as Porter's output files are
/// overwritten) and moves it to the end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepOutputs {
    pub outputs: Vec<(String, OutputValue)>,
}

impl StepOutputs {
    /// No outputs.
    pub fn new() -> Self {
        StepOutputs::default()
    }

    /// One output with these bytes.
    pub fn bytes(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        StepOutputs::new().with_bytes(name, value)
    }

    /// One output the host reads from `path` (relative to `/cnab/app`)
    /// after the step.
    pub fn file(name: impl Into<String>, path: impl Into<String>) -> Self {
        StepOutputs::new().with_file(name, path)
    }

    /// Adds (or replaces) an output with these bytes.
    pub fn with_bytes(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.set(name, OutputValue::Bytes(value.into()));
        self
    }

    /// Adds (or replaces) an output read from `path` after the step.
    pub fn with_file(mut self, name: impl Into<String>, path: impl Into<String>) -> Self {
        self.set(name, OutputValue::File(path.into()));
        self
    }

    /// Sets output `name`, replacing an earlier value of the same name.
    pub fn set(&mut self, name: impl Into<String>, value: OutputValue) {
        let name = name.into();
        self.outputs.retain(|(n, _)| *n != name);
        self.outputs.push((name, value));
    }

    /// Adds every output of `other` after these (same names replaced).
    pub fn merge(&mut self, other: StepOutputs) {
        for (name, value) in other.outputs {
            self.set(name, value);
        }
    }

    /// The value of output `name`.
    pub fn get(&self, name: &str) -> Option<&OutputValue> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// The outputs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OutputValue)> {
        self.outputs.iter().map(|(n, v)| (n.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_shows_output_default_does_not() {
        assert!(Command::new("ls").show_output);
        assert!(!Command::new("ls").quiet().show_output);
        assert!(!Command::default().show_output);
    }

    #[test]
    fn builder_fills_every_field() {
        let c = Command::new("helm")
            .arg("install")
            .args(["a", "b"])
            .env("K", "V")
            .envs([("A", "1")])
            .dir("charts")
            .stdin("input")
            .quiet();
        assert_eq!(
            c,
            Command {
                program: "helm".into(),
                args: vec!["install".into(), "a".into(), "b".into()],
                env: vec![("K".into(), "V".into()), ("A".into(), "1".into())],
                dir: Some("charts".into()),
                show_output: false,
                stdin: Some(b"input".to_vec()),
            }
        );
        assert_eq!(c.argv(), ["helm", "install", "a", "b"]);
        assert_eq!(c.to_string(), "helm install a b");
    }

    #[test]
    fn from_argv_splits_off_the_program() {
        let c = Command::from_argv(["docker", "build", "."]).unwrap();
        assert_eq!(c.program, "docker");
        assert_eq!(c.args, ["build", "."]);
        assert!(c.show_output);
        assert_eq!(Command::from_argv(Vec::<String>::new()), None);
    }

    #[test]
    fn command_output_helpers() {
        let ok = CommandOutput::ok("out");
        assert!(ok.success());
        assert_eq!(ok.stdout_text(), "out");
        assert_eq!(ok.status_text(), "exit status 0");
        let failed = CommandOutput::failed(3, b"bad \xff".to_vec());
        assert!(!failed.success());
        assert_eq!(failed.stderr_text(), "bad \u{fffd}");
        assert_eq!(failed.status_text(), "exit status 3");
        let killed = CommandOutput {
            exit_code: None,
            ..CommandOutput::default()
        };
        assert!(!killed.success());
        assert_eq!(killed.status_text(), "killed by a signal");
    }

    #[test]
    fn step_outputs_set_replaces_and_moves_to_the_end() {
        let mut outputs = StepOutputs::bytes("a", "1").with_file("b", "b.txt");
        outputs.set("a", OutputValue::Bytes(b"2".to_vec()));
        assert_eq!(
            outputs.outputs,
            vec![
                ("b".to_string(), OutputValue::File("b.txt".into())),
                ("a".to_string(), OutputValue::Bytes(b"2".to_vec())),
            ]
        );
        assert_eq!(outputs.get("a"), Some(&OutputValue::Bytes(b"2".to_vec())));
        assert_eq!(outputs.get("c"), None);
        let mut more = StepOutputs::file("c", "c.txt");
        more.merge(StepOutputs::bytes("b", ""));
        outputs.merge(more);
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "c", "b"]);
        assert_eq!(outputs.len(), 3);
        assert!(!outputs.is_empty());
        assert!(StepOutputs::new().is_empty());
    }
}
