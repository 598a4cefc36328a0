//! The ONNX graph of a model's prediction path (IR version 8, opset 17).
//!
//! Every activation is written with standard operators and constants in the
//! model's own precision (the operators' `float` attributes, such as
//! `LeakyRelu`'s `alpha`, would round `f64` constants to `f32`), following
//! [`Activation::value`](crate::Activation::value) operation for operation.

use prost::Message;

use super::onnx_proto::{
    AttributeProto, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto,
    TypeProto, ValueInfoProto,
};
use crate::activation::{Activation, GELU_TANH_CUBIC, SELU_ALPHA, SELU_SCALE, SQRT_2_OVER_PI};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::model_file::Model;
use crate::prediction::{is_classifier, label};

const IR_VERSION: i64 = 8;
const OPSET: i64 = 17;
const INT_ATTRIBUTE: i32 = 2;
/// `TensorProto.DataType` values.
const FLOAT: i32 = 1;
const STRING: i32 = 8;
const DOUBLE: i32 = 11;

/// Nodes and constants, named as they are added.
struct Graph {
    nodes: Vec<NodeProto>,
    constants: Vec<TensorProto>,
    /// The element type of the model's values (FLOAT or DOUBLE).
    elem: i32,
    f32: bool,
}

impl Graph {
    fn name(&self, kind: &str) -> String {
        format!("{kind}_{}", self.nodes.len() + self.constants.len())
    }

