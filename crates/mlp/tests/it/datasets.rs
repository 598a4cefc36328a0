//! Training on the bundled data sets: a digits classifier trained with Adam
//! reaches 96% test accuracy, and a diabetes regressor matches scikit-learn's
//! `MLPRegressor` under the same protocol (`tests/data/sklearn_regressor.py`
//! wrote the reference number and describes the protocol).

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use mlp::metrics::Metrics;
use mlp::optim::AdamConfig;
use mlp::{
    Activation, BiasInit, Dataset, Init, InitConfig, Loss, Network, OptimizerConfig, Params,
    TargetData, TrainConfig, evaluate, train,
};

/// The rows of a bundled gzip-compressed CSV file, header dropped.
fn read_bundled(name: &str) -> Vec<Vec<f64>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets").join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
    text.lines().skip(1).map(|line| line.split(',').map(|v| v.parse().unwrap()).collect()).collect()
}

/// Rows whose index is a multiple of 5 are the test set; the rest train.
fn is_test(row: usize) -> bool {
    row.is_multiple_of(5)
}

#[test]
fn adam_classifies_bundled_digits_with_at_least_96_percent_test_accuracy() {
    let rows = read_bundled("digits.csv.gz");
    let mut parts = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for (r, row) in rows.iter().enumerate() {
        let part = &mut parts[usize::from(is_test(r))];
        part.0.extend(row[..64].iter().map(|p| p / 16.0));
        part.1.push(row[64] as usize);
    }
    let [(xt, yt), (xs, ys)] = parts;
    let train_set = Dataset::new(xt, 64, TargetData::Classes(yt)).unwrap();
    let test_set = Dataset::new(xs, 64, TargetData::Classes(ys)).unwrap();
    assert_eq!((train_set.rows(), test_set.rows()), (1437, 360));

    let net = Network::with_hidden_activation(&[64, 64, 10], Activation::Relu).unwrap();
    let mut params = Params::<f64>::init(&net, Init::HeUniform, 1).unwrap();
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::Adam(AdamConfig::default()),
        max_epochs: 40,
        batch_size: 32,
        seed: 1,
        ..TrainConfig::default()
    };
    train(&net, &mut params, &train_set, None, &config, |_| ControlFlow::Continue(())).unwrap();
    let (_, metrics) = evaluate(&net, &params, &test_set, Loss::SoftmaxCrossEntropy).unwrap();
    let Metrics::Classification(m) = metrics else { panic!("classification metrics expected") };
    eprintln!(
        "digits: test accuracy {:.4}, macro-F1 {:.4}, log-loss {:.4}",
        m.accuracy, m.macro_f1, m.log_loss
    );
    assert!(m.accuracy >= 0.96, "test accuracy {}", m.accuracy);
}

#[derive(serde::Deserialize)]
struct Reference {
    test_r2_mean: f64,
}

#[test]
fn diabetes_regressor_matches_scikit_learn_within_5_percent_of_its_test_r2() {
    let rows = read_bundled("diabetes.csv.gz");
    let train_rows: Vec<&Vec<f64>> =
        rows.iter().enumerate().filter(|(r, _)| !is_test(*r)).map(|p| p.1).collect();
    // Standardise inputs and target with the training rows' mean and population deviation.
    let stats = |k: usize| {
        let n = train_rows.len() as f64;
        let mean = train_rows.iter().map(|r| r[k]).sum::<f64>() / n;
        let var = train_rows.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    };
    let scalers: Vec<(f64, f64)> = (0..11).map(stats).collect();
    let mut parts = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for (r, row) in rows.iter().enumerate() {
        let part = &mut parts[usize::from(is_test(r))];
        part.0.extend((0..10).map(|k| (row[k] - scalers[k].0) / scalers[k].1));
        part.1.push((row[10] - scalers[10].0) / scalers[10].1);
    }
    let [(xt, yt), (xs, ys)] = parts;
    let train_set = Dataset::new(xt, 10, TargetData::Values { values: yt, width: 1 }).unwrap();
    let test_set = Dataset::new(xs, 10, TargetData::Values { values: ys, width: 1 }).unwrap();

    let net = Network::with_hidden_activation(&[10, 16, 1], Activation::Tanh).unwrap();
    let config = TrainConfig {
        loss: Loss::MeanSquared,
        optimizer: OptimizerConfig::Adam(AdamConfig::default()),
        max_epochs: 200,
        batch_size: 200,
        weight_decay: 2.0 * 1e-4 / 200.0,
        ..TrainConfig::default()
    };
    let mut r2 = Vec::new();
    for seed in 0..10 {
        let init =
            InitConfig { weights: Init::XavierUniform, biases: BiasInit::FanInUniform, gain: 1.0 };
        let mut params = Params::<f64>::init(&net, init, seed).unwrap();
        let config = TrainConfig { seed, ..config.clone() };
        train(&net, &mut params, &train_set, None, &config, |_| ControlFlow::Continue(())).unwrap();
        let (_, metrics) = evaluate(&net, &params, &test_set, Loss::MeanSquared).unwrap();
        let Metrics::Regression(m) = metrics else { panic!("regression metrics expected") };
        r2.push(m.r2);
    }
    let ours = r2.iter().sum::<f64>() / r2.len() as f64;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sklearn_diabetes.json");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    eprintln!(
        "diabetes: mlp mean test R2 {ours:.4} over 10 seeds, scikit-learn {:.4}",
        reference.test_r2_mean
    );
    assert!(
        ours >= 0.95 * reference.test_r2_mean,
        "R2 {ours} vs scikit-learn {}",
        reference.test_r2_mean
    );
}
