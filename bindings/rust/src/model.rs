//! Model: a loaded model (ember_model): immutable, shared by any number of threads and
//! sessions; tokenizer and chat templates.
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::error::{check, Error, Result, Status};
use crate::options::{Owned, SessionOptions};
use crate::session::Session;
use crate::sys;

/// The C model, freed once when the last Model clone and Session using it are gone.
pub(crate) struct ModelHandle(NonNull<sys::ember_model>);

// SAFETY: ember.h: "an ember_model is immutable after ember_model_load() returns and may be
// shared by any number of threads and sessions"; every function taking a model only reads it.
unsafe impl Send for ModelHandle {}
unsafe impl Sync for ModelHandle {}

impl ModelHandle {
    pub(crate) fn ptr(&self) -> *mut sys::ember_model {
        self.0.as_ptr()
    }
}

impl Drop for ModelHandle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from ember_model_load and this is its only owner.
        unsafe { sys::ember_model_free(self.0.as_ptr()) }
    }
}

/// Load-time weight formats (EMBER_WEIGHTS_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightFormat {
    AsStored = 0,
    Q8_0 = 1,
    Q4_0 = 2,
}

/// One chat message for [`Model::apply_chat`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Message {
        Message { role: role.to_owned(), content: content.to_owned() }
    }
}

/// A loaded model. Cloning is cheap and shares the same model; it is `Send` and `Sync`.
#[derive(Clone)]
pub struct Model {
    handle: Arc<ModelHandle>,
}

pub(crate) fn path_to_cstring(path: &Path) -> Result<CString> {
    let text = path
        .to_str()
        .ok_or_else(|| Error::new(Status::INVALID_ARGUMENT, format!("path {:?} is not UTF-8", path)))?;
    CString::new(text).map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("path {:?} contains a NUL byte", path)))
}

