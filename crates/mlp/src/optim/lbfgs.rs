//! Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
//! Alg. 7.4 two-loop recursion, Alg. 7.5), full batch, with a line search for
//! the strong Wolfe conditions (Alg. 3.5, 3.6). The initial Hessian
//! approximation is `γ I` with `γ = sᵀy / yᵀy` of the newest pair (7.20).

use super::line_search::StrongWolfe;
use super::{Objective, Optimizer, OptimizerState, StepOutcome, StopReason, check, dot, norm};
use crate::error::Result;
use crate::float::Float;

/// Settings of [`Lbfgs`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LbfgsConfig {
    /// Correction pairs kept (default 10).
    pub memory: usize,
    /// Wolfe sufficient-decrease constant `c₁` (default 1e-4).
    pub c1: f64,
    /// Wolfe curvature constant `c₂` (default 0.9).
    pub c2: f64,
    /// Objective evaluations per line search (default 25).
    pub max_line_search: usize,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self { memory: 10, c1: 1e-4, c2: 0.9, max_line_search: 25 }
    }
}

/// L-BFGS with a strong Wolfe line search.
#[derive(Clone, Debug)]
pub struct Lbfgs<F> {
    line_search: StrongWolfe,
    memory: usize,
    /// Correction pairs `s = x_{k+1} − x_k`, `y = g_{k+1} − g_k`, oldest first
    /// in ring order starting at `head`.
    s: Vec<Vec<F>>,
    y: Vec<Vec<F>>,
    rho: Vec<f64>,
    head: usize,
    len: usize,
    /// The point, loss and gradient of the last accepted step, reused by the
    /// next step when it starts from the same point (so the objective must
    /// not change between steps without a [`reset`](Optimizer::reset)).
    cached: Option<(Vec<F>, F)>,
    gradient: Vec<F>,
    direction: Vec<F>,
    alpha: Vec<f64>,
    x_new: Vec<F>,
    g_new: Vec<F>,
}

impl<F: Float> Lbfgs<F> {
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the field out of range.
    pub fn new(config: LbfgsConfig, num_params: usize) -> Result<Self> {
        check(config.memory >= 1, "lbfgs.memory", || "must be at least 1".into())?;
        let m = config.memory;
        Ok(Self {
            line_search: StrongWolfe::new(config.c1, config.c2, config.max_line_search)?,
            memory: m,
            s: vec![vec![F::zero(); num_params]; m],
            y: vec![vec![F::zero(); num_params]; m],
            rho: vec![0.0; m],
            head: 0,
            len: 0,
            cached: None,
            gradient: vec![F::zero(); num_params],
            direction: vec![F::zero(); num_params],
            alpha: vec![0.0; m],
            x_new: vec![F::zero(); num_params],
            g_new: vec![F::zero(); num_params],
        })
    }

    /// `d = −H g` by the two-loop recursion (Alg. 7.4).
    fn two_loop(&mut self) {
        let q = &mut self.direction;
        q.copy_from_slice(&self.gradient);
        let slot = |k: usize| (self.head + k) % self.memory;
        for k in (0..self.len).rev() {
            let i = slot(k);
            let a = self.rho[i] * dot(&self.s[i], q);
            self.alpha[i] = a;
            let a = F::cast(a);
            q.iter_mut().zip(&self.y[i]).for_each(|(q, &y)| *q = *q - a * y);
        }
        if self.len > 0 {
            let newest = slot(self.len - 1);
            let gamma = F::cast(
                dot(&self.s[newest], &self.y[newest]) / dot(&self.y[newest], &self.y[newest]),
            );
            q.iter_mut().for_each(|q| *q = *q * gamma);
        }
        for k in 0..self.len {
            let i = slot(k);
            let b = self.rho[i] * dot(&self.y[i], q);
            let c = F::cast(self.alpha[i] - b);
            q.iter_mut().zip(&self.s[i]).for_each(|(q, &s)| *q = *q + c * s);
        }
        q.iter_mut().for_each(|q| *q = -*q);
    }
}

impl<F: Float> Optimizer<F> for Lbfgs<F> {
    fn reset(&mut self) {
        self.len = 0;
        self.cached = None;
    }

    fn shrink_steps(&mut self, _factor: f64) {
        self.reset();
    }

