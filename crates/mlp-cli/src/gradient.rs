//! `mlp gradient`, `mlp gradcheck` and `mlp jacobian`: the derivatives of a
//! saved model on the rows of a CSV file.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use mlp::model_file::{self, AnyModel, Model};
use mlp::{Dataset, Float, Loss, Workspace};

use crate::cli::{GradcheckArgs, GradientArgs, JacobianArgs, LossArgs};
use crate::common::{csv_field, model_inputs, parse_loss, read_table, write_output};

/// The model, its data set (inputs scaled as trained) and the loss.
fn setup(args: &LossArgs) -> Result<(AnyModel, Dataset<f64>, Loss)> {
    let model = model_file::load(&args.model)?;
    let table = read_table(&args.input)?;
    let mut meta = model.meta().clone();
    if !args.target.is_empty() {
        let columns: Vec<usize> =
            args.target.iter().map(|t| table.column_index(t)).collect::<mlp::Result<_>>()?;
        meta.targets = columns.iter().map(|&k| table.names[k].clone()).collect();
    }
    crate::common::resolve_inputs(&mut meta, &table, &[])?;
    let x = model_inputs(&meta, &table)?;
    let y = crate::common::model_targets(&meta, &table)?;
    Ok((model, Dataset::new(x, meta.widths[0], y)?, parse_loss(&args.loss)?))
}

/// The gradient summed over the rows, at the model's parameters.
fn gradient<F: Float>(m: &Model<F>, data: &Dataset<f64>, loss: Loss) -> Result<(f64, Vec<F>)> {
    let x: Vec<F> = data.inputs().iter().map(|&v| F::cast(v)).collect();
    let values: Vec<F>;
    let targets = match data.target_data() {
        mlp::TargetData::Values { values: v, .. } => {
            values = v.iter().map(|&v| F::cast(v)).collect();
            mlp::Targets::Values(&values)
        }
        mlp::TargetData::Classes(c) => mlp::Targets::Classes(c),
    };
    let mut ws = Workspace::new(&m.network, data.rows());
    let mut grad = vec![F::zero(); m.network.num_params()];
    let value = m.network.loss_and_gradient(&m.params, &x, targets, loss, &mut ws, &mut grad)?;
    Ok((value.as_f64(), grad))
}

pub fn write_gradient(args: &GradientArgs) -> Result<()> {
    crate::common::distinct_outputs(Some(&args.out), &args.common.model, &args.common.input)?;
    let (model, data, loss) = setup(&args.common)?;
    let out = match model {
        AnyModel::F32(m) => {
            let (_, g) = gradient(&m, &data, loss)?;
            AnyModel::F32(with_params(m, g)?)
        }
        AnyModel::F64(m) => {
            let (_, g) = gradient(&m, &data, loss)?;
            AnyModel::F64(with_params(m, g)?)
        }
    };
    model_file::save_gradient(&args.out, &out)?;
    Ok(())
}

fn with_params<F: Float>(mut m: Model<F>, values: Vec<F>) -> Result<Model<F>> {
    m.params = mlp::Params::from_vec(&m.network, values)?;
    m.meta.training = None;
    Ok(m)
}

pub fn gradcheck(args: &GradcheckArgs) -> Result<()> {
    let (model, data, loss) = setup(&args.common)?;
    let (worst, tolerance) = match model {
        AnyModel::F32(m) => (check(&m, &data, loss)?, args.tolerance.unwrap_or(1e-3)),
        AnyModel::F64(m) => (check(&m, &data, loss)?, args.tolerance.unwrap_or(1e-6)),
    };
    let mut s = String::from("tensor        max relative error\n");
    let mut failed = false;
    for (name, err) in &worst {
        let _ = writeln!(s, "{name:<12}  {err:.3e}");
        failed |= *err > tolerance;
    }
    write_output(None, &s)?;
    if failed {
        bail!("back-propagation differs from finite differences by more than {tolerance:e}");
    }
    Ok(())
}

