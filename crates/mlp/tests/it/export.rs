//! Exports reproduce `mlp predict` (`mlp::prediction::predict`): the ONNX
//! file run by tract, and the generated C and Rust compiled by the system's
//! `cc` and `rustc`, for every activation, every task and both precisions.

use std::path::PathBuf;
use std::process::Command;

use mlp::data::scaling::{ScaleKind, Scaler};
use mlp::model_file::{AnyModel, Model, ModelMeta, Task};
use mlp::prediction::{Prediction, predict};
use mlp::{Activation, Float, Init, Loss, Network, Params, Rng};
use tract_onnx::prelude::*;

const ROWS: usize = 24;
const INPUTS: usize = 3;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Regression,
    Softmax,
    Binary,
}

/// A network of `activation` on every layer (the input one too), with
/// scalers and labels as training would set them.
fn model<F: Float>(activation: Activation, kind: Kind, seed: u64) -> Model<F> {
    let outputs = match kind {
        Kind::Regression => 2,
        Kind::Softmax => 3,
        Kind::Binary => 1,
    };
    let network = Network::new(&[INPUTS, 6, 5, outputs], &[activation; 3]).unwrap();
    let params = Params::<F>::init(&network, Init::XavierUniform, seed).unwrap();
    let loss = match kind {
        Kind::Regression => Loss::MeanSquared,
        Kind::Softmax => Loss::SoftmaxCrossEntropy,
        Kind::Binary => Loss::SigmoidCrossEntropy,
    };
    let mut meta = ModelMeta::bare::<F>(&network, loss);
    let scaler = |width: usize, at: f64| Scaler {
        kind: ScaleKind::Standard,
        offset: (0..width).map(|k| at + 0.3 * k as f64).collect(),
        spread: (0..width).map(|k| 1.7 + 0.1 * k as f64).collect(),
    };
    meta.input_scaler = Some(scaler(INPUTS, -0.4));
    match kind {
        Kind::Regression => meta.target_scaler = Some(scaler(outputs, 10.0)),
        Kind::Softmax => {
            meta.task = Task::Classify;
            meta.class_labels =
                vec!["setosa".into(), "versi, \"color\"".into(), "virginica".into()];
        }
        Kind::Binary => {
            meta.task = Task::Classify;
            meta.class_labels = vec!["no".into(), "yes".into()];
        }
    }
    Model { network, params, meta }
}

/// Rows in original units, spread over the scalers' range.
fn inputs() -> Vec<f64> {
    let mut rng = Rng::new(5);
    (0..ROWS * INPUTS).map(|_| rng.uniform_in(-6.0, 6.0)).collect()
}

/// Every (name, model): 13 activations x 3 tasks x 2 precisions.
fn models() -> Vec<(String, AnyModel)> {
    let mut out = Vec::new();
    for (a, &activation) in Activation::ALL.iter().enumerate() {
        for (t, kind) in [Kind::Regression, Kind::Softmax, Kind::Binary].into_iter().enumerate() {
            let seed = (10 * a + t) as u64;
            let name = format!("{}_{}", activation.name(), format!("{kind:?}").to_lowercase());
            out.push((format!("{name}_f64"), AnyModel::F64(model::<f64>(activation, kind, seed))));
            out.push((format!("{name}_f32"), AnyModel::F32(model::<f32>(activation, kind, seed))));
        }
    }
    out
}

/// The library's prediction: values, or probabilities and labels.
fn expected(model: &AnyModel, x: &[f64]) -> (Vec<f64>, Option<Vec<String>>) {
    let (p, meta) = match model {
        AnyModel::F32(m) => (predict(m, x), &m.meta),
        AnyModel::F64(m) => (predict(m, x), &m.meta),
    };
    match p {
        Prediction::Values(v) => (v, None),
        Prediction::Classes { probabilities, best, .. } => {
            (probabilities, Some(best.iter().map(|&k| mlp::prediction::label(meta, k)).collect()))
        }
    }
}

fn tolerance(model: &AnyModel) -> f64 {
    match model {
        AnyModel::F32(_) => 1e-5,
        AnyModel::F64(_) => 1e-12,
    }
}

