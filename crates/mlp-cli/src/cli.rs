//! The command-line interface, as clap derive types.

use clap::{Parser, Subcommand, ValueEnum};

/// Train and use multilayer perceptrons, with exact back-propagation.
///
/// The network and its mathematics follow MATH.md: layers are counted from 0,
/// and layer i applies its activation to its input before its affine map.
#[derive(Debug, Parser)]
#[command(name = "mlp", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the names the library accepts (activations, losses).
    List {
        /// What to list.
        #[arg(value_enum)]
        what: Catalogue,
    },
}

/// A catalogue of names.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Catalogue {
    /// Activation functions, e.g. `tanh`, `leaky_relu:0.2`.
    Activations,
    /// Losses, e.g. `sse`, `cross_entropy`.
    Losses,
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
