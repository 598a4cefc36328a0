//! The `mlp` binary end to end: every command, every bad input (message,
//! exit status, and an existing output file left byte for byte), `--help`,
//! and the round trip train → save → load → predict, equal bit for bit to
//! the library's in-memory predictions.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn mlp() -> Command {
    Command::cargo_bin("mlp").expect("the mlp binary")
}

/// A fresh folder for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlp-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// 40 rows: two numeric inputs, one text input, a numeric and a class target.
fn sample_csv(d: &Path) -> PathBuf {
    let mut s = String::from("a,b,colour,y,kind\n");
    for k in 0..40 {
        let (a, b) = (f64::from(k) / 10.0, f64::from(k % 7) / 3.0);
        let colour = ["red", "green", "blue"][k as usize % 3];
        let kind = if a + b > 2.5 { "big" } else { "small" };
        s.push_str(&format!("{a},{b},{colour},{},{kind}\n", (a * b).sin()));
    }
    write(&d.join("data.csv"), &s)
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_lists_every_command_and_every_command_has_help() {
    let help = stdout(mlp().arg("--help"));
    let commands = [
        "train",
        "predict",
        "eval",
        "inspect",
        "init",
        "gradient",
        "gradcheck",
        "jacobian",
        "export",
        "datasets",
        "list",
    ];
    for c in commands {
        assert!(help.contains(c), "--help lacks {c}");
        let sub = stdout(mlp().args([c, "--help"]));
        assert!(sub.contains("Usage: mlp"), "{c} --help");
    }
    assert!(stdout(mlp().args(["train", "--help"])).contains("--val-fraction"));
}

#[test]
fn headerless_files_with_another_delimiter_take_targets_by_index() {
    let d = dir("headerless");
    let data = write(&d.join("d.txt"), "1;2;3\n4;5;9\n2;2;4\n3;1;4\n5;5;10\n0;1;1\n");
    let model = d.join("m.safetensors");
    let out = stdout(
        mlp()
            .arg("train")
            .arg(&data)
            .args([
                "--no-header",
                "--delimiter",
                ";",
                "--target",
                "2",
                "--epochs",
                "3",
                "-q",
                "--val-fraction",
                "0",
            ])
            .arg("--out")
            .arg(&model),
    );
    assert!(out.starts_with("train"), "{out}");
    let inspect = stdout(mlp().arg("inspect").arg(&model));
    assert!(inspect.contains("inputs     0, 1") && inspect.contains("targets    2"), "{inspect}");
}

#[test]
fn datasets_and_names_are_listed() {
    let out = stdout(mlp().arg("datasets"));
    for name in ["iris", "digits", "diabetes", "sine", "xor", "spirals"] {
        assert!(out.contains(name), "{name}");
    }
    assert!(out.contains("CC BY 4.0"));
    assert!(stdout(mlp().args(["list", "activations"])).contains("gelu_tanh"));
    assert!(stdout(mlp().args(["list", "solvers"])).contains("lbfgs"));
}

#[test]
fn train_save_load_predict_equals_in_memory_predictions_bit_for_bit() {
    let d = dir("round-trip");
    let data = sample_csv(&d);
    let model = d.join("m.safetensors");
    let (history, plot) = (d.join("h.csv"), d.join("loss.svg"));
    let summary = stdout(
        mlp()
            .arg("train")
            .arg(&data)
            .args(["--target", "y", "--epochs", "30", "--quiet", "--hidden", "8"])
            .arg("--out")
            .arg(&model)
            .arg("--history")
            .arg(&history)
            .arg("--plot")
            .arg(&plot),
    );
    assert!(
        summary.contains("train") && summary.contains("validation") && summary.contains("r2"),
        "{summary}"
    );
    let predictions = d.join("p.csv");
    stdout(mlp().arg("predict").arg(&model).arg(&data).arg("--out").arg(&predictions));

    // The same prediction in memory, through the library.
    let AnyModel::F64(m) = mlp::model_file::load(&model).unwrap() else { panic!("f64 model") };
    let table = mlp::data::csv::Table::read(&data, Default::default()).unwrap();
    let enc = mlp::data::encoding::Encoding {
        task: m.meta.task,
        inputs: m.meta.inputs.clone(),
        targets: m.meta.targets.clone(),
        class_labels: m.meta.class_labels.clone(),
    };
    let mut x = enc.encode_inputs(&table).unwrap();
    m.meta.input_scaler.as_ref().unwrap().transform(&mut x);
    let mut y = m.network.predict(&m.params, &x);
    m.meta.target_scaler.as_ref().unwrap().inverse(&mut y);
    let text = std::fs::read_to_string(&predictions).unwrap();
    let written: Vec<f64> = text.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert_eq!(text.lines().next(), Some("y"));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&written), bits(&y));

    // The history has one row per epoch; the plot is valid SVG with both curves.
    let history = std::fs::read_to_string(&history).unwrap();
    assert_eq!(history.lines().count(), 31);
    assert!(history.starts_with("epoch,train_loss,validation_loss"));
    let svg = std::fs::read_to_string(&plot).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    for id in ["training", "validation"] {
        let line = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no {id} curve"));
        assert_eq!(line.tag_name().name(), "polyline");
        assert_eq!(line.attribute("points").unwrap().split(' ').count(), 30, "{id}");
    }
}