    /// A constant of the model's type: rank 0 for one value, else `dims`.
    fn constant(&mut self, dims: &[usize], values: &[f64]) -> String {
        let name = self.name("c");
        let raw_data = if self.f32 {
            values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect()
        } else {
            values.iter().flat_map(|&v| v.to_le_bytes()).collect()
        };
        self.constants.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: self.elem,
            raw_data,
            name: name.clone(),
            ..TensorProto::default()
        });
        name
    }

    /// A scalar constant `v`, rounded to the model's type as `F::cast` does.
    fn scalar<F: Float>(&mut self, v: F) -> String {
        self.constant(&[], &[v.as_f64()])
    }

    fn op(&mut self, op_type: &str, inputs: &[&str], ints: &[(&str, i64)]) -> String {
        let output = self.name(&op_type.to_lowercase());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_string()).collect(),
            output: vec![output.clone()],
            name: output.clone(),
            op_type: op_type.into(),
            attribute: ints
                .iter()
                .map(|&(name, i)| AttributeProto {
                    name: name.into(),
                    i,
                    r#type: INT_ATTRIBUTE,
                    ..AttributeProto::default()
                })
                .collect(),
        });
        output
    }

    /// Renames the last node's output (the graph's outputs have fixed names).
    fn rename_last(&mut self, to: &str) {
        let node = self.nodes.last_mut().expect("a node");
        node.output[0] = to.into();
    }

    /// `exp(x) − 1`, for ELU and SELU (`F::exp_m1` in the library: equal to
    /// rounding, absolutely).
    fn exp_m1<F: Float>(&mut self, x: &str) -> String {
        let e = self.op("Exp", &[x], &[]);
        let one = self.scalar(F::one());
        self.op("Sub", &[&e, &one], &[])
    }

    /// `if x > 0 { positive } else { negative }`.
    fn select(&mut self, x: &str, positive: &str, negative: &str) -> String {
        let zero = self.constant(&[], &[0.0]);
        let condition = self.op("Greater", &[x, &zero], &[]);
        self.op("Where", &[&condition, positive, negative], &[])
    }

    /// `activation(x)`, as `Activation::value` computes it.
    fn activation<F: Float>(&mut self, activation: Activation, x: &str) -> String {
        match activation {
            Activation::Identity => x.to_string(),
            Activation::Relu => self.op("Relu", &[x], &[]),
            Activation::LeakyRelu { slope } => {
                let s = self.scalar(F::cast(slope));
                let negative = self.op("Mul", &[&s, x], &[]);
                self.select(x, x, &negative)
            }
            Activation::Elu { alpha } => {
                let a = self.scalar(F::cast(alpha));
                let e = self.exp_m1::<F>(x);
                let negative = self.op("Mul", &[&a, &e], &[]);
                self.select(x, x, &negative)
            }
            Activation::Selu => {
                let scale = self.scalar(F::cast(SELU_SCALE));
                let positive = self.op("Mul", &[&scale, x], &[]);
                let scale_alpha = self.scalar(F::cast(SELU_SCALE) * F::cast(SELU_ALPHA));
                let e = self.exp_m1::<F>(x);
                let negative = self.op("Mul", &[&scale_alpha, &e], &[]);
                self.select(x, &positive, &negative)
            }
            Activation::Gelu => {
                let c = self.scalar(F::cast(std::f64::consts::FRAC_1_SQRT_2));
                let scaled = self.op("Mul", &[x, &c], &[]);
                let erf = if self.f32 {
                    self.op("Erf", &[&scaled], &[])
                } else {
                    // Neither ONNX Runtime nor tract implements Erf in
                    // double: it runs in float, so f64 GELU models agree
                    // with the library to about 1e-7, not 1e-12.
                    let single = self.op("Cast", &[&scaled], &[("to", i64::from(FLOAT))]);
                    let erf = self.op("Erf", &[&single], &[]);
                    self.op("Cast", &[&erf], &[("to", i64::from(DOUBLE))])
                };
                self.half_x_one_plus::<F>(x, &erf)
            }
            Activation::GeluTanh => {
                // S (x + ((C x) x) x)
                let c = self.scalar(F::cast(GELU_TANH_CUBIC));
                let cx = self.op("Mul", &[&c, x], &[]);
                let cxx = self.op("Mul", &[&cx, x], &[]);
                let cxxx = self.op("Mul", &[&cxx, x], &[]);
                let sum = self.op("Add", &[x, &cxxx], &[]);
                let s = self.scalar(F::cast(SQRT_2_OVER_PI));
                let inner = self.op("Mul", &[&s, &sum], &[]);
                let t = self.op("Tanh", &[&inner], &[]);
                self.half_x_one_plus::<F>(x, &t)
            }
            Activation::Silu => {
                let s = self.sigmoid::<F>(x);
                self.op("Mul", &[x, &s], &[])
            }
            Activation::Softplus => {
                // max(x, 0) + ln(1 + exp(−|x|))
                let relu = self.op("Relu", &[x], &[]);
                let abs = self.op("Abs", &[x], &[]);
                let neg = self.op("Neg", &[&abs], &[]);
                let e = self.op("Exp", &[&neg], &[]);
                let one = self.scalar(F::one());
                let sum = self.op("Add", &[&one, &e], &[]);
                let log = self.op("Log", &[&sum], &[]);
                self.op("Add", &[&relu, &log], &[])
            }
            Activation::Tanh => self.op("Tanh", &[x], &[]),
            Activation::Sigmoid => self.sigmoid::<F>(x),
            Activation::Sin => self.op("Sin", &[x], &[]),
            Activation::Gaussian => {
                let neg = self.op("Neg", &[x], &[]);
                let square = self.op("Mul", &[&neg, x], &[]);
                self.op("Exp", &[&square], &[])
            }
        }
    }

    /// The library's sigmoid: `1 / (1 + exp(−x))` for `x ≥ 0`, else
    /// `exp(x) / (1 + exp(x))`. (ONNX's `Sigmoid` would do within rounding,
    /// but tract has no `f64` kernel for it.)
    fn sigmoid<F: Float>(&mut self, x: &str) -> String {
        let one = self.scalar(F::one());
        let neg = self.op("Neg", &[x], &[]);
        let e_neg = self.op("Exp", &[&neg], &[]);
        let d_pos = self.op("Add", &[&one, &e_neg], &[]);
        let positive = self.op("Div", &[&one, &d_pos], &[]);
        let e = self.op("Exp", &[x], &[]);
        let d_neg = self.op("Add", &[&one, &e], &[]);
        let negative = self.op("Div", &[&e, &d_neg], &[]);
        let zero = self.constant(&[], &[0.0]);
        let condition = self.op("GreaterOrEqual", &[x, &zero], &[]);
        self.op("Where", &[&condition, &positive, &negative], &[])
    }

    /// `0.5 x (1 + t)`, evaluated as `(0.5 x)(1 + t)`.
    fn half_x_one_plus<F: Float>(&mut self, x: &str, t: &str) -> String {
        let half = self.scalar(F::cast(0.5));
        let hx = self.op("Mul", &[&half, x], &[]);
        let one = self.scalar(F::one());
        let sum = self.op("Add", &[&one, t], &[]);
        self.op("Mul", &[&hx, &sum], &[])
    }
}

