//! ember for Rust: a safe layer over libember's C ABI (include/ember/ember.h), with no
//! dependencies beyond std.
//!
//! Threading follows ember.h: a [`Model`] is immutable and `Send + Sync`; a [`Session`] is
//! `Send` but not `Sync` (one thread at a time), and a [`Canceller`] (`Send + Sync`) stops
//! its running call from any thread. Every C object is freed exactly once, by `Drop`.
//! Failures are [`Error`]s carrying the status (named by `ember_status_name`) and
//! `ember_last_error()`'s message.
mod error;
mod model;
mod options;
mod session;
mod sys;

use std::ffi::CStr;

pub use error::{Error, Result, Status};
pub use model::{Message, Model, WeightFormat};
pub use options::{tokenize_flags, GenerateOptions, Grammar, KvType, SamplerOptions, SessionOptions};
pub use session::{Canceller, Completion, Piece, Session, StopReason};

/// The oldest library this crate works with (MAJOR*1000000 + MINOR*1000 + PATCH).
pub const REQUIRED_VERSION_NUMBER: i32 = 1000;

/// The linked library's version string ("0.1.0").
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(sys::ember_version()) }.to_str().unwrap_or("")
}

/// The linked library's version number.
pub fn version_number() -> i32 {
    // SAFETY: no arguments, thread-safe.
    unsafe { sys::ember_version_number() }
}

/// Whether the linked library is one this crate can use: same major version, not older.
pub fn check_version() -> Result<()> {
    let number = version_number();
    if number / 1_000_000 == REQUIRED_VERSION_NUMBER / 1_000_000 && number >= REQUIRED_VERSION_NUMBER {
        Ok(())
    } else {
        Err(Error::new(
            Status::UNSUPPORTED,
            format!("libember {} ({}) is not compatible with this crate (needs {})", version(), number, REQUIRED_VERSION_NUMBER),
        ))
    }
}
