//! Lab 5's run: the "hello" warm-up, vanishing and exploding gradients, then the
//! SimpleRNN on Alice, with the text it writes after every epoch.
//!
//! The book's windows, their batches and text generation live in `shared::chars`: lab 6
//! (the LSTM) uses them too.

use anyhow::Result;
use shared::chars::{self, CharArgs, EpochSamples};
use shared::cli::CommonArgs;
use shared::lab::Lab;
use shared::plot::{self, Panel};
use shared::run::RunDir;
use shared::train::History;

use crate::gradients::gradient_flow;
use crate::hello::learn_hello;
use crate::model::CharRnn;

/// Lab 5, with its defaults (epochs, batch size, learning rate). The bundled text is the
/// whole book, so the default run already trains on all of it; the lecture trains for 25
/// epochs of batch 128 with RMSprop at 0.001.
pub const LAB: Lab = Lab::new("alice-rnn", "Lab 5")
    .sample(10, 128, 1e-3)
    .full(25, 128, 1e-3)
    .quick(1, 128, 1e-3);

/// What lab 5 hands back (for the tests).
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    pub samples: Vec<EpochSamples>,
    pub hello_iterations: usize,
}

/// Lab 5: the "hello" warm-up, vanishing/exploding gradients, then the SimpleRNN on Alice.
pub fn run(args: &CommonArgs, chars: &CharArgs) -> Result<Outcome> {
    let session = LAB.start(args, |data, fit| chars.config(data, fit))?;
    let config = &session.config;
    let device = &session.device;
    let run = &session.run;

    // 1. "hello": the smallest recurrent problem.
    println!(
        "1. \"hell\" → \"ello\": a SimpleRNN with 8 units learns to continue \"h\" into \"hello\""
    );
    let hello = learn_hello(device, config.fit.seed, 500);
    for (iteration, predicted, loss) in &hello.trace {
        println!("   iteration {iteration:>3}: h{predicted}  (loss {loss:.4})");
    }
    println!(
        "   {} after {} iterations ({:.2} s)\n",
        if hello.predicted == "ello" {
            "all four steps right"
        } else {
            "NOT learned"
        },
        hello.iterations,
        hello.seconds
    );

    // 2. Vanishing and exploding gradients.
    let (steps, flow_units) = (40, 64);
    let flows = gradient_flow(device, steps, flow_units, config.fit.seed);
    println!("2. The gradient reaching earlier steps (loss at step {steps}, {flow_units} units):");
    for flow in &flows {
        println!(
            "   {:<28} step {steps}: {:.2e}   step {}: {:.2e}   step 1: {:.2e}",
            flow.label,
            flow.norms[steps - 1],
            steps - 10,
            flow.norms[steps - 11],
            flow.norms[0]
        );
    }
    plot_gradient_flow(run, &flows, steps)?;
    println!("   plot: gradients.png\n");

    // 3. Alice.
    let data = config.load_data()?;
    println!("3. {}", config.describe_data(&data));
    let model = CharRnn::new(
        data.vocab.len(),
        config.units,
        config.cell,
        &session.train_device(),
    );
    let layers = model.summary();
    let (fitted, samples, mut summary) = chars::train_and_report(
        &session,
        &data,
        model,
        &layers,
        "SimpleRNN writes like Alice",
    )?;
    summary.row(
        "hello",
        format!(
            "\"h\" → \"h{}\" after {} iterations",
            hello.predicted, hello.iterations
        ),
    );
    session.close(&mut summary)?;
    Ok(Outcome {
        run: run.clone(),
        history: fitted.history,
        samples,
        hello_iterations: hello.iterations,
    })
}

/// `gradients.png`: log10 of the gradient norm at each step, one line per setting.
fn plot_gradient_flow(
    run: &RunDir,
    flows: &[crate::gradients::GradientFlow],
    steps: usize,
) -> Result<()> {
    let colors = [plot::BLUE, plot::GREEN, plot::RED];
    let series = flows
        .iter()
        .zip(colors.iter().cycle())
        .map(|(flow, color)| {
            let points = flow
                .norms
                .iter()
                .enumerate()
                .map(|(t, n)| (t + 1, n.max(1e-30).log10()))
                .collect();
            (flow.label.as_str(), *color, points)
        })
        .collect();
    plot::plot_lines(
        &run.file("gradients.png"),
        &format!("Gradient reaching each step of a tanh SimpleRNN (loss at step {steps})"),
        "time step",
        &[Panel::new(
            "falling towards step 1: vanishing; rising: exploding",
            "log10 ‖∂L/∂z_t‖",
            series,
        )],
    )?;
    let mut csv = String::from("step");
    for flow in flows {
        csv += &format!(",{}", flow.label);
    }
    csv.push('\n');
    for t in 0..steps {
        csv += &(t + 1).to_string();
        for flow in flows {
            csv += &format!(",{:e}", flow.norms[t]);
        }
        csv.push('\n');
    }
    run.write_text("gradients.csv", &csv)
}