/// The ONNX files' tolerance: f64 GELU evaluates Erf in float, the only
/// precision ONNX Runtime and tract implement it in.
fn onnx_tolerance(name: &str, model: &AnyModel) -> f64 {
    if is_erf_gelu(name) && name.ends_with("_f64") { 1e-5 } else { tolerance(model) }
}

fn is_erf_gelu(name: &str) -> bool {
    name.starts_with("gelu_") && !name.starts_with("gelu_tanh")
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn run_tract(
    bytes: &[u8],
    model: &AnyModel,
    x: &[f64],
) -> TractResult<(Vec<f64>, Option<Vec<String>>)> {
    let input: Tensor = match model {
        AnyModel::F32(_) => {
            let v: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            tract_ndarray::Array2::from_shape_vec((ROWS, INPUTS), v)?.into()
        }
        AnyModel::F64(_) => {
            tract_ndarray::Array2::from_shape_vec((ROWS, INPUTS), x.to_vec())?.into()
        }
    };
    let plan = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])?
        .with_input_fact(0, InferenceFact::dt_shape(input.datum_type(), [ROWS, INPUTS]))?
        .into_optimized()?
        .into_runnable()?;
    let outputs = plan.run(tvec!(input.into()))?;
    let values: Vec<f64> = match model {
        AnyModel::F32(_) => {
            outputs[0].to_plain_array_view::<f32>()?.iter().map(|&v| f64::from(v)).collect()
        }
        AnyModel::F64(_) => outputs[0].to_plain_array_view::<f64>()?.iter().copied().collect(),
    };
    let labels = match outputs.get(1) {
        Some(l) => Some(l.to_plain_array_view::<String>()?.iter().cloned().collect()),
        None => None,
    };
    Ok((values, labels))
}

