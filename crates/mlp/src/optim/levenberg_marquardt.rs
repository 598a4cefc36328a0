//! Levenberg-Marquardt for sums of squares `S = Σ r²` (Moré, *The
//! Levenberg-Marquardt algorithm: implementation and theory*, 1978): each
//! step solves `(JᵀJ + μ D) δ = −Jᵀr` by Cholesky, with `D` the diagonal of
//! `JᵀJ` (the largest seen so far, Moré's scaling), and accepts `δ` only if
//! `S` decreases; `μ` follows Nielsen's rule (1999): after a step with gain
//! ratio `ρ`, `μ ← μ max(1/3, 1 − (2ρ − 1)³)`; after a rejection `μ ← μ ν`,
//! `ν ← 2ν`. The loss therefore never increases.

use super::{Objective, Optimizer, OptimizerState, StepOutcome, StopReason, check, dot};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::linalg::cholesky_solve;

/// Settings of [`LevenbergMarquardt`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LevenbergMarquardtConfig {
    /// `μ₀` (default 1e-3).
    pub initial_damping: f64,
    /// Above this `μ` the solver stops with [`StopReason::DampingOverflow`] (default 1e16).
    pub max_damping: f64,
    /// Rejected trials per step before giving up (default 40).
    pub max_trials: usize,
    /// The most memory `JᵀJ` and its factor may take, in bytes (default 2 GiB);
    /// a network with more parameters is refused with advice.
    pub max_memory: usize,
}

impl Default for LevenbergMarquardtConfig {
    fn default() -> Self {
        Self { initial_damping: 1e-3, max_damping: 1e16, max_trials: 40, max_memory: 2 << 30 }
    }
}

/// Levenberg-Marquardt.
#[derive(Clone, Debug)]
pub struct LevenbergMarquardt<F> {
    config: LevenbergMarquardtConfig,
    mu: f64,
    nu: f64,
    jtj: Vec<F>,
    jtr: Vec<F>,
    factor: Vec<F>,
    delta: Vec<F>,
    scaling: Vec<F>,
    trial: Vec<F>,
}

impl<F: Float> LevenbergMarquardt<F> {
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field out of range, or when `JᵀJ`
    /// for `num_params` parameters would exceed `max_memory`.
    pub fn new(config: LevenbergMarquardtConfig, num_params: usize) -> Result<Self> {
        let mu = config.initial_damping;
        check(mu.is_finite() && mu > 0.0, "lm.initial_damping", || {
            format!("must be positive, got {mu}")
        })?;
        check(config.max_damping > mu, "lm.max_damping", || "must exceed initial_damping".into())?;
        check(config.max_trials >= 1, "lm.max_trials", || "must be at least 1".into())?;
        let bytes = 2 * num_params * num_params * size_of::<F>();
        if bytes > config.max_memory {
            return Err(Error::InvalidConfig {
                field: "solver",
                reason: format!(
                    "Levenberg-Marquardt needs {:.1} GiB for JᵀJ of {num_params} parameters (limit {:.1} GiB); \
                     use lbfgs, or adam for large data",
                    bytes as f64 / f64::from(1u32 << 30),
                    config.max_memory as f64 / f64::from(1u32 << 30)
                ),
            });
        }
        let p = num_params;
        Ok(Self {
            config,
            mu,
            nu: 2.0,
            jtj: vec![F::zero(); p * p],
            jtr: vec![F::zero(); p],
            factor: vec![F::zero(); p * p],
            delta: vec![F::zero(); p],
            scaling: vec![F::zero(); p],
            trial: vec![F::zero(); p],
        })
    }
}

impl<F: Float> Optimizer<F> for LevenbergMarquardt<F> {
    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>> {
        let p = params.len();
        objective.normal_equations(params, &mut self.jtj, &mut self.jtr)?;
        // The baseline comes from the same function as the trial losses, so
        // the comparison is exact and an accepted step never increases it.
        let loss = objective.loss(params)?;
        // ∇S = 2 Jᵀr (10).
        let gradient_norm = F::cast(2.0 * dot(&self.jtr, &self.jtr).sqrt());
        let mut outcome = StepOutcome {
            loss,
            loss_after: None,
            gradient_norm,
            step: 0.0,
            evaluations: 1,
            stop: None,
        };
        if !loss.is_finite() || !gradient_norm.is_finite() {
            outcome.stop = Some(StopReason::NonFinite);
            return Ok(outcome);
        }
        for k in 0..p {
            let d = self.jtj[k * p + k].max(F::cast(1e-12));
            self.scaling[k] = self.scaling[k].max(d);
        }
        for _ in 0..self.config.max_trials {
            self.factor.copy_from_slice(&self.jtj);
            let mu = F::cast(self.mu);
            for k in 0..p {
                self.factor[k * p + k] = self.factor[k * p + k] + mu * self.scaling[k];
                self.delta[k] = -self.jtr[k];
            }
            if cholesky_solve(&mut self.factor, &mut self.delta) {
                for ((t, &x), &d) in self.trial.iter_mut().zip(params.iter()).zip(&self.delta) {
                    *t = x + d;
                }
                let new_loss = objective.loss(&self.trial)?;
                outcome.evaluations += 1;
                // Predicted decrease of ‖r + Jδ‖²: −δᵀJᵀr + μ δᵀDδ (> 0).
                let predicted: f64 = (0..p)
                    .map(|k| {
                        let d = self.delta[k].as_f64();
                        -d * self.jtr[k].as_f64() + self.mu * d * d * self.scaling[k].as_f64()
                    })
                    .sum();
                let actual = loss.as_f64() - new_loss.as_f64();
                if new_loss.is_finite() && actual > 0.0 {
                    let rho = actual / predicted;
                    self.mu *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
                    self.nu = 2.0;
                    params.copy_from_slice(&self.trial);
                    outcome.loss_after = Some(new_loss);
                    outcome.step = dot(&self.delta, &self.delta).sqrt();
                    return Ok(outcome);
                }
            }
            self.mu *= self.nu;
            self.nu *= 2.0;
            if self.mu > self.config.max_damping {
                break;
            }
        }
        outcome.stop = Some(StopReason::DampingOverflow);
        Ok(outcome)
    }

    fn shrink_steps(&mut self, factor: f64) {
        self.mu = (self.mu / factor).min(self.config.max_damping);
    }

    fn state(&self) -> OptimizerState<F> {
        OptimizerState {
            tensors: vec![("scaling".into(), self.scaling.clone())],
            numbers: vec![("mu".into(), self.mu), ("nu".into(), self.nu)],
        }
    }

    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        let scaling = state.tensor("scaling", self.scaling.len())?;
        (self.mu, self.nu) = (state.number("mu")?, state.number("nu")?);
        self.scaling.copy_from_slice(scaling);
        Ok(())
    }
}
