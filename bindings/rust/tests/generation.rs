//! Generation: the same tokens as the `ember generate` CLI for the same seed, streaming,
//! early stops, cancellation from another thread, and panics in the callback.
mod common;

use std::ops::ControlFlow;
use std::sync::mpsc;
use std::thread;

use common::{cli_generate, cli_sampler, stories, PROMPT};
use ember::{GenerateOptions, Grammar, Model, SamplerOptions, SessionOptions, Status, StopReason};

fn session_options(sampler: SamplerOptions) -> SessionOptions {
    SessionOptions { n_threads: Some(1), sampler, ..SessionOptions::default() }
}

#[test]
fn matches_the_cli() {
    let model = Model::load(stories()).unwrap();
    for &(seed, max_tokens, stop) in &[(7u64, 48, None), (123, 64, Some("."))] {
        let cli = cli_generate(seed, max_tokens, stop);
        let mut session = model.session(&session_options(cli_sampler(seed))).unwrap();
        let options = GenerateOptions {
            max_tokens: Some(max_tokens),
            stop_strings: stop.iter().map(|s| s.to_string()).collect(),
            ..GenerateOptions::default()
        };
        let mut streamed = String::new();
        let completion = session
            .generate_with(PROMPT, &options, |piece| {
                streamed.push_str(piece.text);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(cli.stdout, format!("{}{}\n", PROMPT, completion.text), "seed {}", seed);
        assert_eq!(streamed, completion.text);
        assert_eq!(completion.n_generated, cli.n_tokens);
        assert_eq!(completion.tokens.len() as i32, cli.n_tokens);
        assert!(completion.tokens.len() > 5);
        if stop.is_some() {
            assert_eq!(completion.stop_reason, Some(StopReason::String));
        } else {
            assert_eq!(completion.stop_reason, Some(StopReason::MaxTokens));
            assert_eq!(model.detokenize(&completion.tokens).unwrap(), completion.text); // the ids spell it
        }
        // The same seed again in a fresh session: the same ids.
        let mut again = model.session(&session_options(cli_sampler(seed))).unwrap();
        assert_eq!(again.generate(PROMPT, &options).unwrap().tokens, completion.tokens);
    }
}

#[test]
fn break_stops_after_that_piece() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    let options = GenerateOptions { max_tokens: Some(100), ignore_eos: true, ..GenerateOptions::default() };
    let mut seen = 0;
    let completion = session
        .generate_with(PROMPT, &options, |_| {
            seen += 1;
            if seen == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(completion.stop_reason, Some(StopReason::Callback));
    assert_eq!(completion.n_generated, 3);
    assert_eq!(session.n_past(), 5 + 3);
}

#[test]
fn cancel_from_another_thread() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    let canceller = session.canceller();
    let (first_piece_tx, first_piece_rx) = mpsc::channel();
    let (cancelled_tx, cancelled_rx) = mpsc::channel::<()>();
    let other = thread::spawn(move || {
        first_piece_rx.recv().unwrap();
        canceller.cancel().unwrap();
        cancelled_tx.send(()).unwrap();
    });
    let options = GenerateOptions { max_tokens: Some(200), ignore_eos: true, ..GenerateOptions::default() };
    let mut n = 0;
    let error = session
        .generate_with(PROMPT, &options, |_| {
            n += 1;
            if n == 1 {
                // Wait until the other thread has cancelled: the call is still running.
                first_piece_tx.send(()).unwrap();
                cancelled_rx.recv().unwrap();
            }
            ControlFlow::Continue(())
        })
        .unwrap_err();
    other.join().unwrap();
    assert_eq!(error.status(), Status::CANCELLED);
    assert_eq!(error.status().name(), "EMBER_ERR_CANCELLED");
    assert!(!error.message().is_empty());
    let partial = error.partial_completion().unwrap();
    assert_eq!(partial.stop_reason, Some(StopReason::Cancelled));
    assert_eq!(partial.n_generated, 1);
    assert_eq!(session.n_past(), 5 + 1); // what was generated stays
}

#[test]
fn a_full_context_is_an_error_keeping_the_tokens() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions { n_ctx: Some(16), ..SessionOptions::default() }).unwrap();
    let options = GenerateOptions { max_tokens: Some(100), ignore_eos: true, ..GenerateOptions::default() };
    let error = session.generate(PROMPT, &options).unwrap_err();
    assert_eq!(error.status(), Status::CONTEXT_FULL);
    assert!(error.to_string().starts_with("EMBER_ERR_CONTEXT_FULL: "));
    assert_eq!(error.partial_completion().unwrap().stop_reason, Some(StopReason::ContextFull));
    assert_eq!(session.n_past(), 16);
}

#[test]
fn a_panic_in_the_callback_resumes_after_the_call() {
    let model = Model::load(stories()).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = session.generate_with(PROMPT, &GenerateOptions::max_tokens(10), |_| panic!("boom"));
    }));
    assert_eq!(*result.unwrap_err().downcast::<&str>().unwrap(), "boom");
    assert_eq!(session.n_past(), 6); // the prompt and the token whose callback panicked
}

#[test]
fn stop_tokens_and_grammar() {
    let model = Model::load(stories()).unwrap();
    let grammar = SamplerOptions { grammar: Some(Grammar::Gbnf("root ::= \"yes\" | \"no\"".into())), ..SamplerOptions::default() };
    let mut session = model.session(&SessionOptions { sampler: grammar, ..SessionOptions::default() }).unwrap();
    let answer = session.generate("Answer:", &GenerateOptions::max_tokens(10)).unwrap();
    assert!(answer.text == "yes" || answer.text == "no", "{}", answer.text);
    session.reset().unwrap();
    session.set_sampler(&SamplerOptions::default()).unwrap();
    let free = session.generate(PROMPT, &GenerateOptions::max_tokens(8)).unwrap();
    session.reset().unwrap();
    let options = GenerateOptions { max_tokens: Some(8), stop_tokens: vec![free.tokens[2]], ..GenerateOptions::default() };
    let stopped = session.generate(PROMPT, &options).unwrap();
    assert_eq!(stopped.tokens, free.tokens[..2].to_vec());
    assert_eq!(stopped.stop_reason, Some(StopReason::Token));
}
