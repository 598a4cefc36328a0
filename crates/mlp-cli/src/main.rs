//! `mlp`: train and use multilayer perceptrons from the command line.
//!
//! A thin adapter over the `mlp` library: parse, run, print the error chain.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod common;
mod gradient;
mod inspect;
mod plot;
mod predict;
mod progress;
mod train;

use cli::{Catalogue, Cli, Command};

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `mlp predict ... | head` closes the pipe: not an error worth a message.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Train(args) => train::run(args),
        Command::Predict(args) => predict::predict(args),
        Command::Eval(args) => predict::eval(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Init(args) => inspect::init(args),
        Command::Gradient(args) => gradient::write_gradient(args),
        Command::Gradcheck(args) => gradient::gradcheck(args),
        Command::Jacobian(args) => gradient::jacobian(args),
        Command::Datasets => inspect::datasets(),
        Command::List { what } => {
            let names: Vec<String> = match what {
                Catalogue::Activations => {
                    mlp::Activation::ALL.iter().map(ToString::to_string).collect()
                }
                Catalogue::Losses => mlp::Loss::ALL.iter().map(ToString::to_string).collect(),
                Catalogue::Solvers => ["gd", "sgd", "adam", "adamw", "lbfgs", "lm", "rprop"]
                    .map(String::from)
                    .to_vec(),
            };
            common::write_output(None, &format!("{}\n", names.join("\n")))
        }
    }
}
