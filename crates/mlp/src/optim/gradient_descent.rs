//! Full-batch gradient descent with a backtracking (Armijo) step: MATH.md §6,
//! Theorem 1.1 of the notes. Since every accepted step satisfies
//! `S(V − ε∇S) ≤ S(V) − c ε ‖∇S‖²`, the loss never increases.

use super::line_search::Backtracking;
use super::{
    Objective, Optimizer, OptimizerState, StepOutcome, StopReason, check, evaluate_gradient,
};
use crate::error::Result;
use crate::float::Float;

/// Settings of [`GradientDescent`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GradientDescentConfig {
    /// The first trial step `ε_0` (default 0.1).
    pub initial_step: f64,
    /// Armijo's `c` (default 1e-4).
    pub sufficient_decrease: f64,
    /// Backtracking factor `β` (default 0.5).
    pub shrink: f64,
    /// Each step's first trial is the previous accepted `ε` times this
    /// (default 2), so the step adapts both ways.
    pub growth: f64,
    /// Trials per step before reporting [`StopReason::LineSearchFailed`] (default 60).
    pub max_backtracks: usize,
}

impl Default for GradientDescentConfig {
    fn default() -> Self {
        Self {
            initial_step: 0.1,
            sufficient_decrease: 1e-4,
            shrink: 0.5,
            growth: 2.0,
            max_backtracks: 60,
        }
    }
}

/// Full-batch gradient descent with Armijo backtracking.
#[derive(Clone, Debug)]
pub struct GradientDescent<F> {
    line_search: Backtracking,
    growth: f64,
    step: f64,
    gradient: Vec<F>,
    trial: Vec<F>,
}

impl<F: Float> GradientDescent<F> {
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the field out of range.
    pub fn new(config: GradientDescentConfig, num_params: usize) -> Result<Self> {
        let s = config.initial_step;
        check(s.is_finite() && s > 0.0, "gd.initial_step", || {
            format!("must be positive, got {s}")
        })?;
        let g = config.growth;
        check(g.is_finite() && g >= 1.0, "gd.growth", || format!("must be at least 1, got {g}"))?;
        Ok(Self {
            line_search: Backtracking::new(
                config.sufficient_decrease,
                config.shrink,
                config.max_backtracks,
            )?,
            growth: config.growth,
            step: config.initial_step / config.growth,
            gradient: vec![F::zero(); num_params],
            trial: vec![F::zero(); num_params],
        })
    }
}

impl<F: Float> Optimizer<F> for GradientDescent<F> {
    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>> {
        let mut outcome = evaluate_gradient(objective, params, &mut self.gradient, 0.0)?;
        if outcome.stop.is_some() {
            return Ok(outcome);
        }
        let (loss, gradient_norm) = (outcome.loss, outcome.gradient_norm);
        let slope = -gradient_norm.as_f64().powi(2);
        // d = −∇S; the line search looks for ε with S(V + ε d) ≤ S(V) + c ε ∇S·d.
        for g in &mut self.gradient {
            *g = -*g;
        }
        let initial = self.step * self.growth;
        let found = self.line_search.search(
            objective,
            params,
            loss,
            &self.gradient,
            slope,
            initial,
            &mut self.trial,
        )?;
        outcome.evaluations += found.evaluations;
        if found.accepted {
            params.copy_from_slice(&self.trial);
            self.step = found.step;
            outcome.step = found.step;
            outcome.loss_after = Some(found.loss);
        } else {
            outcome.stop = Some(StopReason::LineSearchFailed);
        }
        Ok(outcome)
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.step = learning_rate / self.growth;
    }

    fn shrink_steps(&mut self, factor: f64) {
        self.step *= factor;
    }

    fn state(&self) -> OptimizerState<F> {
        OptimizerState { tensors: Vec::new(), numbers: vec![("step".into(), self.step)] }
    }

    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        self.step = state.number("step")?;
        Ok(())
    }
}