use mlp::model_file::AnyModel;

/// The line after training says, in words, why it stopped and how long it took.
#[test]
fn training_says_why_it_stopped_in_plain_words() {
    let d = dir("stop-words");
    let data = sample_csv(&d);
    let model = d.join("m.safetensors");
    let stderr = |extra: &[&str]| {
        let out = mlp()
            .arg("train")
            .arg(&data)
            .args(["--target", "y", "--hidden", "4"])
            .args(extra)
            .arg("--out")
            .arg(&model)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let last = stderr(&["--epochs", "3"]);
    let line = last.lines().last().unwrap();
    assert!(line.starts_with("stopped after 3 epochs in "), "{line}");
    assert!(line.contains(": the last epoch was reached; model written to "), "{line}");
    assert!(line.contains(" ms: ") || line.contains(" s: "), "{line}");
    let inspect = stdout(mlp().arg("inspect").arg(&model));
    assert!(
        inspect.contains("for 3 epochs on 36 rows, seed 0, stopped: the last epoch was reached, ")
            && inspect.contains("task       regression, loss mse"),
        "{inspect}"
    );
    // With a patience of one epoch, the first epoch without a better
    // validation loss stops the run, long before the 2000th.
    let early = stderr(&["--epochs", "2000", "--patience", "1"]);
    assert!(early.contains(": the validation loss stopped improving; model written"), "{early}");
}

#[test]
fn classification_predicts_labels_with_probabilities_and_eval_reports_json() {
    let d = dir("classify");
    let data = sample_csv(&d);
    let model = d.join("c.safetensors");
    stdout(
        mlp()
            .arg("train")
            .arg(&data)
            .args(["--target", "kind", "--epochs", "60", "--quiet", "--val-fraction", "0"])
            .arg("--out")
            .arg(&model),
    );
    let out = stdout(mlp().arg("predict").arg(&model).arg(&data));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("label,p_big,p_small"));
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (p1, p2): (f64, f64) = (first[1].parse().unwrap(), first[2].parse().unwrap());
    assert!(["big", "small"].contains(&first[0]) && (p1 + p2 - 1.0).abs() < 1e-12);
    let json: serde_json::Value =
        serde_json::from_str(&stdout(mlp().arg("eval").arg(&model).arg(&data).arg("--json")))
            .unwrap();
    assert_eq!(json["rows"], 40);
    assert_eq!(json["class_labels"], serde_json::json!(["big", "small"]), "{json}");
    assert_eq!(json["targets"], serde_json::json!(["kind"]), "{json}");
    assert!(json["metrics"]["classification"]["accuracy"].as_f64().unwrap() > 0.8, "{json}");
    let table = stdout(mlp().arg("eval").arg(&model).arg(&data));
    assert!(table.contains("confusion") && table.contains("accuracy"));
    let inspect = stdout(mlp().arg("inspect").arg(&model));
    assert!(
        inspect.contains("colour (one-hot: blue|green|red)")
            && inspect.contains("classes    big, small")
            && inspect.contains("task       classification, loss cross_entropy"),
        "{inspect}"
    );
}

