//! Messages for the user, shown in Porter's output (`println!` goes
//! nowhere: a mixin has no stdout). The host bounds how much it keeps.

use crate::bindings::porter::mixin::host;
use crate::bindings::porter::mixin::types::LogLevel;

pub fn debug(message: &str) {
    host::log(LogLevel::Debug, message);
}

pub fn info(message: &str) {
    host::log(LogLevel::Info, message);
}

pub fn warn(message: &str) {
    host::log(LogLevel::Warn, message);
}

pub fn error(message: &str) {
    host::log(LogLevel::Error, message);
}
