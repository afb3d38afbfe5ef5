//! The crate's plumbing: version, status names, errors with ember's message, thread-safety
//! markers, handle lifetimes, tokenizer, evaluation and sampling, state and chat.
mod common;

use std::thread;

use common::{stories, PROMPT};
use ember::{tokenize_flags, Canceller, Grammar, Message, Model, SamplerOptions, Session, SessionOptions, Status};

fn header() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/ember/ember.h");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn version_is_the_one_of_cmakelists() {
    // project(ember VERSION x.y.z) is the version's one source.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../CMakeLists.txt");
    let cmake = std::fs::read_to_string(path).unwrap();
    let line = cmake.lines().find(|l| l.starts_with("project(ember VERSION ")).unwrap();
    assert!(line.starts_with(&format!("project(ember VERSION {} ", ember::version())), "{}", line);
    let parts: Vec<i32> = ember::version().split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(ember::version_number(), parts[0] * 1_000_000 + parts[1] * 1000 + parts[2]);
    ember::check_version().unwrap();
}

#[test]
fn status_names_come_from_the_library() {
    let header = header();
    let known = [
        (Status::OK, "EMBER_OK"),
        (Status::INVALID_ARGUMENT, "EMBER_ERR_INVALID_ARGUMENT"),
        (Status::IO, "EMBER_ERR_IO"),
        (Status::INVALID_MODEL, "EMBER_ERR_INVALID_MODEL"),
        (Status::UNSUPPORTED, "EMBER_ERR_UNSUPPORTED"),
        (Status::OUT_OF_MEMORY, "EMBER_ERR_OUT_OF_MEMORY"),
        (Status::CONTEXT_FULL, "EMBER_ERR_CONTEXT_FULL"),
        (Status::CANCELLED, "EMBER_ERR_CANCELLED"),
        (Status::INVALID_TOKEN, "EMBER_ERR_INVALID_TOKEN"),
        (Status::INVALID_UTF8, "EMBER_ERR_INVALID_UTF8"),
        (Status::BUFFER_TOO_SMALL, "EMBER_ERR_BUFFER_TOO_SMALL"),
        (Status::INTERNAL, "EMBER_ERR_INTERNAL"),
        (Status::BAD_STATE, "EMBER_ERR_BAD_STATE"),
    ];
    for (status, name) in known {
        assert!(header.contains(&format!("#define {} {}\n", name, status.0)), "{}", name);
        assert_eq!(status.name(), name);
    }
    assert_eq!(Status(9999).name(), "EMBER_ERR_UNKNOWN");
}

#[test]
fn errors_carry_the_status_and_message() {
    let error = Model::load("/nonexistent/model.gguf").err().unwrap();
    assert_eq!(error.status(), Status::IO);
    assert!(error.message().contains("/nonexistent/model.gguf"), "{}", error.message());
    assert_eq!(error.to_string(), format!("EMBER_ERR_IO: {}", error.message()));
    let error = Model::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).err().unwrap();
    assert_eq!(error.status(), Status::INVALID_MODEL);
    assert!(!error.message().is_empty());
}

#[test]
fn thread_safety_follows_the_header() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Model>();
    send_sync::<Canceller>();
    send::<Session>(); // and not Sync: see the compile_fail doc test on Session
    // A model is shared by threads, each with its own session.
    let model = Model::load(stories()).unwrap();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let model = model.clone();
            thread::spawn(move || {
                let mut session = model.session(&SessionOptions::default()).unwrap();
                session.generate(PROMPT, &ember::GenerateOptions::max_tokens(8)).unwrap().tokens
            })
        })
        .collect();
    let results: Vec<Vec<i32>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results[0], results[1]); // greedy: the same
}

#[test]
fn facts_and_tokenizer() {
    let model = Model::load(stories()).unwrap();
    assert_eq!(model.architecture(), "llama");
    assert_eq!(model.n_vocab(), 512);
    assert!(model.n_tokens() > 0 && model.n_tokens() <= model.n_vocab());
    assert!(model.n_ctx_train() > 0);
    assert_eq!(model.bos(), Some(1));
    assert_eq!(model.eos(), Some(2));
    assert!(model.is_eog(2));
    assert!(!model.is_eog(1));
    let ids = model.tokenize(PROMPT, tokenize_flags::DEFAULT).unwrap();
    assert_eq!(ids[0], 1);
    assert_eq!(model.tokenize(PROMPT, tokenize_flags::NO_BOS).unwrap(), ids[1..].to_vec());
    // SentencePiece's space marker of the first word is kept (ember.h, ember_detokenize).
    assert_eq!(String::from_utf8(model.detokenize_bytes(&ids, true).unwrap()).unwrap(), format!(" {}", PROMPT));
    let long = "a b c ".repeat(200); // more ids than the first buffer guess holds
    assert_eq!(model.detokenize(&model.tokenize(&long, tokenize_flags::NO_BOS).unwrap()).unwrap(), format!(" {}", long));
    assert_eq!(model.detokenize(&[100000]).unwrap_err().status(), Status::INVALID_TOKEN);
}