#[test]
fn init_gradient_gradcheck_and_jacobian_run_on_a_fresh_model() {
    let d = dir("derivatives");
    let model = d.join("init.safetensors");
    stdout(
        mlp()
            .args(["init", "--widths", "2,4,1", "--activations", "identity,tanh", "--seed", "3"])
            .arg("--out")
            .arg(&model),
    );
    let check =
        stdout(mlp().arg("gradcheck").arg(&model).args(["--dataset", "xor", "--target", "y"]));
    assert!(check.contains("0.weight") && check.contains("2.bias"), "{check}");
    let grad = d.join("grad.safetensors");
    stdout(
        mlp()
            .arg("gradient")
            .arg(&model)
            .args(["--dataset", "xor", "--target", "y"])
            .arg("--out")
            .arg(&grad),
    );
    let AnyModel::F64(g) = mlp::model_file::load_gradient(&grad).unwrap() else { panic!("f64") };
    assert_eq!(g.params.len(), 17);
    // Above the threshold, gradcheck prints its table and exits with status 1.
    let strict = mlp()
        .arg("gradcheck")
        .arg(&model)
        .args(["--dataset", "xor", "--target", "y", "--tolerance", "0"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stdout).contains("0.weight"));
    let jac = stdout(mlp().arg("jacobian").arg(&model).args(["--dataset", "xor"]));
    assert_eq!(jac.lines().next(), Some("dy0/da,dy0/db"));
    assert_eq!(jac.lines().count(), 5);
}

/// Runs `mlp` with `args` (and `--out` pointing at an existing file, where
/// the command writes one) and checks the failure: exit status 1, a one-line
/// message containing `expected`, and the output file unchanged.
fn fails<S: AsRef<str> + std::fmt::Debug>(args: &[S], out: Option<&Path>, expected: &str) {
    let before = out.map(|p| std::fs::read(p).unwrap());
    let mut cmd = mlp();
    cmd.args(args.iter().map(AsRef::as_ref));
    if let Some(p) = out {
        cmd.arg("--out").arg(p);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.trim_end().lines().count() == 1,
        "{args:?}: {stderr}"
    );
    assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    if let (Some(p), Some(b)) = (out, before) {
        assert_eq!(std::fs::read(p).unwrap(), b, "{args:?} touched {}", p.display());
    }
}

