//! Messages for the user, shown in Porter's output (`println!` goes
//! nowhere: a mixin has no stdout). The host bounds how much it keeps, and
//! shows `trace` and `debug` only when `PORTER_DEBUG` is set.
//!
//! Outside WebAssembly (a mixin's own `cargo test`), there is no host: each
//! message is written to stderr as `[level] message`, so hooks that log
//! stay unit-testable.

use crate::bindings::porter::mixin::types::LogLevel;

pub fn trace(message: &str) {
    emit(LogLevel::Trace, message);
}

pub fn debug(message: &str) {
    emit(LogLevel::Debug, message);
}

pub fn info(message: &str) {
    emit(LogLevel::Info, message);
}

pub fn warn(message: &str) {
    emit(LogLevel::Warn, message);
}

pub fn error(message: &str) {
    emit(LogLevel::Error, message);
}

#[cfg(target_family = "wasm")]
fn emit(level: LogLevel, message: &str) {
    crate::bindings::porter::mixin::host::log(level, message);
}

#[cfg(not(target_family = "wasm"))]
fn emit(level: LogLevel, message: &str) {
    eprintln!("{}", native_line(level, message));
}

/// `[level] message`, the level as the contract names it.
#[cfg(not(target_family = "wasm"))]
fn native_line(level: LogLevel, message: &str) -> String {
    let level = match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    format!("[{level}] {message}")
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;

    #[test]
    fn every_level_logs_natively_without_a_host() {
        trace("a trace message");
        debug("a debug message");
        info("an info message");
        warn("a warning");
        error("an error");
    }

    #[test]
    fn a_native_line_names_its_level() {
        assert_eq!(native_line(LogLevel::Warn, "careful"), "[warn] careful");
        assert_eq!(native_line(LogLevel::Trace, "step 1"), "[trace] step 1");
    }
}
