//! Session: a KV cache plus sampler state on a model (ember_session), with streaming
//! generation.
use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::{slice, str};

use crate::error::{check, Error, Result, Status};
use crate::model::{path_to_cstring, ModelHandle};
use crate::options::{GenerateOptions, SamplerOptions};
use crate::sys;

/// The C session, freed once when its Session and every Canceller are gone. It keeps the
/// model alive (ember counts too, but then Rust never holds a freed model).
struct SessionHandle {
    ptr: NonNull<sys::ember_session>,
    _model: Arc<ModelHandle>,
}

// SAFETY: what a shared SessionHandle allows is ember_session_cancel(), which ember.h lets
// "any thread call at any time while the session exists", and the free in Drop, which the Arc
// makes exclusive. Every other call goes through `&Session`/`&mut Session`, and Session is
// not Sync, so one thread at a time uses it (ember.h's threading model).
unsafe impl Send for SessionHandle {}
unsafe impl Sync for SessionHandle {}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from ember_session_create/clone; this is its only owner.
        unsafe { sys::ember_session_free(self.ptr.as_ptr()) }
    }
}

/// Why a generation stopped (EMBER_STOP_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    None,
    Eos,
    String,
    MaxTokens,
    Callback,
    Cancelled,
    ContextFull,
    Token,
    Grammar,
    /// A value this crate does not know (a newer library).
    Other(i32),
}

impl StopReason {
    fn from_raw(value: i32) -> StopReason {
        match value {
            0 => StopReason::None,
            1 => StopReason::Eos,
            2 => StopReason::String,
            3 => StopReason::MaxTokens,
            4 => StopReason::Callback,
            5 => StopReason::Cancelled,
            6 => StopReason::ContextFull,
            7 => StopReason::Token,
            8 => StopReason::Grammar,
            other => StopReason::Other(other),
        }
    }
}

/// One streamed piece of a generation: the token (None for the text before a stop string,
/// which has no token of its own) and the text it completes (may be empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    pub token: Option<i32>,
    pub text: &'a str,
}

/// What a generation produced: the text, the ids reported, why it stopped and the count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub tokens: Vec<i32>,
    pub stop_reason: Option<StopReason>,
    pub n_generated: i32,
}

/// Cancels the generation or evaluation running on a session, from any thread. It keeps
/// the session's C object alive, so it can never touch a freed session.
#[derive(Clone)]
pub struct Canceller {
    handle: Arc<SessionHandle>,
}

impl Canceller {
    /// Asks the call running on the session to stop; it then fails with
    /// EMBER_ERR_CANCELLED. Ignored when no call is running.
    pub fn cancel(&self) -> Result<()> {
        // SAFETY: the session is live while this handle is; cancel is callable from any thread.
        check(unsafe { sys::ember_session_cancel(self.handle.ptr.as_ptr()) })
    }
}

/// A session: `Send` (it may move to another thread) but not `Sync` (ember.h: "must be used
/// by one thread at a time"). To stop it from another thread, use [`Session::canceller`].
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>() {}
/// shared::<ember::Session>();
/// ```
pub struct Session {
    handle: Arc<SessionHandle>,
    _not_sync: PhantomData<Cell<()>>,
}

struct Stream<'f> {
    on_piece: &'f mut dyn FnMut(Piece<'_>) -> ControlFlow<()>,
    completion: Completion,
    panic: Option<Box<dyn Any + Send>>,
}