#[test]
fn bad_input_gives_one_line_errors_and_leaves_outputs_untouched() {
    let d = dir("bad");
    let good = sample_csv(&d);
    let out = write(&d.join("existing.safetensors"), "an existing model the user wants to keep");
    let csv = |name: &str, text: &str| write(&d.join(name), text).to_string_lossy().into_owned();
    let empty = csv("empty.csv", "");
    let header_only = csv("header.csv", "a,b,y\n");
    let ragged = csv("ragged.csv", "a,b,y\n1,2,3\n4,5\n");
    let text_value = csv("text.csv", "a,b,y\n1,2,3\n4,x,6\n7,8,9\n");
    let nan = csv("nan.csv", "a,b,y\n1,2,3\n4,NaN,6\n7,8,9\n");
    let inf = csv("inf.csv", "a,b,y\n1,2,3\n4,5,6\n7,-inf,9\n");
    let g = good.to_string_lossy().into_owned();
    let train = |extra: &[&str]| -> Vec<String> {
        let base = ["train", g.as_str(), "--target", "y", "--epochs", "2", "-q"];
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };

    fails(&["train", "/no/such/file.csv", "--target", "y"], Some(&out), "/no/such/file.csv");
    fails(
        &["train", &empty, "--target", "y"],
        Some(&out),
        &format!("{empty}:1: the file is empty"),
    );
    fails(
        &["train", &header_only, "--target", "y"],
        Some(&out),
        &format!("{header_only}:2: no data rows"),
    );
    fails(
        &["train", &ragged, "--target", "y"],
        Some(&out),
        &format!("{ragged}:3: expected 3 fields, found 2"),
    );
    fails(
        &["train", &text_value, "--target", "y"],
        Some(&out),
        &format!("{text_value}:3: column 2 (\"b\"): \"x\" is not a number"),
    );
    fails(
        &["train", &nan, "--target", "y"],
        Some(&out),
        &format!("{nan}:3: column 2 (\"b\"): \"NaN\" is not finite"),
    );
    fails(
        &["train", &inf, "--target", "y"],
        Some(&out),
        &format!("{inf}:4: column 2 (\"b\"): \"-inf\" is not finite"),
    );
    fails(
        &["train", &g, "--target", "z"],
        Some(&out),
        "no column \"z\"; the columns are a, b, colour, y, kind",
    );
    fails(&train(&["--activation", "swish2"]), Some(&out), "unknown activation \"swish2\"");
    fails(&train(&["--loss", "hinge"]), Some(&out), "unknown loss \"hinge\"");
    fails(&train(&["--solver", "newton"]), Some(&out), "unknown solver \"newton\"");
    fails(&train(&["--lr", "0"]), Some(&out), "invalid --lr: must be positive");
    fails(&train(&["--lr", "-1"]), Some(&out), "invalid --lr: must be positive");
    fails(&train(&["--batch-size", "0"]), Some(&out), "invalid --batch-size: must be at least 1");
    fails(&train(&["--epochs", "0"]), Some(&out), "invalid --epochs: must be at least 1");
    fails(&train(&["--patience", "0"]), Some(&out), "invalid --patience: must be at least 1");
    fails(&train(&["--solver", "sgd", "--momentum=-1"]), Some(&out), "invalid --momentum");
    fails(&train(&["--patience", "2", "--val-fraction", "0"]), Some(&out), "--patience needs");
    fails(&train(&["--target", "y,0,y"]), Some(&out), "--target names column \"y\" twice");
    fails(&train(&["--hidden", "18446744073709551615"]), Some(&out), "more parameters than memory");
    fails(
        &train(&["--loss", "binary_cross_entropy"]),
        Some(&out),
        "data.csv:21: column \"y\": -0.02507",
    );
    fails(&train(&["--val-fraction", "1"]), Some(&out), "--val-fraction must be in [0, 1), got 1");
    fails(&train(&["--val-fraction", "-0.1"]), Some(&out), "--val-fraction must be in [0, 1)");
    fails(
        &["train", &g, "--target", "kind", "--solver", "lm", "-q"],
        Some(&out),
        "not a sum of squares",
    );

    // Prediction-time errors against a real model.
    let model = d.join("model.safetensors");
    stdout(
        mlp()
            .args(["train", &g, "--target", "kind", "--epochs", "2", "-q"])
            .arg("--out")
            .arg(&model),
    );
    let m = model.to_string_lossy().into_owned();
    let pred_out = write(&d.join("predictions.csv"), "earlier predictions");
    let unseen = csv("unseen.csv", "a,b,colour,y,kind\n1,2,red,0.5,huge\n");
    fails(
        &["eval", &m, &unseen],
        None,
        &format!("{unseen}:2: class \"huge\" was not seen in training"),
    );
    let new_colour = csv("colour.csv", "a,b,colour\n1,2,purple\n");
    fails(
        &["predict", &m, &new_colour],
        Some(&pred_out),
        "category \"purple\" was not seen in training",
    );
    let narrow = csv("narrow.csv", "a,colour\n1,red\n");
    fails(&["predict", &m, &narrow], Some(&pred_out), "no column \"b\"");
    let truncated = d.join("truncated.safetensors");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let t = truncated.to_string_lossy().into_owned();
    fails(&["predict", &t, &g], Some(&pred_out), &t);
    let newer = d.join("newer.safetensors");
    let pattern = br#"\"format_version\":1"#;
    let at = bytes.windows(pattern.len()).position(|w| w == pattern).unwrap();
    let mut changed = bytes.clone();
    changed[at + pattern.len() - 1] = b'7';
    std::fs::write(&newer, &changed).unwrap();
    fails(
        &["predict", &newer.to_string_lossy(), &g],
        Some(&pred_out),
        "format version 7 is newer than this build reads",
    );
}

