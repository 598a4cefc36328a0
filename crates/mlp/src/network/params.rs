//! [`Params`]: the flat parameter vector, with per-layer views.

use core::ops::{Deref, DerefMut};

use super::Network;
use crate::error::{Error, Result};
use crate::float::Float;

/// Every parameter of a network in one flat vector (layout in the
/// [module docs](super)), with per-layer views. Dereferences to `[F]`, so
/// it can be passed wherever a parameter slice is expected.
#[derive(Clone, Debug, PartialEq)]
pub struct Params<F = f64> {
    values: Vec<F>,
    network: Network,
}

/// Layer `i`'s parameters: `(b^{i+1}, w^{i+1})` of Proposition 1.2.
#[derive(Clone, Copy, Debug)]
pub struct Layer<'a, F> {
    /// `w^{i+1}`, `[outputs, inputs]` row-major.
    pub weight: &'a [F],
    /// `b^{i+1}`, `[outputs]`.
    pub bias: &'a [F],
    /// `n_{i+1}`.
    pub outputs: usize,
    /// `n_i`.
    pub inputs: usize,
}

/// Layer `i`'s parameters, mutably.
#[derive(Debug)]
pub struct LayerMut<'a, F> {
    /// `w^{i+1}`, `[outputs, inputs]` row-major.
    pub weight: &'a mut [F],
    /// `b^{i+1}`, `[outputs]`.
    pub bias: &'a mut [F],
    /// `n_{i+1}`.
    pub outputs: usize,
    /// `n_i`.
    pub inputs: usize,
}

impl<F: Float> Params<F> {
    /// All parameters zero.
    pub fn zeros(network: &Network) -> Self {
        Self { values: vec![F::zero(); network.num_params()], network: network.clone() }
    }

    /// Parameters from a flat vector in the documented layout.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `values.len()` is not `network.num_params()`.
    pub fn from_vec(network: &Network, values: Vec<F>) -> Result<Self> {
        if values.len() != network.num_params() {
            return Err(Error::ShapeMismatch {
                what: "parameters",
                expected: network.num_params(),
                got: values.len(),
            });
        }
        Ok(Self { values, network: network.clone() })
    }

    /// The network these parameters belong to.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The flat vector.
    pub fn as_slice(&self) -> &[F] {
        &self.values
    }

    /// The flat vector, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [F] {
        &mut self.values
    }

    /// The flat vector, by value.
    pub fn into_vec(self) -> Vec<F> {
        self.values
    }

    /// Layer `i`: `(b^{i+1}, w^{i+1})`.
    ///
    /// # Panics
    /// If `i >= depth`.
    pub fn layer(&self, i: usize) -> Layer<'_, F> {
        self.network.layer(&self.values, i)
    }

    /// Layer `i`, mutably.
    ///
    /// # Panics
    /// If `i >= depth`.
    pub fn layer_mut(&mut self, i: usize) -> LayerMut<'_, F> {
        self.network.layer_mut(&mut self.values, i)
    }

    /// The same parameters in another float type (rounded to nearest).
    pub fn cast<G: Float>(&self) -> Params<G> {
        Params {
            values: self.values.iter().map(|v| G::cast(v.as_f64())).collect(),
            network: self.network.clone(),
        }
    }
}

impl<F> Deref for Params<F> {
    type Target = [F];
    fn deref(&self) -> &[F] {
        &self.values
    }
}

impl<F> DerefMut for Params<F> {
    fn deref_mut(&mut self) -> &mut [F] {
        &mut self.values
    }
}
