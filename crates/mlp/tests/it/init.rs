//! Seeded initialisation and network construction.

use mlp::{Activation, BiasInit, Error, Init, InitConfig, Network, Params};

fn net() -> Network {
    Network::with_hidden_activation(&[200, 300, 10], Activation::Relu).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_parameters_and_f32_is_f64_rounded() {
    let a = Params::<f64>::init(&net(), Init::HeNormal, 9).unwrap();
    let b = Params::<f64>::init(&net(), Init::HeNormal, 9).unwrap();
    let c = Params::<f64>::init(&net(), Init::HeNormal, 10).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let single = Params::<f32>::init(&net(), Init::HeNormal, 9).unwrap();
    assert!(a.iter().zip(single.iter()).all(|(&d, &s)| d as f32 == s));
}

/// Sample standard deviation and largest magnitude of layer 0's weights.
fn weight_stats(init: InitConfig) -> (f64, f64) {
    let params = Params::<f64>::init(&net(), init, 1).unwrap();
    let w = params.layer(0).weight;
    let n = w.len() as f64;
    let mean = w.iter().sum::<f64>() / n;
    let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (var.sqrt(), w.iter().fold(0.0f64, |m, v| m.max(v.abs())))
}

#[test]
fn each_scheme_draws_with_its_documented_scale() {
    let (fan_in, fan_out) = (200.0f64, 300.0f64);
    // 60,000 draws: the sample deviation is within 1% of the true one.
    let cases = [
        (Init::XavierUniform, (6.0 / (fan_in + fan_out)).sqrt() / 3f64.sqrt()),
        (Init::XavierNormal, (2.0 / (fan_in + fan_out)).sqrt()),
        (Init::HeUniform, (6.0 / fan_in).sqrt() / 3f64.sqrt()),
        (Init::HeNormal, (2.0 / fan_in).sqrt()),
        (Init::LecunNormal, (1.0 / fan_in).sqrt()),
    ];
    for (init, std) in cases {
        for gain in [1.0, 2.0] {
            let config = InitConfig { weights: init, biases: BiasInit::Zeros, gain };
            let (sample, max) = weight_stats(config);
            let rel = (sample - gain * std).abs() / (gain * std);
            assert!(rel < 0.02, "{init:?} gain {gain}: std {sample} vs {}", gain * std);
            if matches!(init, Init::XavierUniform | Init::HeUniform) {
                assert!(max <= gain * std * 3f64.sqrt(), "{init:?}: {max} beyond the bound");
            }
        }
    }
}

#[test]
fn biases_are_zero_unless_asked_otherwise() {
    let zero = Params::<f64>::init(&net(), Init::XavierUniform, 1).unwrap();
    assert!(zero.layer(0).bias.iter().chain(zero.layer(1).bias).all(|&b| b == 0.0));
    let config = InitConfig { biases: BiasInit::Constant(0.1), ..InitConfig::default() };
    let constant = Params::<f64>::init(&net(), config, 1).unwrap();
    assert!(constant.layer(1).bias.iter().all(|&b| b == 0.1));
    let config = InitConfig { biases: BiasInit::FanInUniform, ..InitConfig::default() };
    let uniform = Params::<f64>::init(&net(), config, 1).unwrap();
    let bound = 1.0 / 200f64.sqrt();
    let bias = uniform.layer(0).bias;
    assert!(bias.iter().all(|b| b.abs() <= bound) && bias.iter().any(|&b| b != 0.0));
}

#[test]
fn bad_settings_and_shapes_are_errors_naming_what_is_wrong() {
    let config = InitConfig { gain: -1.0, ..InitConfig::default() };
    let err = Params::<f64>::init(&net(), config, 1).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { field: "init.gain", .. }), "{err}");

    let err = Network::new(&[3], &[]).unwrap_err().to_string();
    assert!(err.contains("at least 2 widths"), "{err}");
    let err = Network::new(&[3, 0, 1], &[Activation::Identity; 2]).unwrap_err().to_string();
    assert!(err.contains("width 1 is 0"), "{err}");
    let err = Network::new(&[3, 4, 1], &[Activation::Identity]).unwrap_err().to_string();
    assert!(err.contains("2 activations are needed, got 1"), "{err}");
    let err = Params::<f64>::from_vec(&net(), vec![0.0; 3]).unwrap_err().to_string();
    assert!(err.contains("parameters: expected"), "{err}");
}

#[test]
fn the_flat_layout_is_weight_then_bias_layer_by_layer() {
    let net = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
    assert_eq!(net.num_params(), 3 * 2 + 3 + 3 + 1);
    assert_eq!(net.layer_ranges(0), (0..6, 6..9));
    assert_eq!(net.layer_ranges(1), (9..12, 12..13));
    let params = Params::<f64>::from_vec(&net, (0..13).map(f64::from).collect()).unwrap();
    assert_eq!(params.layer(1).weight, [9.0, 10.0, 11.0]);
    assert_eq!(params.layer(1).bias, [12.0]);
    assert_eq!(net.describe(), "2-3-1 [identity, tanh]");
}