#[test]
fn export_writes_each_format_and_refuses_bad_models_without_touching_outputs() {
    let d = dir("export");
    let model = d.join("iris.safetensors");
    let train = ["train", "--dataset", "iris", "--hidden", "4", "--epochs", "2", "-q", "--out"];
    stdout(mlp().args(train).arg(&model));
    for (format, file, start) in [
        ("onnx", "m.onnx", &b"\x08\x08"[..]),
        ("c", "m.c", &b"/* An mlp network, 4-4-3"[..]),
        ("rust", "m.rs", &b"//! An mlp network, 4-4-3"[..]),
    ] {
        let out = d.join(file);
        stdout(mlp().args(["export"]).arg(&model).args(["--format", format, "--out"]).arg(&out));
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.starts_with(start), "{format}: {:?}", &bytes[..8]);
    }
    // The ONNX file holds the model's metadata and class labels.
    let onnx = std::fs::read(d.join("m.onnx")).unwrap();
    let has = |needle: &[u8]| onnx.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"versicolor") && has(b"Gemm") && has(b"Softmax") && has(b"format_version"));
    let out = write(&d.join("keep.onnx"), "previous");
    let bad = write(&d.join("bad.safetensors"), "not a model");
    let model = model.to_str().unwrap();
    fails(&["export", bad.to_str().unwrap(), "--format", "onnx"], Some(&out), "bad.safetensors");
    fails(&["export", model, "--format", "onnx", "--activations", "relu"], Some(&out), "no tensor");
    let missing = d.join("no/such/m.onnx");
    fails(&["export", model, "--format", "c", "--out", missing.to_str().unwrap()], None, "m.onnx");
}