// ember_token_callback: forwards a piece to the Rust closure. A panic must not unwind into
// C: it is caught, generation stops, and the panic resumes once the C call has returned.
unsafe extern "C" fn on_token(user_data: *mut c_void, token: i32, text: *const c_char, text_len: usize) -> i32 {
    // SAFETY: user_data is the &mut Stream passed to generate_ex, alive during the call.
    let stream = &mut *(user_data as *mut Stream<'_>);
    let bytes: &[u8] = if text_len == 0 { &[] } else { slice::from_raw_parts(text.cast::<u8>(), text_len) };
    // ember.h: the text is valid UTF-8 and never splits a character.
    let text = str::from_utf8(bytes).unwrap_or("\u{FFFD}");
    let token = if token >= 0 { Some(token) } else { None };
    stream.completion.text.push_str(text);
    if let Some(id) = token {
        stream.completion.tokens.push(id);
    }
    let on_piece = &mut stream.on_piece;
    match panic::catch_unwind(AssertUnwindSafe(|| on_piece(Piece { token, text }))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(payload) => {
            stream.panic = Some(payload);
            1
        }
    }
}

impl Session {
    pub(crate) fn from_raw(ptr: *mut sys::ember_session, model: Arc<ModelHandle>) -> Result<Session> {
        let ptr = NonNull::new(ptr).ok_or_else(|| Error::new(Status::INTERNAL, "ember gave a NULL session"))?;
        Ok(Session { handle: Arc::new(SessionHandle { ptr, _model: model }), _not_sync: PhantomData })
    }

    fn ptr(&self) -> *mut sys::ember_session {
        self.handle.ptr.as_ptr()
    }

    /// A handle that cancels this session's running call from any thread.
    pub fn canceller(&self) -> Canceller {
        Canceller { handle: Arc::clone(&self.handle) }
    }

    // SAFETY of every unsafe block below: the session is live while `self` is, and `&self` /
    // `&mut self` plus !Sync give the one-thread-at-a-time use ember requires; buffers are
    // valid for the lengths passed.

    /// Tokens the session has evaluated.
    pub fn n_past(&self) -> i32 {
        unsafe { sys::ember_session_n_past(self.ptr()) }
    }
    pub fn n_ctx(&self) -> i32 {
        unsafe { sys::ember_session_n_ctx(self.ptr()) }
    }
    pub fn kv_bytes(&self) -> u64 {
        unsafe { sys::ember_session_kv_bytes(self.ptr()) }
    }

    /// Forgets every token and re-seeds the sampler.
    pub fn reset(&mut self) -> Result<()> {
        check(unsafe { sys::ember_session_reset(self.ptr()) })
    }

    /// Feeds token ids (a prompt is one call). On error the session is unchanged.
    pub fn eval(&mut self, tokens: &[i32]) -> Result<()> {
        check(unsafe { sys::ember_session_eval(self.ptr(), tokens.as_ptr(), tokens.len(), ptr::null_mut(), 0) })
    }

    /// Feeds token ids and returns every position's logits, row-major [tokens][n_vocab].
    pub fn eval_all_logits(&mut self, tokens: &[i32], n_vocab: usize) -> Result<Vec<f32>> {
        let mut all = vec![0f32; tokens.len() * n_vocab];
        check(unsafe { sys::ember_session_eval(self.ptr(), tokens.as_ptr(), tokens.len(), all.as_mut_ptr(), all.len()) })?;
        Ok(all)
    }

    /// The last position's logits, borrowed until the next call that changes the session.
    pub fn logits(&self) -> Result<&[f32]> {
        let mut logits: *const f32 = ptr::null();
        let mut n = 0usize;
        check(unsafe { sys::ember_session_logits(self.ptr(), &mut logits, &mut n) })?;
        Ok(unsafe { slice::from_raw_parts(logits, n) })
    }

    /// Picks the next token with the session's sampler (not fed back: call eval).
    pub fn sample(&mut self) -> Result<i32> {
        let mut token = 0;
        check(unsafe { sys::ember_session_sample(self.ptr(), &mut token) })?;
        Ok(token)
    }

    /// Replaces the sampler; tokens and cache stay.
    pub fn set_sampler(&mut self, sampler: &SamplerOptions) -> Result<()> {
        let o = sampler.build()?;
        check(unsafe { sys::ember_session_set_sampler(self.ptr(), o.ptr) })
    }

    /// The token ids the session holds.
    pub fn tokens(&self) -> Result<Vec<i32>> {
        let mut ids = vec![0i32; self.n_past().max(0) as usize];
        let mut n = 0usize;
        check(unsafe { sys::ember_session_tokens(self.ptr(), ids.as_mut_ptr(), ids.len(), &mut n) })?;
        ids.truncate(n);
        Ok(ids)
    }

    /// Keeps the first `n_keep` tokens.
    pub fn truncate(&mut self, n_keep: i32) -> Result<()> {
        check(unsafe { sys::ember_session_truncate(self.ptr(), n_keep) })
    }

    /// An independent copy (tokens, cache, sampler state) on the same model.
    pub fn try_clone(&self) -> Result<Session> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::ember_session_clone(self.ptr(), &mut out) })?;
        Session::from_raw(out, Arc::clone(&self.handle._model))
    }

    /// The session's state as bytes, for [`Session::load_state`].
    pub fn save_state(&self) -> Result<Vec<u8>> {
        let mut size = 0usize;
        let status = unsafe { sys::ember_session_state_save(self.ptr(), ptr::null_mut(), 0, &mut size) };
        if status != Status::BUFFER_TOO_SMALL.0 {
            check(status)?;
        }
        let mut buf = vec![0u8; size];
        check(unsafe { sys::ember_session_state_save(self.ptr(), buf.as_mut_ptr().cast(), buf.len(), &mut size) })?;
        buf.truncate(size);
        Ok(buf)
    }

    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        check(unsafe { sys::ember_session_state_load(self.ptr(), state.as_ptr().cast(), state.len()) })
    }

    /// save_state into the file `path`, atomically (the old file stays whole on failure).
    pub fn save_state_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path_to_cstring(path.as_ref())?;
        check(unsafe { sys::ember_session_state_save_file(self.ptr(), path.as_ptr()) })
    }

    /// load_state from the file `path`.
    pub fn load_state_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path_to_cstring(path.as_ref())?;
        check(unsafe { sys::ember_session_state_load_file(self.ptr(), path.as_ptr()) })
    }

    /// Makes the session hold exactly `ids`, keeping the longest common prefix and
    /// evaluating only the rest; returns how many tokens were kept.
    pub fn eval_reuse(&mut self, ids: &[i32]) -> Result<usize> {
        let mut reused = 0usize;
        check(unsafe { sys::ember_session_eval_reuse(self.ptr(), ids.as_ptr(), ids.len(), &mut reused) })?;
        Ok(reused)
    }

    /// Generates, calling `on_piece` for each piece as it comes (return
    /// `ControlFlow::Break(())` to stop after it). A cancelled or context-full generation is
    /// an Err carrying the partial completion.
    pub fn generate_with<F>(&mut self, prompt: &str, options: &GenerateOptions, mut on_piece: F) -> Result<Completion>
    where
        F: FnMut(Piece<'_>) -> ControlFlow<()>,
    {
        let o = options.build()?;
        let mut stream = Stream { on_piece: &mut on_piece, completion: Completion::default(), panic: None };
        let mut n_generated = 0;
        let mut stop_reason = 0;
        let status = unsafe {
            sys::ember_session_generate_ex(
                self.ptr(),
                prompt.as_ptr().cast(),
                prompt.len(),
                options.tokenize_flags,
                o.ptr,
                Some(on_token),
                (&mut stream as *mut Stream<'_>).cast(),
                &mut n_generated,
                &mut stop_reason,
            )
        };
        let error = if status == Status::OK.0 { None } else { Some(Error::last(Status(status))) };
        if let Some(payload) = stream.panic.take() {
            panic::resume_unwind(payload);
        }
        let mut completion = stream.completion;
        completion.n_generated = n_generated;
        completion.stop_reason = Some(StopReason::from_raw(stop_reason));
        match error {
            None => Ok(completion),
            Some(error) => Err(error.with_partial(completion)),
        }
    }

    /// Generates and collects the completion.
    pub fn generate(&mut self, prompt: &str, options: &GenerateOptions) -> Result<Completion> {
        self.generate_with(prompt, options, |_| ControlFlow::Continue(()))
    }
}