    /// The correction pairs, oldest first. The cached loss and gradient are
    /// left out: the next step evaluates them again, to the same bits.
    fn state(&self) -> OptimizerState<F> {
        let slots = (0..self.len).map(|k| (self.head + k) % self.memory);
        let (mut s, mut y) = (Vec::new(), Vec::new());
        let mut numbers = vec![("len".to_string(), self.len as f64)];
        for (k, i) in slots.enumerate() {
            s.extend_from_slice(&self.s[i]);
            y.extend_from_slice(&self.y[i]);
            numbers.push((format!("rho.{k}"), self.rho[i]));
        }
        OptimizerState { tensors: vec![("s".into(), s), ("y".into(), y)], numbers }
    }

    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        let len = state.count("len", self.memory)?;
        let p = self.gradient.len();
        let (s, y) = (state.tensor("s", len * p)?, state.tensor("y", len * p)?);
        let rho: Vec<f64> =
            (0..len).map(|k| state.number(&format!("rho.{k}"))).collect::<Result<_>>()?;
        for k in 0..len {
            self.s[k].copy_from_slice(&s[k * p..(k + 1) * p]);
            self.y[k].copy_from_slice(&y[k * p..(k + 1) * p]);
            self.rho[k] = rho[k];
        }
        (self.head, self.len, self.cached) = (0, len, None);
        Ok(())
    }

    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>> {
        let (loss, evaluations) = match &self.cached {
            Some((x, loss)) if x.as_slice() == &*params => (*loss, 0),
            _ => (objective.loss_and_gradient(params, &mut self.gradient)?, 1),
        };
        let gradient_norm = norm(&self.gradient, 1);
        let mut outcome = StepOutcome {
            loss,
            loss_after: None,
            gradient_norm,
            step: 0.0,
            evaluations,
            stop: None,
        };
        if !loss.is_finite() || !gradient_norm.is_finite() {
            outcome.stop = Some(StopReason::NonFinite);
            return Ok(outcome);
        }
        self.two_loop();
        let slope = dot(&self.gradient, &self.direction);
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction (lost curvature information): restart.
            self.len = 0;
            self.two_loop();
        }
        let initial = if self.len == 0 {
            let l1: f64 = self.gradient.iter().map(|g| g.as_f64().abs()).sum();
            (1.0 / l1).min(1.0)
        } else {
            1.0
        };
        let found = self.line_search.search(
            objective,
            params,
            loss,
            &self.gradient,
            &self.direction,
            initial,
            &mut self.x_new,
            &mut self.g_new,
        )?;
        outcome.evaluations += found.evaluations;
        if !found.accepted {
            self.len = 0;
            self.cached = None;
            outcome.stop = Some(StopReason::LineSearchFailed);
            return Ok(outcome);
        }
        // New correction pair, kept only if the curvature condition sᵀy > 0 holds.
        let (mut sy, mut yy) = (0.0, 0.0);
        for ((x_new, x), (g_new, g)) in
            self.x_new.iter().zip(&*params).zip(self.g_new.iter().zip(&self.gradient))
        {
            let s = x_new.as_f64() - x.as_f64();
            let y = g_new.as_f64() - g.as_f64();
            sy += s * y;
            yy += y * y;
        }
        if sy > 1e-10 * yy && sy.is_finite() {
            let slot = (self.head + self.len) % self.memory;
            let pairs = self.s[slot].iter_mut().zip(&mut self.y[slot]);
            for ((s, y), ((x_new, x), (g_new, g))) in pairs
                .zip(self.x_new.iter().zip(&*params).zip(self.g_new.iter().zip(&self.gradient)))
            {
                *s = *x_new - *x;
                *y = *g_new - *g;
            }
            self.rho[slot] = 1.0 / dot(&self.s[slot], &self.y[slot]);
            if self.len < self.memory {
                self.len += 1;
            } else {
                self.head = (self.head + 1) % self.memory;
            }
        }
        params.copy_from_slice(&self.x_new);
        std::mem::swap(&mut self.gradient, &mut self.g_new);
        match &mut self.cached {
            Some((x, l)) => {
                x.copy_from_slice(params);
                *l = found.loss;
            }
            None => self.cached = Some((params.to_vec(), found.loss)),
        }
        outcome.step = found.step;
        outcome.loss_after = Some(found.loss);
        Ok(outcome)
    }
}