#[test]
fn a_broken_pipe_exits_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let d = dir("pipe");
    let model = d.join("digits.safetensors");
    stdout(
        mlp()
            .args(["train", "--dataset", "digits", "--epochs", "1", "-q"])
            .arg("--out")
            .arg(&model),
    );
    // `mlp predict ... | head -0`: the reader is gone before the first write.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mlp"))
        .arg("predict")
        .arg(&model)
        .args(["--dataset", "digits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "exit {status}: {err}");
    assert!(err.is_empty(), "{err}");
}

/// The committed PyTorch interoperability files (`tests/data/interop/`,
/// written by `pytorch_interop.py` with PyTorch 2.15).
fn interop(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/interop").join(name)
}

fn read_rows(text: &str) -> Vec<f64> {
    text.lines()
        .skip(1)
        .flat_map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn a_model_saved_by_mlp_predicts_in_pytorch_as_in_mlp() {
    let ours = read_rows(&stdout(
        mlp().arg("predict").arg(interop("mlp_init.safetensors")).arg(interop("data.csv")),
    ));
    let theirs =
        read_rows(&std::fs::read_to_string(interop("torch_on_mlp_predictions.csv")).unwrap());
    assert_eq!(ours.len(), 32);
    let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff <= 1e-12, "max difference {diff:e}");
}

#[test]
fn a_state_dict_saved_by_pytorch_predicts_in_mlp_as_in_pytorch() {
    use mlp::Activation::{Gelu, Identity, Tanh};
    let AnyModel::F64(m) = mlp::model_file::load_state_dict(
        &interop("torch_model.safetensors"),
        &[Identity, Tanh, Gelu],
        mlp::Loss::MeanSquared,
    )
    .unwrap() else {
        panic!("an f64 state_dict")
    };
    let data = read_rows(&std::fs::read_to_string(interop("data.csv")).unwrap());
    let x: Vec<f64> = data.chunks_exact(5).flat_map(|r| r[..3].to_vec()).collect();
    let ours = m.network.predict(&m.params, &x);
    let theirs =
        read_rows(&std::fs::read_to_string(interop("torch_model_predictions.csv")).unwrap());
    let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff <= 1e-12, "max difference {diff:e}");
    let inspect = stdout(
        mlp()
            .arg("inspect")
            .arg(interop("torch_model.safetensors"))
            .args(["--activations", "identity,tanh,gelu"]),
    );
    assert!(inspect.contains("3-8-8-2 [identity, tanh, gelu]"), "{inspect}");
    // The same through the binary: inputs are the data's columns in order, outputs y0, y1.
    let d = dir("state-dict");
    let x_only = d.join("x.csv");
    let rows: Vec<String> =
        data.chunks_exact(5).map(|r| format!("{:?},{:?},{:?}", r[0], r[1], r[2])).collect();
    std::fs::write(&x_only, format!("a,b,c\n{}\n", rows.join("\n"))).unwrap();
    let predicted = read_rows(&stdout(
        mlp()
            .arg("predict")
            .arg(interop("torch_model.safetensors"))
            .arg(&x_only)
            .args(["--activations", "identity,tanh,gelu"]),
    ));
    assert_eq!(
        predicted.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        ours.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn mlp_gradient_agrees_with_pytorch_autograd_to_1e_10() {
    let d = dir("autograd");
    let grad = d.join("grad.safetensors");
    stdout(
        mlp()
            .arg("gradient")
            .arg(interop("mlp_init.safetensors"))
            .arg(interop("data.csv"))
            .args(["--target", "y0,y1", "--loss", "sse"])
            .arg("--out")
            .arg(&grad),
    );
    // The file is marked: it is not taken for a model.
    let inspect = mlp().arg("inspect").arg(&grad).output().unwrap();
    let stderr = String::from_utf8_lossy(&inspect.stderr);
    assert!(stderr.contains("a gradient written by mlp gradient, not a model"), "{stderr}");
    let ours = std::fs::read(&grad).unwrap();
    let theirs = std::fs::read(interop("torch_gradient.safetensors")).unwrap();
    let (ours, theirs) = (
        safetensors::SafeTensors::deserialize(&ours).unwrap(),
        safetensors::SafeTensors::deserialize(&theirs).unwrap(),
    );
    let values = |t: &safetensors::SafeTensors<'_>, name: &str| -> Vec<f64> {
        t.tensor(name)
            .unwrap()
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let mut names = theirs.names();
    names.sort_unstable();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]);
    for name in names {
        let (a, b) = (values(&ours, name), values(&theirs, name));
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let rel = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale;
        assert!(rel <= 1e-10, "{name}: relative error {rel:e}");
    }
}