#[test]
fn onnx_models_run_in_tract_as_mlp_predicts() {
    let x = inputs();
    let mut worst: Vec<(f64, String)> = Vec::new();
    for (name, model) in models() {
        let bytes = mlp::export::onnx(&model).unwrap();
        let (want, want_labels) = expected(&model, &x);
        let (got, labels) =
            run_tract(&bytes, &model, &x).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let d = max_diff(&want, &got);
        assert!(d <= onnx_tolerance(&name, &model), "{name}: max |difference| {d:e}");
        assert_eq!(labels, want_labels, "{name}");
        worst.push((d, name));
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    let largest = |suffix: &str, gelu: bool| {
        worst.iter().find(|w| w.1.ends_with(suffix) && is_erf_gelu(&w.1) == gelu).cloned()
    };
    eprintln!(
        "largest differences: {:?} {:?}, f64 GELU {:?}",
        largest("_f32", false),
        largest("_f64", false),
        largest("_f64", true)
    );
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlp-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(out.status.success(), "{command:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The inputs as a C or Rust array literal of rows.
fn rows_literal(x: &[f64]) -> String {
    let rows: Vec<String> = x
        .chunks(INPUTS)
        .map(|r| format!("[{}]", r.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")))
        .collect();
    rows.join(", ")
}

/// Checks the printed lines `model row best v0 v1 ...` against the library.
fn check_printed(models: &[(String, AnyModel)], text: &str, x: &[f64], language: &str) {
    let mut lines = text.lines();
    let mut largest = [0.0f64; 2];
    for (name, model) in models {
        let (want, want_labels) = expected(model, x);
        let width = want.len() / ROWS;
        let mut got = Vec::new();
        for row in 0..ROWS {
            let line = lines.next().unwrap_or_else(|| panic!("{language} {name}: output ends"));
            let fields: Vec<&str> = line.split(' ').collect();
            assert_eq!(fields[0], name, "{language}");
            let best: usize = fields[1].parse().unwrap();
            if let Some(labels) = &want_labels {
                let meta = match model {
                    AnyModel::F32(m) => &m.meta,
                    AnyModel::F64(m) => &m.meta,
                };
                assert_eq!(
                    mlp::prediction::label(meta, best),
                    labels[row],
                    "{language} {name} row {row}"
                );
            }
            got.extend(fields[2..2 + width].iter().map(|v| v.parse::<f64>().unwrap()));
        }
        let d = max_diff(&want, &got);
        assert!(d <= tolerance(model), "{language} {name}: max |difference| {d:e}");
        let k = usize::from(matches!(model, AnyModel::F64(_)));
        largest[k] = largest[k].max(d);
    }
    eprintln!("{language}: largest differences f32 {:e}, f64 {:e}", largest[0], largest[1]);
}

#[test]
fn generated_c_compiles_and_predicts_as_mlp() {
    let dir = scratch("c");
    let models = models();
    let x = inputs();
    let mut main = String::from("#include <stdio.h>\n");
    let mut objects = Vec::new();
    for (k, (name, model)) in models.iter().enumerate() {
        let source = dir.join(format!("{name}.c"));
        std::fs::write(&source, mlp::export::c_source(model)).unwrap();
        let object = dir.join(format!("{name}.o"));
        run(Command::new("cc")
            .args(["-std=c99", "-O1", "-Wall", "-Werror", "-pedantic", "-c"])
            .arg(format!("-Dmlp_predict=mlp_predict_{k}"))
            .arg(format!("-Dmlp_labels=mlp_labels_{k}"))
            .arg(&source)
            .arg("-o")
            .arg(&object));
        objects.push(object);
        main.push_str(&format!("int mlp_predict_{k}(const double *, double *);\n"));
    }
    main.push_str(&format!(
        "static const double x[{ROWS}][{INPUTS}] = {{{}}};\nint main(void) {{\n  double out[8];\n",
        rows_literal(&x).replace('[', "{").replace(']', "}")
    ));
    for (k, (name, model)) in models.iter().enumerate() {
        let width = expected(model, &x).0.len() / ROWS;
        main.push_str(&format!(
            "  for (int r = 0; r < {ROWS}; r++) {{ int best = mlp_predict_{k}(x[r], out); printf(\"{name} %d\", best); for (int j = 0; j < {width}; j++) printf(\" %.17g\", out[j]); printf(\"\\n\"); }}\n"
        ));
    }
    main.push_str("  return 0;\n}\n");
    std::fs::write(dir.join("main.c"), main).unwrap();
    let exe = dir.join("main");
    run(Command::new("cc").arg(dir.join("main.c")).args(&objects).arg("-lm").arg("-o").arg(&exe));
    check_printed(&models, &run(&mut Command::new(&exe)), &x, "C");
}

fn rustc() -> Command {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

#[test]
fn generated_rust_compiles_without_std_and_predicts_as_mlp() {
    let dir = scratch("rust");
    let models = models();
    let x = inputs();
    let mut modules = String::new();
    for (name, model) in &models {
        std::fs::write(dir.join(format!("{name}.rs")), mlp::export::rust_source(model)).unwrap();
        modules.push_str(&format!(
            "#[path = {:?}]\npub mod {name};\n",
            dir.join(format!("{name}.rs"))
        ));
    }
    // Every file compiles in a no_std library, without warnings.
    let lib = dir.join("lib.rs");
    std::fs::write(&lib, format!("#![no_std]\n{modules}")).unwrap();
    run(rustc()
        .args(["--edition", "2021", "--crate-type", "rlib", "-D", "warnings", "--out-dir"])
        .arg(&dir)
        .arg(&lib));
    // And predicts as the library does.
    let mut main = format!(
        "{modules}\nconst X: [[f64; {INPUTS}]; {ROWS}] = [{}];\nfn main() {{\n",
        rows_literal(&x)
    );
    for (name, model) in &models {
        let width = expected(model, &x).0.len() / ROWS;
        main.push_str(&format!(
            "    for r in &X {{ let mut out = [0.0; {width}]; let best = {name}::predict(r, &mut out); print!(\"{name} {{best}}\"); for v in out {{ print!(\" {{v:?}}\"); }} println!(); }}\n"
        ));
    }
    main.push_str("}\n");
    let main_rs = dir.join("main.rs");
    std::fs::write(&main_rs, main).unwrap();
    let exe = dir.join("main");
    run(rustc().args(["--edition", "2021", "-O", "-o"]).arg(&exe).arg(&main_rs));
    check_printed(&models, &run(&mut Command::new(&exe)), &x, "Rust");
}