// Copies a string ember owns (static, or living as long as the model).
fn owned_str(ptr: *const c_char) -> String {
    // SAFETY: ember's string getters never return NULL and the strings outlive this copy.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

impl Model {
    /// Loads a GGUF file or a Hugging Face model directory.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Model::load_with(path, None)
    }

    /// Loads, converting float weights to `format` if given.
    pub fn load_with(path: impl AsRef<Path>, format: Option<WeightFormat>) -> Result<Model> {
        crate::check_version()?;
        let path = path_to_cstring(path.as_ref())?;
        let options = Owned::create(sys::ember_model_options_create, sys::ember_model_options_free)?;
        let mut out = ptr::null_mut();
        // SAFETY: valid C string, live options object, out-pointer to a local.
        unsafe {
            if let Some(format) = format {
                check(sys::ember_model_options_set_weight_format(options.ptr, format as i32))?;
            }
            check(sys::ember_model_load(path.as_ptr(), options.ptr, &mut out))?;
        }
        let handle = NonNull::new(out).ok_or_else(|| Error::new(Status::INTERNAL, "ember_model_load gave NULL"))?;
        Ok(Model { handle: Arc::new(ModelHandle(handle)) })
    }

    fn ptr(&self) -> *const sys::ember_model {
        self.handle.ptr()
    }

    // SAFETY of the getters below: the model is live while `self` is.
    pub fn n_vocab(&self) -> i32 {
        unsafe { sys::ember_model_n_vocab(self.ptr()) }
    }
    pub fn n_tokens(&self) -> i32 {
        unsafe { sys::ember_model_n_tokens(self.ptr()) }
    }
    pub fn n_ctx_train(&self) -> i32 {
        unsafe { sys::ember_model_n_ctx_train(self.ptr()) }
    }
    /// The BOS token, if the model has one.
    pub fn bos(&self) -> Option<i32> {
        let id = unsafe { sys::ember_model_token_bos(self.ptr()) };
        if id < 0 {
            None
        } else {
            Some(id)
        }
    }
    /// The EOS token, if the model has one.
    pub fn eos(&self) -> Option<i32> {
        let id = unsafe { sys::ember_model_token_eos(self.ptr()) };
        if id < 0 {
            None
        } else {
            Some(id)
        }
    }
    pub fn architecture(&self) -> String {
        owned_str(unsafe { sys::ember_model_architecture(self.ptr()) })
    }
    pub fn adds_bos(&self) -> bool {
        unsafe { sys::ember_model_adds_bos(self.ptr()) != 0 }
    }
    /// Whether sampling `token` ends a generation.
    pub fn is_eog(&self, token: i32) -> bool {
        unsafe { sys::ember_model_token_is_eog(self.ptr(), token) != 0 }
    }
    /// The model's own chat template ("" if it has none).
    pub fn chat_template(&self) -> String {
        owned_str(unsafe { sys::ember_model_chat_template(self.ptr()) })
    }

    /// Token ids of `text` (`flags`: [`crate::tokenize_flags`]).
    pub fn tokenize(&self, text: &str, flags: u32) -> Result<Vec<i32>> {
        fill_growing(vec![0i32; text.len() + 2], |buf, needed| {
            // SAFETY: text and ids are valid for the lengths given.
            unsafe {
                sys::ember_tokenize(self.ptr(), text.as_ptr().cast(), text.len(), flags, buf.as_mut_ptr(), buf.len(), needed)
            }
        })
    }

    /// The bytes `tokens` spell (they may split a UTF-8 character).
    pub fn detokenize_bytes(&self, tokens: &[i32], skip_special: bool) -> Result<Vec<u8>> {
        fill_growing(vec![0u8; tokens.len() * 8 + 16], |buf, needed| {
            // SAFETY: tokens and bytes are valid for the lengths given.
            unsafe {
                sys::ember_detokenize(
                    self.ptr(),
                    tokens.as_ptr(),
                    tokens.len(),
                    skip_special as u32,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    needed,
                )
            }
        })
    }

    /// The text `tokens` spell, ill-formed UTF-8 replaced by U+FFFD.
    pub fn detokenize(&self, tokens: &[i32]) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.detokenize_bytes(tokens, false)?).into_owned())
    }

    /// Renders `messages` with the model's chat template, or `template` if given.
    pub fn apply_chat(&self, messages: &[Message], template: Option<&str>, add_generation_prompt: bool) -> Result<String> {
        let chat = Owned::create(sys::ember_chat_create, sys::ember_chat_free)?;
        for m in messages {
            // SAFETY: live chat; role and content valid for their lengths.
            check(unsafe {
                sys::ember_chat_add(chat.ptr, m.role.as_ptr().cast(), m.role.len(), m.content.as_ptr().cast(), m.content.len())
            })?;
        }
        let (source, source_len) = match template {
            Some(t) => (t.as_ptr().cast::<c_char>(), t.len()),
            None => (ptr::null(), 0),
        };
        let text = fill_growing(vec![0u8; 4096], |buf, needed| {
            // SAFETY: live model and chat; buffers valid for the lengths given.
            unsafe {
                sys::ember_chat_apply(
                    self.ptr(),
                    chat.ptr,
                    source,
                    source_len,
                    add_generation_prompt as u32,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    needed,
                )
            }
        })?;
        String::from_utf8(text)
            .map_err(|_| Error::new(Status::INVALID_UTF8, "the rendered chat is not UTF-8"))
    }

    /// Renders a template with a whole JSON context (`messages`, `tools`,
    /// `add_generation_prompt`, ...); `bos_token`/`eos_token` come from the model unless
    /// the context has them. `template` None uses the model's own.
    pub fn apply_chat_json(&self, template: Option<&str>, context_json: &str) -> Result<String> {
        let (source, source_len) = match template {
            Some(t) => (t.as_ptr().cast::<c_char>(), t.len()),
            None => (ptr::null(), 0),
        };
        let text = fill_growing(vec![0u8; 4096], |buf, needed| {
            // SAFETY: live model; buffers valid for the lengths given.
            unsafe {
                sys::ember_chat_apply_json(
                    self.ptr(),
                    source,
                    source_len,
                    context_json.as_ptr().cast(),
                    context_json.len(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    needed,
                )
            }
        })?;
        String::from_utf8(text)
            .map_err(|_| Error::new(Status::INVALID_UTF8, "the rendered chat is not UTF-8"))
    }

    /// A new session on this model.
    pub fn session(&self, options: &SessionOptions) -> Result<Session> {
        let o = options.build()?;
        let mut out = ptr::null_mut();
        // SAFETY: live model and options; out-pointer to a local.
        check(unsafe { sys::ember_session_create(self.ptr(), o.ptr, &mut out) })?;
        Session::from_raw(out, Arc::clone(&self.handle))
    }
}

/// Calls an ember function that writes into a caller buffer and reports the size it needs
/// (EMBER_ERR_BUFFER_TOO_SMALL when the buffer is short): grows `buf` until the call fits,
/// then truncates it to what was written.
fn fill_growing<T: Copy + Default>(
    mut buf: Vec<T>,
    mut call: impl FnMut(&mut [T], &mut usize) -> sys::ember_status,
) -> Result<Vec<T>> {
    loop {
        let mut needed = 0usize;
        let status = call(&mut buf, &mut needed);
        if status == Status::BUFFER_TOO_SMALL.0 && needed > buf.len() {
            buf.resize(needed, T::default());
            continue;
        }
        check(status)?;
        buf.truncate(needed);
        return Ok(buf);
    }
}