#[test]
fn bad_options_are_errors() {
    let model = Model::load(stories()).unwrap();
    let bad_temp = SessionOptions { sampler: SamplerOptions { temperature: Some(-1.0), ..SamplerOptions::default() }, ..SessionOptions::default() };
    let error = model.session(&bad_temp).err().unwrap();
    assert_eq!(error.status(), Status::INVALID_ARGUMENT);
    assert!(!error.message().is_empty());
    let bias = SessionOptions { sampler: SamplerOptions { logit_bias: vec![(100000, 1.0)], ..SamplerOptions::default() }, ..SessionOptions::default() };
    assert_eq!(model.session(&bias).err().unwrap().status(), Status::INVALID_TOKEN);
    let grammar = SamplerOptions { grammar: Some(Grammar::Gbnf("root ::= (".into())), ..SamplerOptions::default() };
    let error = model.session(&SessionOptions { sampler: grammar, ..SessionOptions::default() }).err().unwrap();
    assert!(error.message().contains("line 1, column"), "{}", error.message());
    assert_eq!(model.session(&SessionOptions { n_threads: Some(0), ..SessionOptions::default() }).err().unwrap().status(), Status::INVALID_ARGUMENT);
}

#[test]
fn eval_logits_sample_state() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions { n_ctx: Some(64), ..SessionOptions::default() }).unwrap();
    assert_eq!(session.n_ctx(), 64);
    assert_eq!(session.logits().unwrap_err().status(), Status::BAD_STATE);
    let ids = model.tokenize(PROMPT, tokenize_flags::DEFAULT).unwrap();
    let n_vocab = model.n_vocab() as usize;
    let all = session.eval_all_logits(&ids, n_vocab).unwrap();
    let last = session.logits().unwrap().to_vec();
    assert_eq!(last.len(), n_vocab);
    assert_eq!(&all[(ids.len() - 1) * n_vocab..], &last[..]);
    let greedy = session.sample().unwrap();
    let best = last.iter().enumerate().fold(0, |best, (i, &v)| if v > last[best] { i } else { best });
    assert_eq!(greedy as usize, best);
    assert_eq!(session.eval(&[100000]).unwrap_err().status(), Status::INVALID_TOKEN);
    assert_eq!(session.n_past() as usize, ids.len()); // a failed eval changes nothing
    assert_eq!(session.tokens().unwrap(), ids);
    assert!(session.kv_bytes() > 0);

    let state = session.save_state().unwrap();
    let mut copy = session.try_clone().unwrap();
    let a = session.generate("", &ember::GenerateOptions::max_tokens(6)).unwrap();
    assert_eq!(copy.generate("", &ember::GenerateOptions::max_tokens(6)).unwrap().tokens, a.tokens);
    session.load_state(&state).unwrap();
    assert_eq!(session.n_past() as usize, ids.len());
    session.truncate(2).unwrap();
    assert_eq!(session.n_past(), 2);
    assert!(session.load_state(b"not a state").is_err());
    session.reset().unwrap();
    assert_eq!(session.n_past(), 0);
}

#[test]
fn state_files_and_prefix_reuse() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    let ids = model.tokenize(PROMPT, tokenize_flags::DEFAULT).unwrap();
    assert_eq!(session.eval_reuse(&ids).unwrap(), 0);
    let mut longer = ids.clone();
    longer.push(session.sample().unwrap());
    assert_eq!(session.eval_reuse(&longer).unwrap(), ids.len()); // only the new token is evaluated
    assert_eq!(session.tokens().unwrap(), longer);

    let dir = std::env::temp_dir().join(format!("ember-rust-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.bin");
    session.save_state_file(&file).unwrap();
    let mut other = model.session(&SessionOptions::default()).unwrap();
    other.load_state_file(&file).unwrap();
    assert_eq!(other.tokens().unwrap(), longer);
    assert_eq!(other.logits().unwrap(), session.logits().unwrap());
    let missing = other.load_state_file(dir.join("missing.bin")).unwrap_err();
    assert_eq!(missing.status(), Status::IO);
    assert!(missing.message().contains("missing.bin"), "{}", missing.message());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sessions_outlive_the_model_value() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    drop(model); // the session keeps the C model alive; it is freed once, with the session
    assert_eq!(session.generate(PROMPT, &ember::GenerateOptions::max_tokens(3)).unwrap().n_generated, 3);
    let canceller = session.canceller();
    drop(session);
    canceller.cancel().unwrap(); // no call is running: ignored, and the C session still exists
}

#[test]
fn chat_template() {
    let model = Model::load(stories()).unwrap();
    let template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
    let messages = [Message::new("user", "héllo")];
    assert_eq!(model.apply_chat(&messages, Some(template), true).unwrap(), "<user>héllo<assistant>");
    assert_eq!(model.apply_chat(&messages, Some(template), false).unwrap(), "<user>héllo");
    let context = r#"{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true, "who": "x"}"#;
    let json_template = "{{ bos_token }}{{ messages[0].content }}/{{ who }}{% if add_generation_prompt %}>{% endif %}";
    assert_eq!(model.apply_chat_json(Some(json_template), context).unwrap(), "<s>hi/x>");
    assert_eq!(model.apply_chat_json(Some(json_template), "[]").unwrap_err().status(), Status::INVALID_ARGUMENT);
}
