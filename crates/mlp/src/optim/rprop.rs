//! iRPROP− (Igel & Hüsken, *Improving the Rprop learning algorithm*, 2000),
//! FANN's default: each parameter has its own step `Δ`, grown by `η⁺` while
//! its gradient keeps its sign and shrunk by `η⁻` when the sign flips (and
//! that gradient is then forgotten); the parameter moves by `−sign(g) Δ`.

use super::{Objective, Optimizer, OptimizerState, StepOutcome, check, evaluate_gradient};
use crate::error::Result;
use crate::float::Float;

/// Settings of [`Rprop`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RpropConfig {
    /// `η⁺ > 1` (default 1.2).
    pub increase: f64,
    /// `η⁻` in `(0, 1)` (default 0.5).
    pub decrease: f64,
    /// `Δ₀` (default 0.0125, Igel & Hüsken's).
    pub initial_step: f64,
    /// Smallest `Δ` (default 1e-6).
    pub min_step: f64,
    /// Largest `Δ` (default 50).
    pub max_step: f64,
}

impl Default for RpropConfig {
    fn default() -> Self {
        Self { increase: 1.2, decrease: 0.5, initial_step: 0.0125, min_step: 1e-6, max_step: 50.0 }
    }
}

/// iRPROP−, full batch.
#[derive(Clone, Debug)]
pub struct Rprop<F> {
    config: RpropConfig,
    gradient: Vec<F>,
    previous: Vec<F>,
    steps: Vec<F>,
}

impl<F: Float> Rprop<F> {
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the field out of range.
    pub fn new(config: RpropConfig, num_params: usize) -> Result<Self> {
        let c = &config;
        check(c.increase > 1.0, "rprop.increase", || format!("must exceed 1, got {}", c.increase))?;
        check(c.decrease > 0.0 && c.decrease < 1.0, "rprop.decrease", || {
            format!("must be in (0, 1), got {}", c.decrease)
        })?;
        check(
            c.min_step >= 0.0 && c.min_step <= c.initial_step && c.initial_step <= c.max_step,
            "rprop.initial_step",
            || {
                format!(
                    "need 0 <= min_step <= initial_step <= max_step, got {} <= {} <= {}",
                    c.min_step, c.initial_step, c.max_step
                )
            },
        )?;
        Ok(Self {
            steps: vec![F::cast(config.initial_step); num_params],
            config,
            gradient: vec![F::zero(); num_params],
            previous: vec![F::zero(); num_params],
        })
    }
}

impl<F: Float> Optimizer<F> for Rprop<F> {
    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>> {
        let outcome = evaluate_gradient(objective, params, &mut self.gradient, 0.0)?;
        if outcome.stop.is_some() {
            return Ok(outcome);
        }
        let c = &self.config;
        let (up, down) = (F::cast(c.increase), F::cast(c.decrease));
        let (min, max) = (F::cast(c.min_step), F::cast(c.max_step));
        let zero = F::zero();
        for (((p, &g), prev), step) in
            params.iter_mut().zip(&self.gradient).zip(&mut self.previous).zip(&mut self.steps)
        {
            let mut g = g;
            let agreement = g * *prev;
            if agreement > zero {
                *step = (*step * up).min(max);
            } else if agreement < zero {
                *step = (*step * down).max(min);
                g = zero; // iRPROP−: forget the gradient whose sign flipped
            }
            if g > zero {
                *p = *p - *step;
            } else if g < zero {
                *p = *p + *step;
            }
            *prev = g;
        }
        Ok(outcome)
    }

    fn shrink_steps(&mut self, factor: f64) {
        let (f, min) = (F::cast(factor), F::cast(self.config.min_step));
        self.steps.iter_mut().for_each(|s| *s = (*s * f).max(min));
    }

    fn state(&self) -> OptimizerState<F> {
        OptimizerState {
            tensors: vec![
                ("previous".into(), self.previous.clone()),
                ("steps".into(), self.steps.clone()),
            ],
            numbers: Vec::new(),
        }
    }

    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        let n = self.steps.len();
        let (previous, steps) = (state.tensor("previous", n)?, state.tensor("steps", n)?);
        self.previous.copy_from_slice(previous);
        self.steps.copy_from_slice(steps);
        Ok(())
    }
}
