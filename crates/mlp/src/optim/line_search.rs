//! Line searches along a descent direction `d` from `x`:
//! `φ(ε) = f(x + ε d)`, with slope `φ′(0) = ∇f(x)·d < 0`.
//!
//! - [`Backtracking`] (Armijo): `ε = ε_0 β^k`, the first `k` with
//!   `φ(ε) ≤ φ(0) + c ε φ′(0)` (MATH.md §6, Theorem 1.1; Nocedal & Wright
//!   Alg. 3.1). An accepted step never increases the loss.
//! - [`StrongWolfe`]: sufficient decrease and `|φ′(ε)| ≤ c₂ |φ′(0)|`, by
//!   bracketing and zooming with cubic interpolation (Nocedal & Wright,
//!   Alg. 3.5 and 3.6), as quasi-Newton methods need.

use super::{Objective, check, dot};
use crate::error::Result;
use crate::float::Float;

/// The outcome of a line search. When `accepted`, the caller's `x_new` holds
/// `x + step d` (and, for [`StrongWolfe`], `g_new` its gradient).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineStep<F> {
    /// The step length `ε`.
    pub step: f64,
    /// `φ(ε)`.
    pub loss: F,
    /// Objective evaluations used.
    pub evaluations: usize,
    /// Whether a step satisfying the conditions was found.
    pub accepted: bool,
}

fn set_trial<F: Float>(x: &[F], d: &[F], step: f64, out: &mut [F]) {
    let s = F::cast(step);
    for ((o, &xk), &dk) in out.iter_mut().zip(x).zip(d) {
        *o = xk + s * dk;
    }
}

/// Backtracking line search with the Armijo condition (MATH §6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backtracking {
    /// `c` in `(0, 1)`: the fraction of the predicted decrease required.
    pub sufficient_decrease: f64,
    /// `β` in `(0, 1)`: the factor each rejected step is multiplied by.
    pub shrink: f64,
    /// The most trial steps before giving up.
    pub max_steps: usize,
}

impl Backtracking {
    /// A validated line search.
    ///
    /// # Errors
    /// Unless `0 < c < 1`, `0 < β < 1` and `max_steps >= 1`.
    pub fn new(sufficient_decrease: f64, shrink: f64, max_steps: usize) -> Result<Self> {
        let c = sufficient_decrease;
        check(c > 0.0 && c < 1.0, "gd.sufficient_decrease", || {
            format!("must be in (0, 1), got {c}")
        })?;
        check(shrink > 0.0 && shrink < 1.0, "gd.shrink", || {
            format!("must be in (0, 1), got {shrink}")
        })?;
        check(max_steps >= 1, "gd.max_backtracks", || "must be at least 1".into())?;
        Ok(Self { sufficient_decrease, shrink, max_steps })
    }

    /// Tries `ε = initial, initial β, …` and accepts the first with
    /// `f(x + ε d) ≤ f(x) + c ε slope`. A non-finite loss counts as too large.
    ///
    /// # Errors
    /// If the objective cannot be evaluated.
    #[allow(clippy::too_many_arguments)]
    pub fn search<F: Float>(
        &self,
        objective: &mut dyn Objective<F>,
        x: &[F],
        loss: F,
        d: &[F],
        slope: f64,
        initial: f64,
        x_new: &mut [F],
    ) -> Result<LineStep<F>> {
        let f0 = loss.as_f64();
        let mut step = initial;
        for k in 1..=self.max_steps {
            set_trial(x, d, step, x_new);
            let f = objective.loss(x_new)?;
            let fv = f.as_f64();
            if fv.is_finite() && fv <= f0 + self.sufficient_decrease * step * slope && fv <= f0 {
                return Ok(LineStep { step, loss: f, evaluations: k, accepted: true });
            }
            step *= self.shrink;
        }
        Ok(LineStep { step: 0.0, loss, evaluations: self.max_steps, accepted: false })
    }
}

/// Line search for the strong Wolfe conditions (Nocedal & Wright, Alg. 3.5, 3.6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StrongWolfe {
    /// `c₁`: sufficient decrease, in `(0, c₂)`.
    pub c1: f64,
    /// `c₂`: curvature, in `(c₁, 1)`.
    pub c2: f64,
    /// The most objective evaluations.
    pub max_evaluations: usize,
}

struct Point<F> {
    step: f64,
    loss: f64,
    slope: f64,
    raw: F,
}

