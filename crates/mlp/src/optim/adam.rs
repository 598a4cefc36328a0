//! Adam (Kingma & Ba, ICLR 2015) and AdamW (Loshchilov & Hutter, ICLR 2019),
//! as PyTorch computes them:
//!
//! ```text
//! g ← ∇ + λ V                         (Adam's L2 weight decay)
//! V ← V (1 − η λ)                     (AdamW's decoupled weight decay)
//! m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
//! V ← V − η (m / (1 − β₁ᵗ)) / (sqrt(v / (1 − β₂ᵗ)) + ε)
//! ```

use super::{Objective, Optimizer, OptimizerState, StepOutcome, check, evaluate_gradient};
use crate::error::Result;
use crate::float::Float;

/// Settings of [`Adam`] (used by both `adam` and `adamw`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AdamConfig {
    /// `η` (default 1e-3).
    pub learning_rate: f64,
    /// `β₁` in `[0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β₂` in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// `ε` (default 1e-8).
    pub epsilon: f64,
    /// `λ` (default 0 for `adam`, 0.01 for `adamw`).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { learning_rate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weight_decay: 0.0 }
    }
}

/// How [`Adam`] applies weight decay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decay {
    /// Added to the gradient (Adam).
    L2,
    /// Applied to the parameters directly (AdamW).
    Decoupled,
}

/// Adam or AdamW.
#[derive(Clone, Debug)]
pub struct Adam<F> {
    config: AdamConfig,
    decay: Decay,
    t: i32,
    gradient: Vec<F>,
    m: Vec<F>,
    v: Vec<F>,
}

impl<F: Float> Adam<F> {
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the field out of range.
    pub fn new(config: AdamConfig, decay: Decay, num_params: usize) -> Result<Self> {
        let c = &config;
        check(c.learning_rate.is_finite() && c.learning_rate > 0.0, "adam.learning_rate", || {
            format!("must be positive, got {}", c.learning_rate)
        })?;
        check((0.0..1.0).contains(&c.beta1), "adam.beta1", || {
            format!("must be in [0, 1), got {}", c.beta1)
        })?;
        check((0.0..1.0).contains(&c.beta2), "adam.beta2", || {
            format!("must be in [0, 1), got {}", c.beta2)
        })?;
        check(c.epsilon > 0.0 && c.epsilon.is_finite(), "adam.epsilon", || {
            format!("must be positive and finite, got {}", c.epsilon)
        })?;
        check(c.weight_decay >= 0.0 && c.weight_decay.is_finite(), "adam.weight_decay", || {
            format!("must be non-negative, got {}", c.weight_decay)
        })?;
        Ok(Self {
            config,
            decay,
            t: 0,
            gradient: vec![F::zero(); num_params],
            m: vec![F::zero(); num_params],
            v: vec![F::zero(); num_params],
        })
    }
}

impl<F: Float> Optimizer<F> for Adam<F> {
    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>> {
        let outcome =
            evaluate_gradient(objective, params, &mut self.gradient, self.config.learning_rate)?;
        if outcome.stop.is_some() {
            return Ok(outcome);
        }
        let c = &self.config;
        self.t += 1;
        let update = Update {
            decay: self.decay,
            b1: F::cast(c.beta1),
            b2: F::cast(c.beta2),
            lr: F::cast(c.learning_rate),
            eps: F::cast(c.epsilon),
            wd: F::cast(c.weight_decay),
            correction1: F::cast(1.0 - c.beta1.powi(self.t)),
            correction2: F::cast(1.0 - c.beta2.powi(self.t)),
        };
        let run = |p: &mut [F], g: &[F], m: &mut [F], v: &mut [F]| {
            crate::simd::vectorised(Slices { update, p, g, m, v });
        };
        let n = crate::parallel::piece_len(params.len(), objective.threads());
        let items = params.chunks_mut(n).zip(self.gradient.chunks(n));
        let items = items.zip(self.m.chunks_mut(n).zip(self.v.chunks_mut(n)));
        crate::parallel::pieces(items, |((p, g), (m, v))| run(p, g, m, v));
        Ok(outcome)
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.config.learning_rate = learning_rate;
    }

    fn state(&self) -> OptimizerState<F> {
        OptimizerState {
            tensors: vec![("m".into(), self.m.clone()), ("v".into(), self.v.clone())],
            numbers: vec![("t".into(), f64::from(self.t))],
        }
    }

    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        let (m, v) = (state.tensor("m", self.m.len())?, state.tensor("v", self.v.len())?);
        self.t = i32::try_from(state.count("t", i32::MAX as usize)?).expect("at most i32::MAX");
        self.m.copy_from_slice(m);
        self.v.copy_from_slice(v);
        Ok(())
    }
}

/// One step's constants of the update.
#[derive(Clone, Copy)]
struct Update<F> {
    decay: Decay,
    b1: F,
    b2: F,
    lr: F,
    eps: F,
    wd: F,
    correction1: F,
    correction2: F,
}

/// The update over one piece of the parameters, as a vectorised kernel.
struct Slices<'a, F> {
    update: Update<F>,
    p: &'a mut [F],
    g: &'a [F],
    m: &'a mut [F],
    v: &'a mut [F],
}

impl<F: Float> crate::simd::Kernel for Slices<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Update { decay, b1, b2, lr, eps, wd, correction1, correction2 } = self.update;
        let one = F::one();
        for (((p, &g), m), v) in self.p.iter_mut().zip(self.g).zip(self.m).zip(self.v) {
            let g = match decay {
                Decay::L2 => g + wd * *p,
                Decay::Decoupled => {
                    *p = *p * (one - lr * wd);
                    g
                }
            };
            *m = b1 * *m + (one - b1) * g;
            *v = b2 * *v + (one - b2) * g * g;
            *p = *p - lr * (*m / correction1) / ((*v / correction2).sqrt() + eps);
        }
    }
}
