//! Plausible mistakes through the public API: typed errors, or a panic
//! only where a `# Panics` section promises one; never a silent wrong
//! answer. From a review of the library as an embedder would use it.

use mlp::model_file::{self, AnyModel, Model, ModelMeta};
use mlp::optim::{AdamConfig, LevenbergMarquardtConfig};
use mlp::{
    Activation, Dataset, Error, Init, Loss, Network, OptimizerConfig, Params, Schedule, TargetData,
    Targets, TrainConfig, Workspace,
};

fn values(values: Vec<f64>, width: usize) -> TargetData<f64> {
    TargetData::Values { values, width }
}

fn train(net: &Network, p: &Params<f64>, data: &Dataset<f64>) -> mlp::Result<mlp::TrainReport> {
    let mut p = p.as_slice().to_vec();
    let config = TrainConfig::default();
    mlp::train(net, &mut p, data, None, &config, |_| std::ops::ControlFlow::Continue(()))
}

#[test]
fn a_workspace_from_a_network_with_the_identity_elsewhere_is_refused() {
    let tanh = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
    let linear = Network::new(&[2, 3, 1], &[Activation::Identity; 2]).unwrap();
    let relu = Network::with_hidden_activation(&[2, 3, 1], Activation::Relu).unwrap();
    let p = Params::<f64>::init(&tanh, Init::XavierUniform, 1).unwrap();
    let x = [3.0, -2.0];
    let own = tanh.forward(&p, &x, &mut Workspace::new(&tanh, 1)).to_vec();
    // The same layout (widths, identity in the same places) is fine.
    let mut ws = Workspace::new(&relu, 1);
    assert_eq!(tanh.forward(&p, &x, &mut ws), own.as_slice());
    let run = |net: &Network, ws_net: &Network| {
        let (net, ws_net, p) = (net.clone(), ws_net.clone(), p.clone());
        std::panic::catch_unwind(move || {
            net.forward(&p, &x, &mut Workspace::new(&ws_net, 1)).to_vec()
        })
    };
    assert!(run(&tanh, &linear).is_err(), "a tanh network through a linear one's workspace");
    assert!(run(&linear, &tanh).is_err(), "and the other way round");
}

#[test]
fn bad_shapes_and_values_are_errors_that_say_where() {
    // Targets that are not whole rows.
    let err = Dataset::new(vec![0.0; 6], 2, values(vec![0.0; 7], 2)).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { got: 7, .. }), "{err}");
    // Non-finite activation parameters.
    let err = Network::new(
        &[2, 3, 1],
        &[Activation::Identity, Activation::LeakyRelu { slope: f64::NAN }],
    );
    assert!(err.unwrap_err().to_string().contains("activation 1 (leaky_relu:NaN)"));
    let err =
        Network::new(&[2, 3, 1], &[Activation::Identity, Activation::Elu { alpha: f64::INFINITY }]);
    assert!(matches!(err, Err(Error::InvalidNetwork { .. })));
    let net = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
    let p = Params::<f64>::init(&net, Init::XavierUniform, 1).unwrap();
    // A NaN input is the data's fault, not a divergence.
    let mut x = vec![0.5; 8];
    x[5] = f64::NAN;
    let data = Dataset::new(x, 2, values(vec![1.0; 4], 1)).unwrap();
    let err = train(&net, &p, &data).unwrap_err();
    assert_eq!(err.to_string(), "input of sample 2: column 1 is NaN");
    // No rows at all.
    let empty = Dataset::new(Vec::new(), 2, values(Vec::new(), 1)).unwrap();
    let err = train(&net, &p, &empty).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { got: 0, .. }), "{err}");
    // evaluate with data or parameters of the wrong width.
    let wide = Dataset::new(vec![0.0; 12], 3, values(vec![0.0; 4], 1)).unwrap();
    assert!(matches!(
        mlp::evaluate(&net, p.as_slice(), &wide, Loss::MeanSquared),
        Err(Error::ShapeMismatch { .. })
    ));
    let good = Dataset::new(vec![0.0; 8], 2, values(vec![0.0; 4], 1)).unwrap();
    let short = &p.as_slice()[..3];
    assert!(matches!(
        mlp::evaluate(&net, short, &good, Loss::MeanSquared),
        Err(Error::ShapeMismatch { .. })
    ));
    // A split fraction outside (0, 1).
    for f in [2.0, 1.0, 0.0, -1.0, f64::NAN] {
        assert!(matches!(mlp::split(&good, f, 0), Err(Error::InvalidConfig { .. })), "{f}");
    }
    // A loss over outputs that are not whole rows, or of width 0.
    let y = [1.0, 2.0];
    assert!(Loss::MeanSquared.value(&[1.0, 2.0, 100.0], 2, Targets::Values(&y)).is_err());
    assert!(Loss::MeanSquared.value(&[1.0], 0, Targets::Values(&y)).is_err());
}

