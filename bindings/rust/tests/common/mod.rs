//! Shared setup of the crate's tests: the test data and the `ember` CLI (ctest passes
//! EMBER_TEST_DATA_DIR and EMBER_CLI; without them, the source tree's).
#![allow(dead_code)]
use std::env;
use std::path::PathBuf;
use std::process::Command;

pub const PROMPT: &str = "Once upon a time";

fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

pub fn stories() -> PathBuf {
    let data = env::var_os("EMBER_TEST_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| source_root().join("tests").join("data"));
    data.join("models").join("stories260K.gguf")
}

/// The sampler of the CLI comparisons: every flag the CLI gets, the binding gets too.
pub fn cli_sampler(seed: u64) -> ember::SamplerOptions {
    ember::SamplerOptions {
        temperature: Some(0.8),
        top_k: Some(40),
        top_p: Some(0.95),
        min_p: Some(0.05),
        repeat_penalty: Some((1.1, 64)),
        seed: Some(seed),
        ..ember::SamplerOptions::default()
    }
}

/// What `ember generate` printed: stdout (prompt + text + newline) and the token count of
/// its report on stderr ("..., N tokens, ...").
pub struct CliRun {
    pub stdout: String,
    pub n_tokens: i32,
}

pub fn cli_generate(seed: u64, max_tokens: i32, stop: Option<&str>) -> CliRun {
    let cli = env::var_os("EMBER_CLI").map(PathBuf::from).unwrap_or_else(|| source_root().join("build").join("cli").join("ember"));
    assert!(cli.exists(), "the ember CLI is not built: build ember_cli or set EMBER_CLI ({:?})", cli);
    let mut command = Command::new(&cli);
    command.arg("generate").arg("-m").arg(stories()).args(["-p", PROMPT, "-n", &max_tokens.to_string()]);
    command.args(["--seed", &seed.to_string(), "--temp", "0.8", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05"]);
    command.args(["--repeat-penalty", "1.1", "--repeat-last-n", "64", "-t", "1"]);
    if let Some(stop) = stop {
        command.args(["--stop", stop]);
    }
    let output = command.output().expect("run the ember CLI");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "ember generate failed: {}", stderr);
    let n_tokens = stderr
        .split(", ")
        .find_map(|part| part.strip_suffix(" tokens").and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no token count in the CLI's report: {}", stderr));
    CliRun { stdout: String::from_utf8(output.stdout).expect("UTF-8 output"), n_tokens }
}
