//! Train a 64-64-10 ReLU classifier on the bundled handwritten digits
//! (`datasets/digits.csv.gz`) with Adam, printing progress from the training
//! callback, then report test accuracy and the confusion matrix.
//!
//! Run: `cargo run --release -p mlp --example 02_digits`

use std::io::Read;
use std::ops::ControlFlow;

use mlp::metrics::Metrics;
use mlp::{Activation, Dataset, Init, Loss, Network, Params, TargetData, TrainConfig, Validation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/digits.csv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut text)?;
    // Every fifth row is held out for testing; pixels 0-16 are scaled to [0, 1].
    let (mut train_x, mut train_y, mut test_x, mut test_y) = (vec![], vec![], vec![], vec![]);
    for (r, line) in text.lines().skip(1).enumerate() {
        let values: Vec<f64> = line.split(',').map(str::parse).collect::<Result<_, _>>()?;
        let (x, y) =
            if r % 5 == 0 { (&mut test_x, &mut test_y) } else { (&mut train_x, &mut train_y) };
        x.extend(values[..64].iter().map(|p| p / 16.0));
        y.push(values[64] as usize);
    }
    let train_set = Dataset::new(train_x, 64, TargetData::Classes(train_y))?;
    let test_set = Dataset::new(test_x, 64, TargetData::Classes(test_y))?;

    let net = Network::with_hidden_activation(&[64, 64, 10], Activation::Relu)?;
    let mut params = Params::<f64>::init(&net, Init::HeUniform, 1)?;
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        max_epochs: 40,
        validation: Validation::Fraction(0.1),
        seed: 1,
        ..TrainConfig::default()
    };
    println!(
        "{} ({} parameters), {} training rows",
        net.describe(),
        net.num_params(),
        train_set.rows()
    );
    let report = mlp::train(&net, &mut params, &train_set, None, &config, |p| {
        let r = p.record;
        if r.epoch % 5 == 0 {
            let accuracy = r.validation_metrics.as_ref().map_or(f64::NAN, Metrics::headline);
            println!(
                "epoch {:3}  train loss {:.4}  validation loss {:.4}  validation accuracy {:.3}",
                r.epoch,
                r.train_loss,
                r.validation_loss.unwrap_or(f64::NAN),
                accuracy
            );
        }
        ControlFlow::Continue(())
    })?;
    let (loss, metrics) = mlp::evaluate(&net, &params, &test_set, Loss::SoftmaxCrossEntropy)?;
    let Metrics::Classification(m) = metrics else { unreachable!("a softmax classifier") };
    println!("stopped: {:?} after {:.2?}", report.stop_reason, report.elapsed);
    println!("test: loss {loss:.4}, accuracy {:.4}, macro-F1 {:.4}", m.accuracy, m.macro_f1);
    println!("confusion matrix (rows: true digit, columns: predicted):");
    for t in 0..10 {
        let row: Vec<String> = (0..10).map(|p| format!("{:3}", m.confusion.get(t, p))).collect();
        println!("  {t}: {}", row.join(""));
    }
    Ok(())
}