#[test]
fn settings_that_would_only_show_as_a_divergence_are_refused_by_name() {
    let field = |config: TrainConfig| match config.validate() {
        Err(Error::InvalidConfig { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let base = TrainConfig::default;
    assert_eq!(field(TrainConfig { target_loss: Some(f64::NAN), ..base() }), "target_loss");
    assert_eq!(
        field(TrainConfig { gradient_tolerance: Some(-1.0), ..base() }),
        "gradient_tolerance"
    );
    let schedule = Schedule::Cosine { min_rate: f64::INFINITY };
    assert_eq!(field(TrainConfig { schedule, ..base() }), "schedule.min_rate");
    let adam = AdamConfig { epsilon: f64::INFINITY, ..AdamConfig::default() };
    assert_eq!(
        field(TrainConfig { optimizer: OptimizerConfig::Adam(adam), ..base() }),
        "adam.epsilon"
    );
    let lm = LevenbergMarquardtConfig { max_trials: 0, ..LevenbergMarquardtConfig::default() };
    let optimizer = OptimizerConfig::LevenbergMarquardt(lm);
    assert_eq!(
        field(TrainConfig { optimizer, loss: Loss::SumOfSquares, ..base() }),
        "lm.max_trials"
    );
}

#[test]
fn what_save_writes_load_reads_and_what_load_would_refuse_is_not_written() {
    let dir = std::env::temp_dir().join(format!("mlp-misuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    // Bare metadata for classifiers loads back.
    for (widths, loss) in
        [(&[2, 3, 3][..], Loss::SoftmaxCrossEntropy), (&[2, 3, 1][..], Loss::SigmoidCrossEntropy)]
    {
        let network = Network::with_hidden_activation(widths, Activation::Tanh).unwrap();
        let params = Params::<f64>::init(&network, Init::XavierUniform, 1).unwrap();
        let meta = ModelMeta::bare::<f64>(&network, loss);
        let model = AnyModel::F64(Model { network, params, meta });
        model_file::save(&path, &model).unwrap();
        assert_eq!(model_file::load(&path).unwrap(), model);
    }
    // Parameters of another network are refused, naming the file, which is untouched.
    let before = std::fs::read(&path).unwrap();
    let network = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
    let other = Network::with_hidden_activation(&[2, 4, 1], Activation::Tanh).unwrap();
    let params = Params::<f64>::init(&other, Init::XavierUniform, 1).unwrap();
    let meta = ModelMeta::bare::<f64>(&network, Loss::MeanSquared);
    let err = model_file::save(&path, &AnyModel::F64(Model { network, params, meta })).unwrap_err();
    assert!(err.to_string().contains("m.safetensors: the parameters are for 2-4-1"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A torch.save file (a zip archive) is named as one.
    let zip = dir.join("model.pt");
    std::fs::write(&zip, b"PK\x03\x04archive/data.pkl...").unwrap();
    for err in [
        model_file::load(&zip).unwrap_err(),
        model_file::load_state_dict(&zip, &[Activation::Identity], Loss::MeanSquared).unwrap_err(),
    ] {
        assert!(err.to_string().contains("a zip archive (a torch.save file?)"), "{err}");
    }
}

#[test]
#[should_panic(expected = "backward needs a full forward pass first")]
fn backward_before_any_forward_says_so() {
    let net = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
    let p = Params::<f64>::init(&net, Init::XavierUniform, 1).unwrap();
    let mut grad = vec![0.0; net.num_params()];
    net.backward(p.as_slice(), &mut Workspace::new(&net, 1), &[1.0], &mut grad, None);
}