fn value_info(name: &str, elem_type: i32, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(n) => DimensionValue::DimValue(*n as i64),
                None => DimensionValue::DimParam("N".into()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto { elem_type, shape: Some(TensorShapeProto { dim }) }),
        }),
    }
}

/// The model as an ONNX file's bytes. Input `input`, `[N, n_0]`: the encoded
/// inputs in original units (text columns one-hot, as the metadata lists
/// them). Outputs: `output` (`[N, n_L]`, original units) for regression;
/// `probabilities` (`[N, K]`) and `label` (`[N]` strings) for classification.
pub(crate) fn to_onnx<F: Float>(model: &Model<F>) -> Result<Vec<u8>> {
    let net = &model.network;
    let meta = &model.meta;
    let f32 = F::NAME == "f32";
    let elem = if f32 { FLOAT } else { DOUBLE };
    let mut g = Graph { nodes: Vec::new(), constants: Vec::new(), elem, f32 };
    let mut x = "input".to_string();
    if let Some(s) = &meta.input_scaler {
        let offset = g.constant(&[s.offset.len()], &s.offset);
        let spread = g.constant(&[s.spread.len()], &s.spread);
        let centred = g.op("Sub", &[&x, &offset], &[]);
        x = g.op("Div", &[&centred, &spread], &[]);
    }
    for i in 0..net.depth() {
        let layer = net.layer(model.params.as_slice(), i);
        x = g.activation::<F>(net.activations()[i], &x);
        let as_f64 = |v: &[F]| v.iter().map(|v| v.as_f64()).collect::<Vec<_>>();
        let w = g.constant(&[layer.outputs, layer.inputs], &as_f64(layer.weight));
        let b = g.constant(&[layer.outputs], &as_f64(layer.bias));
        // The bias is added by its own node, as the library adds it after
        // the product; Gemm's C input would also work, but tract scales C
        // by an f32 beta even when it is 1, which fails for f64 models.
        let product = g.op("Gemm", &[&x, &w], &[("transB", 1)]);
        x = g.op("Add", &[&product, &b], &[]);
    }
    let outputs = net.outputs();
    let mut graph_outputs = Vec::new();
    if is_classifier(meta) {
        if outputs == 1 {
            // [1 − p, p] for one sigmoid output.
            let p = g.sigmoid::<F>(&x);
            let one = g.scalar(F::one());
            let q = g.op("Sub", &[&one, &p], &[]);
            g.op("Concat", &[&q, &p], &[("axis", 1)]);
        } else {
            g.op("Softmax", &[&x], &[("axis", -1)]);
        }
        let classes = outputs.max(2);
        g.rename_last("probabilities");
        let best = g.op("ArgMax", &["probabilities"], &[("axis", 1), ("keepdims", 0)]);
        let labels = g.name("labels");
        g.constants.push(TensorProto {
            dims: vec![classes as i64],
            data_type: STRING,
            string_data: (0..classes).map(|k| label(meta, k).into_bytes()).collect(),
            name: labels.clone(),
            ..TensorProto::default()
        });
        g.op("Gather", &[&labels, &best], &[("axis", 0)]);
        g.rename_last("label");
        graph_outputs.push(value_info("probabilities", elem, &[None, Some(classes)]));
        graph_outputs.push(value_info("label", STRING, &[None]));
    } else {
        if let Some(s) = &meta.target_scaler {
            let spread = g.constant(&[s.spread.len()], &s.spread);
            let offset = g.constant(&[s.offset.len()], &s.offset);
            let scaled = g.op("Mul", &[&x, &spread], &[]);
            g.op("Add", &[&scaled, &offset], &[]);
        } else {
            g.op("Identity", &[&x], &[]);
        }
        g.rename_last("output");
        graph_outputs.push(value_info("output", elem, &[None, Some(outputs)]));
    }
    let metadata = serde_json::to_string(meta).map_err(|e| Error::InvalidConfig {
        field: "model",
        reason: format!("metadata does not serialise: {e}"),
    })?;
    let model = ModelProto {
        ir_version: IR_VERSION,
        producer_name: "mlp".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{} ({})", net.describe(), F::NAME),
        graph: Some(GraphProto {
            node: g.nodes,
            name: "mlp".into(),
            initializer: g.constants,
            doc_string: String::new(),
            input: vec![value_info("input", elem, &[None, Some(net.inputs())])],
            output: graph_outputs,
        }),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        metadata_props: vec![StringStringEntryProto { key: "mlp".into(), value: metadata }],
    };
    Ok(model.encode_to_vec())
}