#[test]
fn review_fixes_hold() {
    let d = dir("review");
    let data = sample_csv(&d);
    // Equal models give equal bytes (the header's keys are sorted).
    let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
    for p in [&a, &b] {
        stdout(
            mlp()
                .args([
                    "init",
                    "--widths",
                    "3,4,1",
                    "--activations",
                    "identity,tanh",
                    "--seed",
                    "1",
                ])
                .arg("--out")
                .arg(p),
        );
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // f32 models pass gradcheck at the f32 default tolerance.
    let f32_model = d.join("f32.safetensors");
    stdout(
        mlp()
            .args(["init", "--widths", "2,4,1", "--activations", "identity,tanh", "--dtype", "f32"])
            .arg("--out")
            .arg(&f32_model),
    );
    stdout(mlp().arg("gradcheck").arg(&f32_model).args(["--dataset", "xor", "--target", "y"]));
    // Binary cross-entropy trains a one-output classifier whose predictions carry both labels.
    let model = d.join("bce.safetensors");
    let g = data.to_string_lossy().into_owned();
    stdout(
        mlp()
            .args([
                "train",
                &g,
                "--target",
                "kind",
                "--loss",
                "binary_cross_entropy",
                "--epochs",
                "5",
                "-q",
            ])
            .arg("--out")
            .arg(&model),
    );
    let out = stdout(mlp().arg("predict").arg(&model).arg(&data));
    assert!(out.starts_with("label,p_big,p_small\n"), "{out}");
    // Its one logit is that of the second label; the Jacobian's header has
    // as many fields as its rows.
    let jac = stdout(mlp().arg("jacobian").arg(&model).arg(&data));
    let mut lines = jac.lines().map(|l| l.split(',').count());
    assert_eq!(lines.next(), lines.next(), "{jac}");
    assert!(jac.starts_with("dlogit_small/da,"), "{jac}");
    // A one-epoch run's plot marks its single points.
    let plot = d.join("one.svg");
    stdout(
        mlp()
            .args(["train", &g, "--target", "y", "--epochs", "1", "-q", "--plot"])
            .arg(&plot)
            .arg("--out")
            .arg(d.join("one.safetensors")),
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(doc.descendants().filter(|n| n.tag_name().name() == "circle").count(), 2, "{svg}");
    // A trained model never guesses columns by position.
    let renamed = write(&d.join("renamed.csv"), "A,B,Colour\n1,2,red\n");
    fails(
        &["predict", &model.to_string_lossy(), &renamed.to_string_lossy()],
        None,
        "no column \"a\"",
    );
    // One class, duplicate columns, no inputs, a missing output folder: clear errors, model untouched.
    let one = write(&d.join("one.csv"), "x,y\n1,a\n2,a\n");
    fails(&["train", &one.to_string_lossy(), "--target", "y"], Some(&model), "has one class");
    let dup = write(&d.join("dup.csv"), "a,y,y\n1,2,3\n");
    fails(
        &["train", &dup.to_string_lossy(), "--target", "2"],
        Some(&model),
        "columns 2 and 3 are both named \"y\"",
    );
    let only = write(&d.join("only.csv"), "x,y\n1,2\n");
    fails(
        &["train", &only.to_string_lossy(), "--target", "x,y"],
        Some(&model),
        "no input columns are left",
    );
    fails(
        &["train", &g, "--target", "y", "-q", "--history", "/no/such/folder/h.csv"],
        Some(&model),
        "does not exist",
    );
    // Tiny data sets train with the defaults (no validation split of 4 rows).
    stdout(
        mlp()
            .args(["train", "--dataset", "xor", "--epochs", "2", "-q"])
            .arg("--out")
            .arg(d.join("xor.safetensors")),
    );
}

/// An output named like an input, or like another output, is refused
/// before anything is written: the file it names stays byte for byte.
#[test]
fn no_command_writes_over_its_own_inputs() {
    let d = dir("clobber");
    let data = sample_csv(&d);
    let g = data.to_string_lossy().into_owned();
    let model = d.join("m.safetensors");
    stdout(
        mlp().args(["train", &g, "--target", "y", "--epochs", "2", "-q"]).arg("--out").arg(&model),
    );
    let m = model.to_string_lossy().into_owned();
    let same = format!("{}/./m.safetensors", d.display());
    fails(&["predict", &m, &g], Some(&model), "--out ");
    fails(&["jacobian", &m, &g], Some(&data), "is also the data file");
    fails(&["gradient", &m, &g, "--target", "y"], Some(Path::new(&same)), "is also the model");
    fails(&["export", &m, "--format", "onnx"], Some(&model), "is also the model");
    let train = ["train", &g, "--target", "y", "--epochs", "2", "-q"];
    fails(&train, Some(&data), "is also the data file");
    let history = write(&d.join("h.csv"), "a history the user keeps");
    let h = history.to_string_lossy().into_owned();
    fails(&[&train[..], &["--history", &h, "--plot", &h]].concat(), Some(&model), "--plot");
    assert_eq!(std::fs::read(&history).unwrap(), b"a history the user keeps");
    fails(&[&train[..], &["--checkpoint", &g]].concat(), Some(&model), "--checkpoint");
    let folder = d.to_string_lossy().into_owned();
    fails(&[&train[..], &["--out", &folder]].concat(), None, "is a folder");
}

/// Files as people and spreadsheets write them, and values at the edge of
/// the floating-point range: trained, or refused in one line naming the
/// place; the same seed writes the same bytes.
#[test]
fn awkward_files_train_or_fail_clearly_and_runs_repeat_byte_for_byte() {
    let d = dir("awkward");
    let csv = |name: &str, text: &str| write(&d.join(name), text).to_string_lossy().into_owned();
    let rows = |f: &dyn Fn(u32) -> String| (0..30).map(f).collect::<String>();
    let model = d.join("m.safetensors");
    let m = model.to_string_lossy().into_owned();
    let train = |file: &str, extra: &[&str]| {
        let mut cmd = mlp();
        cmd.args(["train", file, "--epochs", "2", "-q", "--out", &m]).args(extra);
        cmd.output().unwrap()
    };
    // A delimiter ending every line adds no column.
    let trailing = csv(
        "trailing.csv",
        &format!("a,b,y,\n{}", rows(&|k| format!("{k},{},{},\n", k % 3, 2 * k))),
    );
    assert!(train(&trailing, &["--target", "y"]).status.success());
    assert!(stdout(mlp().args(["inspect", &m])).contains("network    2-32-1"));
    // Targets near 1e160: their squares overflow, their scaling must not.
    let huge = csv("huge.csv", &format!("x,y\n{}", rows(&|k| format!("{k},{}e160\n", k % 7))));
    let run = train(&huge, &["--target", "y"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout(mlp().args(["inspect", &m])).contains("train loss "));
    let before = std::fs::read(&model).unwrap();
    // Values too far apart to scale; an unclosed quote; a header of numbers.
    let apart = csv(
        "apart.csv",
        &format!("x,y\n{}", rows(&|k| format!("{k},{}1.7e308\n", if k > 20 { "-" } else { "" }))),
    );
    fails(&["train", &apart, "--target", "y"], Some(&model), "column \"y\": its values, from");
    let quote = csv("quote.csv", "a,y\n1,2\n3,\"4\n5,6\n");
    fails(
        &["train", &quote, "--target", "y"],
        Some(&model),
        "quote.csv:3: a quoted field opens here",
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
    let numbers = csv("numbers.csv", &rows(&|k| format!("{}.5,{k}.25\n", k + 1)));
    let run = train(&numbers, &["--target", "1"]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("pass --no-header if the file has none"));
    // An I/O error is said once, without the OS's error number.
    let missing = d.join("missing.csv").to_string_lossy().into_owned();
    let run = train(&missing, &["--target", "y"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr, format!("error: {missing}: No such file or directory\n"));
    // A model made by `init` reads columns x1, x2 by position.
    let xs =
        csv("xs.csv", &format!("x1,x2,y\n{}", rows(&|k| format!("{k},{},{}\n", k % 4, k % 5))));
    stdout(mlp().args([
        "init",
        "--widths",
        "2,4,1",
        "--activations",
        "identity,tanh",
        "--out",
        &m,
    ]));
    stdout(
        mlp().args(["gradient", &m, &xs, "--target", "y", "--out"]).arg(d.join("g.safetensors")),
    );
    // Same seed, same bytes: the file holds no wall-clock time.
    let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
    for p in [&a, &b] {
        let args = ["train", &xs, "--target", "y", "--seed", "7", "--threads", "2", "-q"];
        stdout(mlp().args(args).arg("--out").arg(p));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// A build without the `mpi` feature refuses `--distributed` in one line
/// that says how to get it, and leaves the output alone.
#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_the_mpi_feature_says_how_to_build_it() {
    let d = dir("no-mpi");
    let out = write(&d.join("existing.safetensors"), "keep me");
    fails(&["train", "--dataset", "xor", "--distributed"], Some(&out), "--features mpi");
}