impl StrongWolfe {
    /// A validated line search.
    ///
    /// # Errors
    /// Unless `0 < c1 < c2 < 1` and `max_evaluations >= 2`.
    pub fn new(c1: f64, c2: f64, max_evaluations: usize) -> Result<Self> {
        check(c1 > 0.0 && c1 < c2 && c2 < 1.0, "lbfgs.wolfe", || {
            format!("need 0 < c1 < c2 < 1, got c1 = {c1}, c2 = {c2}")
        })?;
        check(max_evaluations >= 2, "lbfgs.max_line_search", || "must be at least 2".into())?;
        Ok(Self { c1, c2, max_evaluations })
    }

    /// Searches from `x` (loss `loss`, gradient `g`) along `d`, starting at
    /// `initial`. On success `x_new`, `g_new` hold the accepted point.
    ///
    /// # Errors
    /// If the objective cannot be evaluated.
    #[allow(clippy::too_many_arguments)]
    pub fn search<F: Float>(
        &self,
        objective: &mut dyn Objective<F>,
        x: &[F],
        loss: F,
        g: &[F],
        d: &[F],
        initial: f64,
        x_new: &mut [F],
        g_new: &mut [F],
    ) -> Result<LineStep<F>> {
        let f0 = loss.as_f64();
        let slope0 = dot(g, d);
        let evaluations = core::cell::Cell::new(0);
        let mut eval = |step: f64, x_new: &mut [F], g_new: &mut [F]| -> Result<Point<F>> {
            set_trial(x, d, step, x_new);
            let raw = objective.loss_and_gradient(x_new, g_new)?;
            evaluations.set(evaluations.get() + 1);
            let value = raw.as_f64();
            let value = if value.is_finite() { value } else { f64::INFINITY };
            Ok(Point { step, loss: value, slope: dot(g_new, d), raw })
        };
        let armijo = |p: &Point<F>| p.loss <= f0 + self.c1 * p.step * slope0;
        let curvature = |p: &Point<F>| p.slope.abs() <= -self.c2 * slope0;
        let done = |p: &Point<F>, n: usize| LineStep {
            step: p.step,
            loss: p.raw,
            evaluations: n,
            accepted: true,
        };

        let mut prev = Point { step: 0.0, loss: f0, slope: slope0, raw: loss };
        let mut step = initial;
        let (mut lo, mut hi);
        loop {
            let p = eval(step, x_new, g_new)?;
            if !armijo(&p) || (prev.step > 0.0 && p.loss >= prev.loss) {
                (lo, hi) = (prev, p);
                break;
            }
            if curvature(&p) {
                return Ok(done(&p, evaluations.get()));
            }
            if p.slope >= 0.0 {
                (lo, hi) = (p, prev);
                break;
            }
            if evaluations.get() + 1 >= self.max_evaluations {
                return Ok(done(&p, evaluations.get()));
            }
            step = 2.0 * p.step;
            prev = p;
        }
        // Zoom: lo satisfies sufficient decrease and has the lowest loss so far.
        // One evaluation stays in reserve for the fallback below.
        while evaluations.get() + 1 < self.max_evaluations {
            let step = cubic_minimiser(&lo, &hi);
            let p = eval(step, x_new, g_new)?;
            if !armijo(&p) || p.loss >= lo.loss {
                hi = p;
            } else {
                if curvature(&p) {
                    return Ok(done(&p, evaluations.get()));
                }
                if p.slope * (hi.step - lo.step) >= 0.0 {
                    hi = lo;
                }
                lo = p;
            }
            if (hi.step - lo.step).abs() < 1e-16 * lo.step.max(1.0) {
                break;
            }
        }
        // Out of evaluations: fall back on the best sufficient-decrease point.
        if lo.step > 0.0 && lo.loss < f0 {
            let p = eval(lo.step, x_new, g_new)?;
            return Ok(done(&p, evaluations.get()));
        }
        Ok(LineStep { step: 0.0, loss, evaluations: evaluations.get(), accepted: false })
    }
}

/// The minimiser of the cubic through two points with their slopes
/// (Nocedal & Wright (3.59)), kept inside the middle 80% of the interval;
/// bisection when the cubic has no minimiser there.
fn cubic_minimiser<F>(a: &Point<F>, b: &Point<F>) -> f64 {
    let d1 = a.slope + b.slope - 3.0 * (a.loss - b.loss) / (a.step - b.step);
    let disc = d1 * d1 - a.slope * b.slope;
    let (low, high) = (a.step.min(b.step), a.step.max(b.step));
    let margin = 0.1 * (high - low);
    if disc.is_finite() && disc >= 0.0 {
        let d2 = (b.step - a.step).signum() * disc.sqrt();
        let t = b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
        if t.is_finite() {
            return t.clamp(low + margin, high - margin);
        }
    }
    0.5 * (low + high)
}
