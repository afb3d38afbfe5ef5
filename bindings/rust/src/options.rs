//! Plain Rust option structs, turned into ember's opaque option objects only for the call
//! that reads them (the C calls copy what they need). `None` keeps ember's default.
use std::ffi::CString;
use std::ptr;

use crate::error::{check, Error, Result, Status};
use crate::sys;

/// A C object owned for the duration of one call, freed exactly once by Drop.
pub(crate) struct Owned<T> {
    pub(crate) ptr: *mut T,
    free: unsafe extern "C" fn(*mut T),
}

impl<T> Owned<T> {
    pub(crate) fn create(create: unsafe extern "C" fn(*mut *mut T) -> i32, free: unsafe extern "C" fn(*mut T)) -> Result<Owned<T>> {
        let mut ptr = ptr::null_mut();
        // SAFETY: `create` writes a new object (or NULL on failure) to the out-pointer.
        check(unsafe { create(&mut ptr) })?;
        Ok(Owned { ptr, free })
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: ptr came from the matching create and is freed only here.
        unsafe { (self.free)(self.ptr) }
    }
}

/// A constraint on what the sampler may pick (ember_sampler_options_set_grammar).
#[derive(Clone, Debug, PartialEq)]
pub enum Grammar {
    /// GBNF (llama.cpp's notation; start rule "root").
    Gbnf(String),
    /// A JSON Schema (ember's supported subset).
    JsonSchema(String),
    /// Any JSON object.
    JsonObject,
}

/// How the next token is picked. The defaults (all `None`) are ember's: greedy, seed 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SamplerOptions {
    pub temperature: Option<f32>,
    pub top_k: Option<i32>,
    pub top_p: Option<f32>,
    pub min_p: Option<f32>,
    /// The penalty and how many recent tokens it looks back at (ember's default: 64).
    pub repeat_penalty: Option<(f32, i32)>,
    pub seed: Option<u64>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    /// (token, bias) pairs added to the logits.
    pub logit_bias: Vec<(i32, f32)>,
    pub grammar: Option<Grammar>,
}

impl SamplerOptions {
    pub(crate) fn build(&self) -> Result<Owned<sys::ember_sampler_options>> {
        let o = Owned::create(sys::ember_sampler_options_create, sys::ember_sampler_options_free)?;
        // SAFETY (every call below): `o.ptr` is a live options object owned here; the
        // buffers passed are valid for the lengths given, during the call.
        unsafe {
            if let Some(t) = self.temperature {
                check(sys::ember_sampler_options_set_temperature(o.ptr, t))?;
            }
            if let Some(k) = self.top_k {
                check(sys::ember_sampler_options_set_top_k(o.ptr, k))?;
            }
            if let Some(p) = self.top_p {
                check(sys::ember_sampler_options_set_top_p(o.ptr, p))?;
            }
            if let Some(p) = self.min_p {
                check(sys::ember_sampler_options_set_min_p(o.ptr, p))?;
            }
            if let Some((penalty, last_n)) = self.repeat_penalty {
                check(sys::ember_sampler_options_set_repeat_penalty(o.ptr, penalty, last_n))?;
            }
            if let Some(seed) = self.seed {
                check(sys::ember_sampler_options_set_seed(o.ptr, seed))?;
            }
            if let Some(p) = self.presence_penalty {
                check(sys::ember_sampler_options_set_presence_penalty(o.ptr, p))?;
            }
            if let Some(p) = self.frequency_penalty {
                check(sys::ember_sampler_options_set_frequency_penalty(o.ptr, p))?;
            }
            if !self.logit_bias.is_empty() {
                let ids: Vec<i32> = self.logit_bias.iter().map(|&(id, _)| id).collect();
                let biases: Vec<f32> = self.logit_bias.iter().map(|&(_, bias)| bias).collect();
                check(sys::ember_sampler_options_set_logit_bias(o.ptr, ids.as_ptr(), biases.as_ptr(), ids.len()))?;
            }
            if let Some(grammar) = &self.grammar {
                let (kind, text) = match grammar {
                    Grammar::Gbnf(text) => (1, text.as_str()),
                    Grammar::JsonSchema(text) => (2, text.as_str()),
                    Grammar::JsonObject => (3, ""),
                };
                check(sys::ember_sampler_options_set_grammar(o.ptr, kind, text.as_ptr().cast(), text.len()))?;
            }
        }
        Ok(o)
    }
}

