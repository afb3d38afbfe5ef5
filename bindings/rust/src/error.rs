//! Status codes and the crate's one error type.
use std::ffi::CStr;
use std::fmt;

use crate::sys;
use crate::Completion;

/// An `ember_status` value. The numbers are ember's ABI and never change; the library may
/// return values this crate does not name, which are failures too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    pub const OK: Status = Status(0);
    pub const INVALID_ARGUMENT: Status = Status(1);
    pub const IO: Status = Status(2);
    pub const INVALID_MODEL: Status = Status(3);
    pub const UNSUPPORTED: Status = Status(4);
    pub const OUT_OF_MEMORY: Status = Status(5);
    pub const CONTEXT_FULL: Status = Status(6);
    pub const CANCELLED: Status = Status(7);
    pub const INVALID_TOKEN: Status = Status(8);
    pub const INVALID_UTF8: Status = Status(9);
    pub const BUFFER_TOO_SMALL: Status = Status(10);
    pub const INTERNAL: Status = Status(11);
    pub const BAD_STATE: Status = Status(12);

    /// The library's name of this status ("EMBER_ERR_IO"; "EMBER_ERR_UNKNOWN" if unknown).
    pub fn name(self) -> &'static str {
        // SAFETY: ember_status_name returns a static NUL-terminated string, never NULL.
        let name = unsafe { CStr::from_ptr(sys::ember_status_name(self.0)) };
        name.to_str().unwrap_or("EMBER_ERR_UNKNOWN")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed ember call: its status and the library's message (`ember_last_error()`, read
/// on the thread of the call). A cancelled or context-full generation also carries what it
/// produced before it stopped (those tokens stay in the session).
#[derive(Clone, Debug)]
pub struct Error {
    status: Status,
    message: String,
    partial: Option<Box<Completion>>,
}

impl Error {
    /// An error with an explicit message (for checks the binding makes itself).
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error { status, message: message.into(), partial: None }
    }

    /// The error of the call that just returned `status` on this thread.
    pub(crate) fn last(status: Status) -> Error {
        // SAFETY: ember_last_error never returns NULL; the string is valid until the next
        // ember call on this thread, and it is copied right away.
        let message = unsafe { CStr::from_ptr(sys::ember_last_error()) };
        Error::new(status, message.to_string_lossy().into_owned())
    }

    pub(crate) fn with_partial(mut self, completion: Completion) -> Error {
        self.partial = Some(Box::new(completion));
        self
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// ember's message, without the status name.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For a generation that failed after producing tokens (cancelled, context full).
    pub fn partial_completion(&self) -> Option<&Completion> {
        self.partial.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Ok for EMBER_OK, else the error with this thread's ember_last_error().
pub(crate) fn check(status: sys::ember_status) -> Result<()> {
    if status == Status::OK.0 {
        Ok(())
    } else {
        Err(Error::last(Status(status)))
    }
}
