//! Mini-batch stochastic gradient descent with optional momentum, in
//! PyTorch's formulation (Sutskever et al., ICML 2013):
//! `b ← μ b + g` (`b = g` on the first step), then `V ← V − η b` (classic) or
//! `V ← V − η (g + μ b)` (Nesterov).

use super::{Objective, Optimizer, OptimizerState, StepOutcome, check, evaluate_gradient};
use crate::error::Result;
use crate::float::Float;

/// Momentum of [`Sgd`].
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Momentum {
    /// Plain SGD (the default).
    #[default]
    None,
    /// Heavy-ball momentum with coefficient `μ` in `[0, 1)`.
    Classic(f64),
    /// Nesterov momentum with coefficient `μ` in `[0, 1)`.
    Nesterov(f64),
}

/// Settings of [`Sgd`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SgdConfig {
    /// `η` (default 0.01).
    pub learning_rate: f64,
    /// Momentum (default none).
    pub momentum: Momentum,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self { learning_rate: 0.01, momentum: Momentum::None }
    }
}

/// Mini-batch SGD.
#[derive(Clone, Debug)]
pub struct Sgd<F> {
    learning_rate: f64,
    momentum: Momentum,
    gradient: Vec<F>,
    buffer: Vec<F>,
    started: bool,
}

impl<F: Float> Sgd<F> {
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the field out of range.
    pub fn new(config: SgdConfig, num_params: usize) -> Result<Self> {
        let lr = config.learning_rate;
        check(lr.is_finite() && lr > 0.0, "sgd.learning_rate", || {
            format!("must be positive, got {lr}")
        })?;
        if let Momentum::Classic(mu) | Momentum::Nesterov(mu) = config.momentum {
            check((0.0..1.0).contains(&mu), "sgd.momentum", || {
                format!("must be in [0, 1), got {mu}")
            })?;
        }
        Ok(Self {
            learning_rate: lr,
            momentum: config.momentum,
            gradient: vec![F::zero(); num_params],
            buffer: vec![F::zero(); num_params],
            started: false,
        })
    }
}

impl<F: Float> Optimizer<F> for Sgd<F> {
    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>> {
        let outcome = evaluate_gradient(objective, params, &mut self.gradient, self.learning_rate)?;
        if outcome.stop.is_some() {
            return Ok(outcome);
        }
        let (lr, momentum, first) = (F::cast(self.learning_rate), self.momentum, !self.started);
        let update = |params: &mut [F], gradient: &[F], buffer: &mut [F]| {
            crate::simd::vectorised(Update { lr, momentum, first, params, gradient, buffer });
        };
        let n = crate::parallel::piece_len(params.len(), objective.threads());
        let items = params.chunks_mut(n).zip(self.gradient.chunks(n));
        let items = items.zip(self.buffer.chunks_mut(n));
        crate::parallel::pieces(items, |((p, g), b)| update(p, g, b));
        self.started = true;
        Ok(outcome)
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    fn state(&self) -> OptimizerState<F> {
        OptimizerState {
            tensors: vec![("buffer".into(), self.buffer.clone())],
            numbers: vec![("started".into(), f64::from(u8::from(self.started)))],
        }
    }

    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        let buffer = state.tensor("buffer", self.buffer.len())?;
        self.started = state.count("started", 1)? == 1;
        self.buffer.copy_from_slice(buffer);
        Ok(())
    }
}

/// The parameter update, as a vectorised kernel with one loop per case.
struct Update<'a, F> {
    lr: F,
    momentum: Momentum,
    first: bool,
    params: &'a mut [F],
    gradient: &'a [F],
    buffer: &'a mut [F],
}

impl<F: Float> crate::simd::Kernel for Update<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Self { lr, momentum, first, params, gradient, buffer } = self;
        let both = params.iter_mut().zip(gradient).zip(buffer.iter_mut());
        match momentum {
            Momentum::None => {
                for (v, &g) in params.iter_mut().zip(gradient) {
                    *v = *v - lr * g;
                }
            }
            // The first step starts the buffer at g itself (PyTorch's rule).
            Momentum::Classic(_) if first => {
                for ((v, &g), b) in both {
                    *b = g;
                    *v = *v - lr * g;
                }
            }
            Momentum::Nesterov(mu) if first => {
                let mu = F::cast(mu);
                for ((v, &g), b) in both {
                    *b = g;
                    *v = *v - lr * (g + mu * g);
                }
            }
            Momentum::Classic(mu) => {
                let mu = F::cast(mu);
                for ((v, &g), b) in both {
                    *b = mu * *b + g;
                    *v = *v - lr * *b;
                }
            }
            Momentum::Nesterov(mu) => {
                let mu = F::cast(mu);
                for ((v, &g), b) in both {
                    *b = mu * *b + g;
                    *v = *v - lr * (g + mu * *b);
                }
            }
        }
    }
}
