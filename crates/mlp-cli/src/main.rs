//! `mlp`: train and use multilayer perceptrons from the command line.
//!
//! A thin adapter over the `mlp` library: parse, run, print the error chain.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod common;
mod distributed;
mod gradient;
mod inspect;
mod plot;
mod predict;
mod progress;
mod session;
mod train;

use cli::{Catalogue, Cli, Command};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let cluster = match distributed::requested(&argv).then(distributed::Cluster::start) {
        None => None,
        Some(Ok(cluster)) => Some(cluster),
        Some(Err(err)) => {
            eprintln!("error: {}", common::error_line(&err));
            return ExitCode::FAILURE;
        }
    };
    let first = cluster.as_ref().is_none_or(|c| c.rank() == 0);
    let argv = match (first, session::expand_resume(argv)) {
        (_, Ok(argv)) => argv,
        // Other ranks take rank 0's arguments below.
        (false, Err(_)) => Vec::new(),
        (true, Err(err)) => fail(cluster.as_ref(), &common::error_line(&err)),
    };
    let argv = match &cluster {
        Some(c) => c.settings(&argv),
        None => argv,
    };
    let result = run(&Cli::parse_from(&argv), &argv, cluster.as_ref());
    match result {
        Ok(code) => {
            // Rank 0 may still be writing: no rank ends the job before it.
            if let Some(c) = &cluster {
                c.barrier();
            }
            code
        }
        Err(err) => {
            // `mlp predict ... | head` closes the pipe: not an error worth a message.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            fail(cluster.as_ref(), &common::error_line(&err))
        }
    }
}

/// Prints `message` and exits; in a distributed run, ends every rank.
fn fail(cluster: Option<&distributed::Cluster>, message: &str) -> ! {
    if let Some(c) = cluster.filter(|c| c.size() > 1) {
        c.abort(message);
    }
    eprintln!("error: {message}");
    // MPI, if started, finalises in `Cluster`'s drop, which exit skips:
    // harmless for a job of one rank.
    std::process::exit(1)
}

fn run(
    cli: &Cli,
    argv: &[OsString],
    cluster: Option<&distributed::Cluster>,
) -> anyhow::Result<ExitCode> {
    if let Command::Train(args) = &cli.command {
        return train::run(args, argv, cluster);
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
