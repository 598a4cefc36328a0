//! `ndarray` arrays at the API edge (feature `ndarray`, on by default): the
//! ecosystem's array type in and out, the same computations as the slice API.

use std::borrow::Cow;

use ndarray::{Array2, ArrayBase, Data, Ix2};

use crate::error::Result;
use crate::float::Float;
use crate::loss::{Loss, Targets};
use crate::network::{Network, Workspace};

/// The row-major data of a 2-D array, copied only if it is not already
/// contiguous in row-major order.
fn rows<F: Float, S: Data<Elem = F>>(array: &ArrayBase<S, Ix2>) -> Cow<'_, [F]> {
    match array.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(array.iter().copied().collect()),
    }
}

impl Network {
    /// [`forward`](Self::forward) on an `ndarray` array or view, samples as rows.
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; returns `[B, n_L]`
    ///
    /// # Panics
    /// If `input` does not have `n_0` columns, or as [`forward`](Self::forward).
    #[track_caller]
    pub fn forward_array<F: Float, S: Data<Elem = F>>(
        &self,
        params: &[F],
        input: &ArrayBase<S, Ix2>,
        ws: &mut Workspace<F>,
    ) -> Array2<F> {
        assert_eq!(input.ncols(), self.inputs(), "input columns");
        let out = self.forward(params, &rows(input), ws);
        Array2::from_shape_vec((input.nrows(), self.outputs()), out.to_vec())
            .expect("forward returns [B, n_L]")
    }

    /// [`loss_and_gradient`](Self::loss_and_gradient) with inputs and dense
    /// targets as `ndarray` arrays or views.
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; `targets`: `[B, n_L]`; `grad`: `[P]`
    ///
    /// # Errors
    /// As [`loss_and_gradient`](Self::loss_and_gradient).
    ///
    /// # Panics
    /// If `input` does not have `n_0` columns, or as
    /// [`loss_and_gradient`](Self::loss_and_gradient).
    #[track_caller]
    pub fn loss_and_gradient_array<F: Float, S: Data<Elem = F>, T: Data<Elem = F>>(
        &self,
        params: &[F],
        input: &ArrayBase<S, Ix2>,
        targets: &ArrayBase<T, Ix2>,
        loss: Loss,
        ws: &mut Workspace<F>,
        grad: &mut [F],
    ) -> Result<F> {
        assert_eq!(input.ncols(), self.inputs(), "input columns");
        let y = rows(targets);
        self.loss_and_gradient(params, &rows(input), Targets::Values(&y), loss, ws, grad)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    use crate::{Activation, Init, Loss, Network, Params, Workspace};

    #[test]
    fn arrays_in_any_layout_give_the_slice_results() {
        let net = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
        let params = Params::<f64>::init(&net, Init::XavierUniform, 5).unwrap();
        let x = [0.1, -0.4, 0.7, 0.2, -1.0, 0.5];
        let y = [0.3, -0.1, 0.9];
        let mut ws = Workspace::new(&net, 3);
        let expected = net.forward(&params, &x, &mut ws).to_vec();
        let row_major = Array2::from_shape_vec((3, 2), x.to_vec()).unwrap();
        let mut col_major = Array2::zeros((3, 2).f());
        col_major.assign(&row_major);
        for input in [&row_major, &col_major] {
            let out = net.forward_array(&params, input, &mut ws);
            assert_eq!(out.as_slice().unwrap(), expected.as_slice());
        }
        let targets = Array2::from_shape_vec((3, 1), y.to_vec()).unwrap();
        let mut g1 = vec![0.0; net.num_params()];
        let mut g2 = vec![0.0; net.num_params()];
        let l1 = net
            .loss_and_gradient_array(
                &params,
                &col_major,
                &targets,
                Loss::MeanSquared,
                &mut ws,
                &mut g1,
            )
            .unwrap();
        let l2 = net
            .loss_and_gradient(
                &params,
                &x,
                crate::Targets::Values(&y),
                Loss::MeanSquared,
                &mut ws,
                &mut g2,
            )
            .unwrap();
        assert_eq!((l1, g1), (l2, g2));
    }
}