/// KV cache element types (EMBER_KV_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvType {
    F32 = 0,
    F16 = 1,
    Bf16 = 2,
}

/// A session's settings; `None` keeps ember's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionOptions {
    pub n_ctx: Option<i32>,
    pub n_threads: Option<i32>,
    pub max_kv_bytes: Option<u64>,
    /// Context shifting, keeping this many leading tokens.
    pub context_shift_keep: Option<i32>,
    pub kv_type: Option<KvType>,
    pub sampler: SamplerOptions,
}

impl SessionOptions {
    pub(crate) fn build(&self) -> Result<Owned<sys::ember_session_options>> {
        let o = Owned::create(sys::ember_session_options_create, sys::ember_session_options_free)?;
        let sampler = self.sampler.build()?;
        // SAFETY: `o` and `sampler` are live objects owned here.
        unsafe {
            if let Some(n) = self.n_ctx {
                check(sys::ember_session_options_set_n_ctx(o.ptr, n))?;
            }
            if let Some(n) = self.n_threads {
                check(sys::ember_session_options_set_n_threads(o.ptr, n))?;
            }
            if let Some(n) = self.max_kv_bytes {
                check(sys::ember_session_options_set_max_kv_bytes(o.ptr, n))?;
            }
            if let Some(n_keep) = self.context_shift_keep {
                check(sys::ember_session_options_set_context_shift(o.ptr, 1, n_keep))?;
            }
            if let Some(kv) = self.kv_type {
                check(sys::ember_session_options_set_kv_type(o.ptr, kv as i32))?;
            }
            check(sys::ember_session_options_set_sampler(o.ptr, sampler.ptr))?;
        }
        Ok(o)
    }
}

/// Tokenize flags (EMBER_TOKENIZE_*), combinable with `|` on their values.
pub mod tokenize_flags {
    pub const DEFAULT: u32 = 0;
    pub const ADD_BOS: u32 = 1;
    pub const NO_BOS: u32 = 2;
    pub const PARSE_SPECIAL: u32 = 4;
}

/// When a generation stops; the defaults: no token limit, stop at end-of-generation tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenerateOptions {
    pub max_tokens: Option<i32>,
    pub ignore_eos: bool,
    pub stop_strings: Vec<String>,
    pub stop_tokens: Vec<i32>,
    /// How the prompt is tokenized (`tokenize_flags`).
    pub tokenize_flags: u32,
}

impl GenerateOptions {
    /// At most `n` tokens, nothing else changed.
    pub fn max_tokens(n: i32) -> GenerateOptions {
        GenerateOptions { max_tokens: Some(n), ..GenerateOptions::default() }
    }

    pub(crate) fn build(&self) -> Result<Owned<sys::ember_generate_options>> {
        let o = Owned::create(sys::ember_generate_options_create, sys::ember_generate_options_free)?;
        let stops = self
            .stop_strings
            .iter()
            .map(|s| {
                CString::new(s.as_str())
                    .map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("stop string {:?} contains a NUL byte", s)))
            })
            .collect::<Result<Vec<CString>>>()?;
        let stop_ptrs: Vec<*const std::os::raw::c_char> = stops.iter().map(|s| s.as_ptr()).collect();
        // SAFETY: `o` is owned here; the arrays outlive the calls that copy them.
        unsafe {
            if let Some(n) = self.max_tokens {
                check(sys::ember_generate_options_set_max_tokens(o.ptr, n))?;
            }
            check(sys::ember_generate_options_set_ignore_eos(o.ptr, self.ignore_eos as i32))?;
            check(sys::ember_generate_options_set_stop_strings(o.ptr, stop_ptrs.as_ptr(), stop_ptrs.len()))?;
            check(sys::ember_generate_options_set_stop_tokens(o.ptr, self.stop_tokens.as_ptr(), self.stop_tokens.len()))?;
        }
        Ok(o)
    }
}
