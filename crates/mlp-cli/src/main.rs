//! `mlp`: train and use multilayer perceptrons from the command line.
//!
//! A thin adapter over the `mlp` library: parse, run, print the error chain.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod common;
mod gradient;
mod inspect;
mod plot;
mod predict;
mod progress;
mod session;
mod train;

use cli::{Catalogue, Cli, Command};

fn main() -> ExitCode {
    let argv = match session::expand_resume(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    match run(&Cli::parse_from(&argv), &argv) {
        Ok(code) => code,
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

fn run(cli: &Cli, argv: &[OsString]) -> anyhow::Result<ExitCode> {
    if let Command::Train(args) = &cli.command {
        return train::run(args, argv);
    }
    match &cli.command {
        Command::Train(_) => unreachable!("handled above"),
        Command::Predict(args) => predict::predict(args),
        Command::Eval(args) => predict::eval(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Init(args) => inspect::init(args),
        Command::Gradient(args) => gradient::write_gradient(args),
        Command::Gradcheck(args) => gradient::gradcheck(args),
        Command::Jacobian(args) => gradient::jacobian(args),
        Command::Export(args) => inspect::export(args),
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
    .map(|()| ExitCode::SUCCESS)
}
