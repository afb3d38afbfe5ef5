//! The C functions of include/ember/ember.h, declared by hand (no bindgen: the crate has no
//! dependencies). Only this module and the safe layer's `unsafe` blocks touch them.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_void};

macro_rules! opaque {
    ($($name:ident),*) => {$(
        /// An opaque C handle; only ever used behind a pointer.
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}
opaque!(
    ember_model,
    ember_model_options,
    ember_session,
    ember_session_options,
    ember_sampler_options,
    ember_generate_options,
    ember_chat
);

pub type ember_status = i32;
pub type ember_token_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, token: i32, text: *const c_char, text_len: usize) -> i32>;

extern "C" {
    pub fn ember_version() -> *const c_char;
    pub fn ember_version_number() -> i32;
    pub fn ember_status_name(status: ember_status) -> *const c_char;
    pub fn ember_last_error() -> *const c_char;

    pub fn ember_model_options_create(out: *mut *mut ember_model_options) -> ember_status;
    pub fn ember_model_options_free(options: *mut ember_model_options);
    pub fn ember_model_options_set_weight_format(options: *mut ember_model_options, format: i32) -> ember_status;
    pub fn ember_model_load(
        path: *const c_char,
        options: *const ember_model_options,
        out: *mut *mut ember_model,
    ) -> ember_status;
    pub fn ember_model_free(model: *mut ember_model);
    pub fn ember_model_n_vocab(model: *const ember_model) -> i32;
    pub fn ember_model_n_tokens(model: *const ember_model) -> i32;
    pub fn ember_model_n_ctx_train(model: *const ember_model) -> i32;
    pub fn ember_model_token_bos(model: *const ember_model) -> i32;
    pub fn ember_model_token_eos(model: *const ember_model) -> i32;
    pub fn ember_model_architecture(model: *const ember_model) -> *const c_char;
    pub fn ember_model_adds_bos(model: *const ember_model) -> i32;
    pub fn ember_model_token_is_eog(model: *const ember_model, token: i32) -> i32;
    pub fn ember_model_chat_template(model: *const ember_model) -> *const c_char;

    pub fn ember_tokenize(
        model: *const ember_model,
        text: *const c_char,
        text_len: usize,
        flags: u32,
        tokens: *mut i32,
        capacity: usize,
        n_tokens: *mut usize,
    ) -> ember_status;
    pub fn ember_detokenize(
        model: *const ember_model,
        tokens: *const i32,
        n_tokens: usize,
        flags: u32,
        text: *mut c_char,
        capacity: usize,
        text_len: *mut usize,
    ) -> ember_status;

    pub fn ember_sampler_options_create(out: *mut *mut ember_sampler_options) -> ember_status;
    pub fn ember_sampler_options_free(options: *mut ember_sampler_options);
    pub fn ember_sampler_options_set_temperature(o: *mut ember_sampler_options, t: f32) -> ember_status;
    pub fn ember_sampler_options_set_top_k(o: *mut ember_sampler_options, k: i32) -> ember_status;
    pub fn ember_sampler_options_set_top_p(o: *mut ember_sampler_options, p: f32) -> ember_status;
    pub fn ember_sampler_options_set_min_p(o: *mut ember_sampler_options, p: f32) -> ember_status;
    pub fn ember_sampler_options_set_repeat_penalty(
        o: *mut ember_sampler_options,
        penalty: f32,
        last_n: i32,
    ) -> ember_status;
    pub fn ember_sampler_options_set_seed(o: *mut ember_sampler_options, seed: u64) -> ember_status;
    pub fn ember_sampler_options_set_presence_penalty(o: *mut ember_sampler_options, penalty: f32) -> ember_status;
    pub fn ember_sampler_options_set_frequency_penalty(o: *mut ember_sampler_options, penalty: f32) -> ember_status;
    pub fn ember_sampler_options_set_logit_bias(
        o: *mut ember_sampler_options,
        tokens: *const i32,
        biases: *const f32,
        n: usize,
    ) -> ember_status;
    pub fn ember_sampler_options_set_grammar(
        o: *mut ember_sampler_options,
        kind: i32,
        text: *const c_char,
        len: usize,
    ) -> ember_status;

    pub fn ember_session_options_create(out: *mut *mut ember_session_options) -> ember_status;
    pub fn ember_session_options_free(options: *mut ember_session_options);
    pub fn ember_session_options_set_n_ctx(o: *mut ember_session_options, n_ctx: i32) -> ember_status;
    pub fn ember_session_options_set_n_threads(o: *mut ember_session_options, n_threads: i32) -> ember_status;
    pub fn ember_session_options_set_max_kv_bytes(o: *mut ember_session_options, max_bytes: u64) -> ember_status;
    pub fn ember_session_options_set_context_shift(
        o: *mut ember_session_options,
        enable: i32,
        n_keep: i32,
    ) -> ember_status;
    pub fn ember_session_options_set_kv_type(o: *mut ember_session_options, kv_type: i32) -> ember_status;
    pub fn ember_session_options_set_sampler(
        o: *mut ember_session_options,
        sampler: *const ember_sampler_options,
    ) -> ember_status;

    pub fn ember_session_create(
        model: *const ember_model,
        options: *const ember_session_options,
        out: *mut *mut ember_session,
    ) -> ember_status;
    pub fn ember_session_free(session: *mut ember_session);
    pub fn ember_session_reset(session: *mut ember_session) -> ember_status;
    pub fn ember_session_n_past(session: *const ember_session) -> i32;
    pub fn ember_session_n_ctx(session: *const ember_session) -> i32;
    pub fn ember_session_kv_bytes(session: *const ember_session) -> u64;
    pub fn ember_session_eval(
        session: *mut ember_session,
        tokens: *const i32,
        n_tokens: usize,
        all_logits: *mut f32,
        all_logits_capacity: usize,
    ) -> ember_status;
    pub fn ember_session_logits(
        session: *const ember_session,
        logits: *mut *const f32,
        n_vocab: *mut usize,
    ) -> ember_status;
    pub fn ember_session_sample(session: *mut ember_session, token: *mut i32) -> ember_status;
    pub fn ember_session_set_sampler(
        session: *mut ember_session,
        sampler: *const ember_sampler_options,
    ) -> ember_status;

    pub fn ember_generate_options_create(out: *mut *mut ember_generate_options) -> ember_status;
    pub fn ember_generate_options_free(options: *mut ember_generate_options);
    pub fn ember_generate_options_set_max_tokens(o: *mut ember_generate_options, max_tokens: i32) -> ember_status;
    pub fn ember_generate_options_set_ignore_eos(o: *mut ember_generate_options, ignore_eos: i32) -> ember_status;
    pub fn ember_generate_options_set_stop_strings(
        o: *mut ember_generate_options,
        strings: *const *const c_char,
        n: usize,
    ) -> ember_status;
    pub fn ember_generate_options_set_stop_tokens(
        o: *mut ember_generate_options,
        tokens: *const i32,
        n: usize,
    ) -> ember_status;
    pub fn ember_session_generate_ex(
        session: *mut ember_session,
        prompt: *const c_char,
        prompt_len: usize,
        tokenize_flags: u32,
        options: *const ember_generate_options,
        callback: ember_token_callback,
        user_data: *mut c_void,
        n_generated: *mut i32,
        stop_reason: *mut i32,
    ) -> ember_status;
    pub fn ember_session_cancel(session: *mut ember_session) -> ember_status;

    pub fn ember_session_state_save(
        session: *const ember_session,
        buf: *mut c_void,
        capacity: usize,
        size: *mut usize,
    ) -> ember_status;
    pub fn ember_session_state_load(session: *mut ember_session, buf: *const c_void, size: usize) -> ember_status;
    pub fn ember_session_state_save_file(session: *const ember_session, path: *const c_char) -> ember_status;
    pub fn ember_session_state_load_file(session: *mut ember_session, path: *const c_char) -> ember_status;
    pub fn ember_session_eval_reuse(
        session: *mut ember_session,
        ids: *const i32,
        n_ids: usize,
        n_reused: *mut usize,
    ) -> ember_status;
    pub fn ember_session_clone(src: *const ember_session, out: *mut *mut ember_session) -> ember_status;
    pub fn ember_session_truncate(session: *mut ember_session, n_keep: i32) -> ember_status;
    pub fn ember_session_tokens(
        session: *const ember_session,
        ids: *mut i32,
        capacity: usize,
        n_tokens: *mut usize,
    ) -> ember_status;

    pub fn ember_chat_create(out: *mut *mut ember_chat) -> ember_status;
    pub fn ember_chat_free(chat: *mut ember_chat);
    pub fn ember_chat_add(
        chat: *mut ember_chat,
        role: *const c_char,
        role_len: usize,
        content: *const c_char,
        content_len: usize,
    ) -> ember_status;
    pub fn ember_chat_apply(
        model: *const ember_model,
        chat: *const ember_chat,
        template_source: *const c_char,
        template_len: usize,
        flags: u32,
        text: *mut c_char,
        capacity: usize,
        text_len: *mut usize,
    ) -> ember_status;
    pub fn ember_chat_apply_json(
        model: *const ember_model,
        template_source: *const c_char,
        template_len: usize,
        context_json: *const c_char,
        json_len: usize,
        text: *mut c_char,
        capacity: usize,
        text_len: *mut usize,
    ) -> ember_status;
}
