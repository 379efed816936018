/// How bad a lint result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintLevel {
    /// Fails `porter lint` and `porter build`.
    Error,
    /// Reported only.
    Warning,
}

/// Where a lint result points: a step of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLocation {
    pub action: String,
    /// 1-based position among this mixin's steps in the action.
    pub step_number: u32,
    pub step_description: String,
    /// JSON Pointer inside the step body; empty for the whole step.
    pub pointer: String,
}

impl StepLocation {
    /// The step at 0-based `index` in `action`'s steps (as in
    /// [`crate::Action::steps`]).
    pub fn new(action: impl Into<String>, index: usize) -> Self {
        StepLocation {
            action: action.into(),
            step_number: u32::try_from(index + 1).unwrap_or(u32::MAX),
            step_description: String::new(),
            pointer: String::new(),
        }
    }

    /// The step's `description`, shown with the result.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.step_description = description.into();
        self
    }

    /// A field inside the step, e.g. `/flags/c`.
    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = pointer.into();
        self
    }
}

/// One finding of [`crate::Mixin::lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintResult {
    /// `<mixin>-<number>`, stable across releases (e.g. `exec-101`).
    pub code: String,
    pub level: LintLevel,
    pub title: String,
    pub message: String,
    pub url: Option<String>,
    pub location: StepLocation,
}

impl LintResult {
    pub fn error(
        code: impl Into<String>,
        title: impl Into<String>,
        location: StepLocation,
    ) -> Self {
        Self::with_level(LintLevel::Error, code, title, location)
    }

    pub fn warning(
        code: impl Into<String>,
        title: impl Into<String>,
        location: StepLocation,
    ) -> Self {
        Self::with_level(LintLevel::Warning, code, title, location)
    }

    fn with_level(
        level: LintLevel,
        code: impl Into<String>,
        title: impl Into<String>,
        location: StepLocation,
    ) -> Self {
        LintResult {
            code: code.into(),
            level,
            title: title.into(),
            message: String::new(),
            url: None,
            location,
        }
    }

    /// Details and what to do next.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Where to read more.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
}