/// Per tensor, the largest relative error of back-propagation against
/// central finite differences (computed in f64 at the model's point).
fn check<F: Float>(m: &Model<F>, data: &Dataset<f64>, loss: Loss) -> Result<Vec<(String, f64)>> {
    let (_, grad) = gradient(m, data, loss)?;
    let exact =
        Model { network: m.network.clone(), params: m.params.cast::<f64>(), meta: m.meta.clone() };
    let mut v = exact.params.to_vec();
    let mut ws = Workspace::new(&m.network, data.rows());
    let mut value = |v: &[f64]| -> Result<f64> {
        let out = m.network.forward(v, data.inputs(), &mut ws).to_vec();
        Ok(loss.value(&out, m.network.outputs(), data.targets())?)
    };
    let mut numeric = vec![0.0; v.len()];
    for k in 0..v.len() {
        let v0 = v[k];
        let h = 1e-5 * v0.abs().max(1.0);
        v[k] = v0 + h;
        let plus = value(&v)?;
        v[k] = v0 - h;
        let minus = value(&v)?;
        v[k] = v0;
        numeric[k] = (plus - minus) / (2.0 * h);
    }
    let mut result = Vec::new();
    for (i, linear) in model_file::linear_indices(m.network.activations()).into_iter().enumerate() {
        let (w, b) = m.network.layer_ranges(i);
        for (kind, range) in [("weight", w), ("bias", b)] {
            let scale = range.clone().map(|k| numeric[k].abs()).fold(0.0, f64::max).max(1e-8);
            let err = range
                .map(|k| {
                    (grad[k].as_f64() - numeric[k]).abs()
                        / grad[k].as_f64().abs().max(numeric[k].abs()).max(1e-3 * scale)
                })
                .fold(0.0, f64::max);
            result.push((format!("{linear}.{kind}"), err));
        }
    }
    Ok(result)
}

pub fn jacobian(args: &JacobianArgs) -> Result<()> {
    crate::common::distinct_outputs(args.out.as_deref(), &args.model, &args.input)?;
    let model = crate::common::load_model(&args.model, &args.activations)?;
    let table = read_table(&args.input)?;
    let mut meta = model.meta().clone();
    crate::common::resolve_inputs(&mut meta, &table, &crate::common::bundled_target(&table))?;
    let x = model_inputs(&meta, &table)?;
    let text = match &model {
        AnyModel::F32(m) => jacobian_csv(m, &meta, &x),
        AnyModel::F64(m) => jacobian_csv(m, &meta, &x),
    };
    write_output(args.out.as_deref(), &text)
}

/// One row per data row: `d<output>/d<input>` for every pair, in original
/// units (through the input and target scalers).
fn jacobian_csv<F: Float>(m: &Model<F>, meta: &mlp::model_file::ModelMeta, x: &[f64]) -> String {
    let (n0, nl) = (m.network.inputs(), m.network.outputs());
    let rows = x.len() / n0;
    let xf: Vec<F> = x.iter().map(|&v| F::cast(v)).collect();
    let mut ws = Workspace::new(&m.network, rows);
    let mut jac = vec![F::zero(); rows * nl * n0];
    m.network.input_jacobian(&m.params, &xf, &mut ws, &mut jac);
    let input_names: Vec<String> =
        meta.inputs.iter().flat_map(model_file::InputColumn::input_names).collect();
    let output_names: Vec<String> = match &meta.class_labels[..] {
        [] => meta.targets.clone(),
        // One sigmoid output: its logit is that of the second label.
        [_, positive] if nl == 1 => vec![format!("logit_{positive}")],
        labels => labels.iter().map(|c| format!("logit_{c}")).collect(),
    };
    let mut header = Vec::new();
    for o in &output_names {
        for i in &input_names {
            header.push(csv_field(&format!("d{o}/d{i}")));
        }
    }
    let mut s = header.join(",");
    s.push('\n');
    let spread =
        |s: &Option<mlp::data::scaling::Scaler>, k: usize| s.as_ref().map_or(1.0, |s| s.spread[k]);
    for r in 0..rows {
        let mut cells = Vec::with_capacity(nl * n0);
        for o in 0..nl {
            for i in 0..n0 {
                // y = s_out ŷ + o_out, x̂ = (x − o_in) / s_in: dy/dx = s_out J / s_in.
                let d = jac[(r * nl + o) * n0 + i].as_f64() * spread(&meta.target_scaler, o)
                    / spread(&meta.input_scaler, i);
                cells.push(format!("{d:?}"));
            }
        }
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}
