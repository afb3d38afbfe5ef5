use std::io::Write;
use std::ops::ControlFlow;

fn main() -> Result<(), ember::Error> {
    let model = ember::Model::load("tests/data/models/stories260K.gguf")?;
    let sampler = ember::SamplerOptions { temperature: Some(0.8), seed: Some(7), ..Default::default() };
    let mut session = model.session(&ember::SessionOptions { sampler, ..Default::default() })?;
    session.generate_with("Once upon a time", &ember::GenerateOptions::max_tokens(64), |piece| {
        print!("{}", piece.text);
        std::io::stdout().flush().ok();
        ControlFlow::Continue(())
    })?;
    println!();
    Ok(())
}
