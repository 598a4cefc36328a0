//! `mlp`: train and use multilayer perceptrons from the command line.
//!
//! A thin adapter over the `mlp` library: parse, run, print the error chain.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{Catalogue, Cli, Command};

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::List { what } => {
            let names: Vec<String> = match what {
                Catalogue::Activations => {
                    mlp::Activation::ALL.iter().map(ToString::to_string).collect()
                }
                Catalogue::Losses => mlp::Loss::ALL.iter().map(ToString::to_string).collect(),
            };
            println!("{}", names.join("\n"));
        }
    }
    Ok(())
}
