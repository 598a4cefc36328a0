use super::*;

#[test]
fn logits_of_magnitude_1e4_neither_overflow_nor_lose_the_answer() {
    let x = [1e4f64, 0.0, -1e4];
    let mut g = [0.0; 3];
    let ce = Loss::SoftmaxCrossEntropy;
    assert_eq!(ce.value_and_gradient(&x, 3, Targets::Classes(&[0]), &mut g).unwrap(), 0.0);
    assert_eq!(g, [0.0, 0.0, 0.0]);
    let v = ce.value_and_gradient(&x, 3, Targets::Classes(&[2]), &mut g).unwrap();
    assert_eq!(v, 2e4);
    assert_eq!(g, [1.0, 0.0, -1.0]);

    let bce = Loss::SigmoidCrossEntropy;
    let y = [0.0, 1.0, 1.0];
    let v = bce.value_and_gradient(&x, 3, Targets::Values(&y), &mut g).unwrap();
    assert!((v - (1e4 + core::f64::consts::LN_2 + 1e4) / 3.0).abs() < 1e-9, "{v}");
    assert!(g.iter().all(|gk| gk.is_finite()));

    let x32 = [1e4f32, -1e4];
    let mut g32 = [0.0f32; 2];
    let v = ce.value_and_gradient(&x32, 2, Targets::Classes(&[1]), &mut g32).unwrap();
    assert_eq!(v, 2e4);
}

#[test]
fn gradients_match_finite_differences_for_every_loss() {
    let x = [0.3f64, -1.2, 0.7, 2.0, -0.1, 0.4];
    let values = [0.2f64, 0.9, 0.1, 1.0, 0.0, 0.5];
    let probabilities = [0.2f64, 0.3, 0.5, 0.0, 1.0, 0.0];
    let classes = [2usize, 0];
    for loss in Loss::ALL {
        let targets = match loss {
            Loss::SoftmaxCrossEntropy => Targets::Classes(&classes),
            Loss::SigmoidCrossEntropy => Targets::Values(&values),
            _ => Targets::Values(&values),
        };
        for targets in [targets, Targets::Values(&probabilities)] {
            let mut g = [0.0; 6];
            loss.value_and_gradient(&x, 3, targets, &mut g).unwrap();
            for k in 0..6 {
                let h = 1e-6;
                let mut xp = x;
                xp[k] += h;
                let mut xm = x;
                xm[k] -= h;
                let numeric = (loss.value(&xp, 3, targets).unwrap()
                    - loss.value(&xm, 3, targets).unwrap())
                    / (2.0 * h);
                assert!((numeric - g[k]).abs() < 1e-8, "{loss} output {k}: {numeric} vs {}", g[k]);
            }
        }
    }
}

#[test]
fn residuals_square_to_the_loss() {
    let x = [0.3f64, -1.2, 0.7, 2.0];
    let y = [0.2f64, 0.9, -0.1, 1.0];
    for loss in [Loss::SumOfSquares, Loss::MeanSquared] {
        let mut r = [0.0; 4];
        loss.residuals(&x, 2, Targets::Values(&y), &mut r).unwrap();
        let sum: f64 = r.iter().map(|r| r * r).sum();
        let value = loss.value(&x, 2, Targets::Values(&y)).unwrap();
        assert!((sum - value).abs() < 1e-15, "{loss}");
    }
    let err = Loss::SoftmaxCrossEntropy
        .residuals(&x, 2, Targets::Classes(&[0, 1]), &mut [0.0; 4])
        .unwrap_err();
    assert!(matches!(err, Error::NotLeastSquares { .. }));
}

#[test]
fn bad_targets_are_errors_that_name_the_sample() {
    let x = [0.0f64; 6];
    let mut g = [0.0; 6];
    let ce = Loss::SoftmaxCrossEntropy;
    let err = ce.value_and_gradient(&x, 3, Targets::Classes(&[1, 3]), &mut g).unwrap_err();
    assert_eq!(err.to_string(), "target of sample 1: class label 3 is not below the 3 classes");
    assert!(ce.value(&x, 3, Targets::Classes(&[1])).is_err(), "wrong count");
    assert!(ce.value(&x[..2], 1, Targets::Classes(&[0, 0])).is_err(), "one logit");
    let err = Loss::SigmoidCrossEntropy
        .value(&x, 3, Targets::Values(&[0.0, 1.0, 2.0, 0.0, 0.0, 0.0]))
        .unwrap_err();
    assert!(err.to_string().contains("sample 0") && err.to_string().contains("output 2"));
    assert!(Loss::MeanSquared.value(&x, 3, Targets::Classes(&[0, 1])).is_err());
    assert!(Loss::SumOfSquares.value(&x, 3, Targets::Values(&[f64::NAN; 6])).is_err());
}

#[test]
fn names_round_trip() {
    for loss in Loss::ALL {
        assert_eq!(loss.name().parse::<Loss>().unwrap(), loss);
    }
    assert!("hinge".parse::<Loss>().is_err());
}

/// The least-squares losses run over a whole batch at once (`SquaresBatch`);
/// their value and gradient have the bits of [`Loss::row`] mapped over the
/// rows and summed in order.
#[test]
fn least_squares_batches_have_the_bits_of_their_rows() {
    fn check<F: Float>(loss: Loss, width: usize) {
        let n = 103 * width;
        let x: Vec<F> = (0..n).map(|v| F::cast((v as f64 * 0.73).sin() * 3.0)).collect();
        let y: Vec<F> = (0..n).map(|v| F::cast((v as f64 * 0.29).cos())).collect();
        let scale = loss.scale(103, width);
        let (mut g, mut g_rows) = (vec![F::zero(); n], vec![F::zero(); n]);
        let v = loss.value_and_gradient_scaled(&x, width, Targets::Values(&y), scale, &mut g);
        let value_only = loss.value_scaled(&x, width, Targets::Values(&y), scale).unwrap();
        let mut sum = F::zero();
        for (s, (xr, gr)) in x.chunks_exact(width).zip(g_rows.chunks_exact_mut(width)).enumerate() {
            let target = Targets::Values(&y).row(s, width);
            sum = sum + loss.row(xr, target, Some((gr, F::cast(scale))));
        }
        let expected = F::cast(scale) * sum;
        assert_eq!(v.unwrap().as_f64().to_bits(), expected.as_f64().to_bits(), "{loss:?} {width}");
        assert_eq!(value_only.as_f64().to_bits(), expected.as_f64().to_bits());
        let bits = |g: &[F]| g.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&g), bits(&g_rows), "{loss:?} {width}");
    }
    for loss in [Loss::SumOfSquares, Loss::MeanSquared] {
        for width in [1, 3, 17] {
            check::<f32>(loss, width);
            check::<f64>(loss, width);
        }
    }
}
