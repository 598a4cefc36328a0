use super::*;

/// Central difference with Richardson extrapolation (error O(h^4)).
fn numeric_derivative(act: Activation, x: f64) -> f64 {
    let h = 1e-3;
    let d = |h: f64| (act.value(x + h) - act.value(x - h)) / (2.0 * h);
    (4.0 * d(h / 2.0) - d(h)) / 3.0
}

#[test]
fn every_derivative_matches_finite_differences_away_from_kinks() {
    for act in Activation::ALL
        .into_iter()
        .chain([Activation::LeakyRelu { slope: 0.2 }, Activation::Elu { alpha: 0.5 }])
    {
        for k in -40..=40 {
            let x = f64::from(k) * 0.1 + 0.0123;
            let exact = act.derivative(x);
            let numeric = numeric_derivative(act, x);
            let err = (exact - numeric).abs() / exact.abs().max(1.0);
            assert!(err < 1e-9, "{act} at {x}: exact {exact}, numeric {numeric}");
        }
    }
}

#[test]
fn derivatives_at_kinks_follow_pytorch() {
    assert_eq!(Activation::Relu.derivative(0.0), 0.0);
    assert_eq!(Activation::LeakyRelu { slope: 0.2 }.derivative(0.0), 0.2);
    assert_eq!(Activation::Elu { alpha: 0.5 }.derivative(0.0), 0.5);
    assert_eq!(Activation::Selu.derivative(0.0), SELU_SCALE * SELU_ALPHA);
}

#[test]
fn known_values() {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1.0);
    // gelu(1) = Φ(1) = 0.8413447460685429 (standard normal CDF).
    assert!(close(Activation::Gelu.value(1.0), 0.841_344_746_068_542_9));
    assert!(close(Activation::Softplus.value(0.0), core::f64::consts::LN_2));
    assert!(close(Activation::Sigmoid.value(0.0), 0.5));
    assert!(close(Activation::Gaussian.value(1.0), (-1.0f64).exp()));
    assert!(close(Activation::Selu.value(1.0), SELU_SCALE));
    assert!(close(Activation::Silu.value(1.0), 1.0 / (1.0 + (-1.0f64).exp())));
}

/// GELU's tail for negative inputs, where `1 + erf` would cancel to nothing
/// (the form before: gelu(-10) came out as 0): values from mpmath at 40 digits.
#[test]
fn gelu_keeps_its_relative_accuracy_in_the_negative_tail() {
    let cases = [
        (-10.0, -7.619_853_024_160_526e-23, -7.618_400_096_464_814e-22),
        (-5.0, -1.433_257_859_395_969_5e-6, -7.146_946_001_792_295e-6),
        (-1.0, -0.158_655_253_931_457_05, -0.083_315_470_587_686_3),
        (3.0, 2.995_950_305_905_11, 1.011_945_647_204_184),
    ];
    for (x, value, derivative) in cases {
        let relative = |got: f64, want: f64| ((got - want) / want).abs();
        assert!(relative(Activation::Gelu.value(x), value) < 1e-14, "gelu({x})");
        assert!(relative(Activation::Gelu.derivative(x), derivative) < 1e-14, "gelu'({x})");
        let single = Activation::Gelu.value(x as f32);
        assert!(relative(f64::from(single), value) < 1e-6, "gelu({x}) in f32");
    }
}

#[test]
fn extreme_inputs_stay_finite() {
    for act in Activation::ALL {
        if matches!(act, Activation::Sin) {
            continue;
        }
        for x in [-1e4f64, -800.0, 800.0, 1e4] {
            assert!(act.value(x).is_finite(), "{act}({x})");
            assert!(act.derivative(x).is_finite(), "{act}'({x})");
            assert!(act.value(x as f32).is_finite(), "{act}({x}) in f32");
        }
    }
    assert_eq!(Activation::Softplus.value(1e4), 1e4);
    assert_eq!(Activation::Sigmoid.value(-1e4), 0.0);
}

#[test]
fn slice_versions_equal_the_scalar_functions_bit_for_bit() {
    let x: Vec<f64> = (-20..20).map(|k| f64::from(k) * 0.37).collect();
    for act in Activation::ALL {
        let mut y = vec![0.0; x.len()];
        act.apply(&x, &mut y);
        let mut g = vec![1.5; x.len()];
        act.backprop(&x, &y, &mut g);
        for k in 0..x.len() {
            assert_eq!(y[k].to_bits(), act.value(x[k]).to_bits(), "{act}");
            assert_eq!(g[k].to_bits(), (1.5 * act.derivative(x[k])).to_bits(), "{act}");
        }
    }
}

#[test]
fn names_round_trip_and_unknown_names_are_refused() {
    for act in Activation::ALL
        .into_iter()
        .chain([Activation::LeakyRelu { slope: 0.2 }, Activation::Elu { alpha: 0.5 }])
    {
        assert_eq!(act.to_string().parse::<Activation>().unwrap(), act);
    }
    assert_eq!(
        "Leaky-ReLU:0.3".parse::<Activation>().unwrap(),
        Activation::LeakyRelu { slope: 0.3 }
    );
    let err = "swish2".parse::<Activation>().unwrap_err().to_string();
    assert!(err.contains("swish2") && err.contains("gelu_tanh"), "{err}");
    assert!("tanh:2".parse::<Activation>().is_err());
    assert!("elu:nan".parse::<Activation>().is_err());
}
