//! One self-contained C or Rust source file per model: the weights as
//! constants and a `predict` function that runs the whole prediction path
//! of [`crate::prediction::predict`] (scaling in `f64`, layers in the model's
//! type, outputs in `f64`), with no allocation and nothing but the
//! language's math library. Each activation is written as
//! [`Activation::value`](crate::Activation::value) computes it.

use std::fmt::Write as _;

use crate::activation::{Activation, GELU_TANH_CUBIC, SELU_ALPHA, SELU_SCALE, SQRT_2_OVER_PI};
use crate::float::Float;
use crate::model_file::Model;
use crate::prediction::{is_classifier, label};

/// The two target languages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    C,
    Rust,
}

/// The spelling of everything that differs between the languages.
struct Syntax {
    lang: Language,
    /// The layer type: `double`/`f64` or `float`/`f32`.
    ty: &'static str,
    f32: bool,
}

impl Syntax {
    /// A literal of the layer type that reads back as exactly `v`.
    fn lit<F: Float>(&self, v: F) -> String {
        let text =
            if self.f32 { format!("{:?}", v.as_f64() as f32) } else { format!("{:?}", v.as_f64()) };
        match self.lang {
            Language::C if self.f32 => format!("{text}f"),
            Language::C => text,
            Language::Rust => format!("{text}_{}", self.ty),
        }
    }

    /// An `f64` literal.
    fn lit64(&self, v: f64) -> String {
        match self.lang {
            Language::C => format!("{v:?}"),
            Language::Rust => format!("{v:?}_f64"),
        }
    }

    /// A call of the math library's `name` (`tanh`, or `tanhf` for f32 in C and Rust).
    fn call(&self, name: &str, arg: &str) -> String {
        let f = if self.f32 { "f" } else { "" };
        format!("{name}{f}({arg})")
    }

    fn select(&self, condition: &str, yes: &str, no: &str) -> String {
        match self.lang {
            Language::C => format!("({condition} ? {yes} : {no})"),
            Language::Rust => format!("(if {condition} {{ {yes} }} else {{ {no} }})"),
        }
    }

    /// `const` arrays of values.
    fn array(&self, out: &mut String, name: &str, ty: &str, values: &[String]) {
        let body = values.join(", ");
        let _ = match self.lang {
            Language::C => {
                writeln!(out, "static const {ty} {name}[{}] = {{{body}}};", values.len())
            }
            Language::Rust => writeln!(out, "static {name}: [{ty}; {}] = [{body}];", values.len()),
        };
    }
}

/// The math library functions the activations use.
fn functions(activation: Activation) -> &'static [&'static str] {
    match activation {
        Activation::Elu { .. } | Activation::Selu => &["expm1"],
        Activation::Gelu => &["erf"],
        Activation::GeluTanh | Activation::Tanh => &["tanh"],
        Activation::Silu | Activation::Sigmoid | Activation::Gaussian => &["exp"],
        Activation::Softplus => &["exp", "log1p"],
        Activation::Sin => &["sin"],
        Activation::Identity | Activation::Relu | Activation::LeakyRelu { .. } => &[],
    }
}

/// `activation(x)` as an expression of `x` (a variable of the layer type).
fn expression<F: Float>(s: &Syntax, activation: Activation) -> String {
    let zero = s.lit(F::zero());
    let one = s.lit(F::one());
    let sigmoid = || {
        let e_neg = s.call("exp", "-x");
        let e = s.call("exp", "x");
        s.select(
            &format!("x >= {zero}"),
            &format!("{one} / ({one} + {e_neg})"),
            &format!("{e} / ({one} + {e})"),
        )
    };
    match activation {
        Activation::Identity => "x".into(),
        Activation::Relu => s.select(&format!("x > {zero}"), "x", &zero),
        Activation::LeakyRelu { slope } => {
            s.select(&format!("x > {zero}"), "x", &format!("{} * x", s.lit(F::cast(slope))))
        }
        Activation::Elu { alpha } => s.select(
            &format!("x > {zero}"),
            "x",
            &format!("{} * {}", s.lit(F::cast(alpha)), s.call("expm1", "x")),
        ),
        Activation::Selu => s.select(
            &format!("x > {zero}"),
            &format!("{} * x", s.lit(F::cast(SELU_SCALE))),
            &format!(
                "{} * {}",
                s.lit(F::cast(SELU_SCALE) * F::cast(SELU_ALPHA)),
                s.call("expm1", "x")
            ),
        ),
        Activation::Gelu => format!(
            "({} * x) * ({one} + {})",
            s.lit(F::cast(0.5)),
            s.call("erf", &format!("x * {}", s.lit(F::cast(std::f64::consts::FRAC_1_SQRT_2))))
        ),
        Activation::GeluTanh => {
            let inner = format!(
                "{} * (x + {} * x * x * x)",
                s.lit(F::cast(SQRT_2_OVER_PI)),
                s.lit(F::cast(GELU_TANH_CUBIC))
            );
            format!("({} * x) * ({one} + {})", s.lit(F::cast(0.5)), s.call("tanh", &inner))
        }
        Activation::Silu => format!("x * {}", sigmoid()),
        Activation::Softplus => {
            let relu = s.select(&format!("x > {zero}"), "x", &zero);
            let abs = s.select(&format!("x < {zero}"), "-x", "x");
            format!("{relu} + {}", s.call("log1p", &s.call("exp", &format!("-{abs}"))))
        }
        Activation::Tanh => s.call("tanh", "x"),
        Activation::Sigmoid => sigmoid(),
        Activation::Sin => s.call("sin", "x"),
        Activation::Gaussian => s.call("exp", "-x * x"),
    }
}

/// The source file for `model` in `lang`.
pub(crate) fn to_source<F: Float>(model: &Model<F>, lang: Language) -> String {
    let f32 = F::NAME == "f32";
    let ty = match (lang, f32) {
        (Language::C, true) => "float",
        (Language::C, false) => "double",
        (Language::Rust, true) => "f32",
        (Language::Rust, false) => "f64",
    };
    let s = Syntax { lang, ty, f32 };
    let (net, meta) = (&model.network, &model.meta);
    let classify = is_classifier(meta);
    let (n_in, n_out) = (net.inputs(), net.outputs());
    let classes = n_out.max(2);
    let width = if classify { classes } else { n_out };
    let double = if lang == Language::C { "double" } else { "f64" };
    let mut out = String::new();
    let comment = if lang == Language::C { " *" } else { "//!" };
    let open = if lang == Language::C { "/*" } else { "//!" };
    let _ = writeln!(
        out,
        "{open} An mlp network, {} ({ty} layers), exported by mlp {} (`mlp export`).",
        net.describe(),
        env!("CARGO_PKG_VERSION")
    );
    let api = match (lang, classify) {
        (Language::C, true) => {
            format!("int mlp_predict(const double input[{n_in}], double probabilities[{classes}])")
        }
        (Language::C, false) => {
            format!("int mlp_predict(const double input[{n_in}], double output[{n_out}])")
        }
        (Language::Rust, true) => {
            format!("predict(&[f64; {n_in}], &mut [f64; {classes}]) -> usize")
        }
        (Language::Rust, false) => format!("predict(&[f64; {n_in}], &mut [f64; {n_out}]) -> usize"),
    };
    let _ = writeln!(
        out,
        "{comment}\n{comment} {api}: inputs are the encoded columns in original units"
    );
    let _ =
        writeln!(out, "{comment} (text columns one-hot), scaled here as the model was trained;");
    if classify {
        let _ = writeln!(
            out,
            "{comment} it writes the class probabilities and returns the most probable class."
        );
    } else {
        let _ = writeln!(out, "{comment} it writes the outputs in original units and returns 0.");
    }
    let _ = writeln!(
        out,
        "{comment} No allocation, no dependency but the platform's math library (libm),"
    );
    let _ = writeln!(
        out,
        "{comment} which the Rust version declares itself, so it also compiles under no_std."
    );
    if lang == Language::C {
        out.push_str(" */\n#include <math.h>\n\n");
    } else {
        out.push_str("\n#![allow(unused_parens, clippy::all, clippy::pedantic)]\n\n");
    }
    let constant = |out: &mut String, name: &str, value: usize| {
        let _ = match lang {
            Language::C => writeln!(out, "#define {name} {value}"),
            Language::Rust => writeln!(out, "pub const {name}: usize = {value};"),
        };
    };
    let prefix = if lang == Language::C { "MLP_" } else { "" };
    constant(&mut out, &format!("{prefix}INPUTS"), n_in);
    constant(&mut out, &format!("{prefix}OUTPUTS"), width);
    if classify {
        let labels: Vec<String> = (0..classes).map(|k| format!("{:?}", label(meta, k))).collect();
        match lang {
            Language::C => {
                let _ = writeln!(
                    out,
                    "const char *const mlp_labels[{classes}] = {{{}}};",
                    labels.join(", ")
                );
            }
            Language::Rust => {
                let _ =
                    writeln!(out, "pub const LABELS: [&str; {classes}] = [{}];", labels.join(", "));
            }
        }
    }
    let lit = |v: &F| s.lit(*v);
    let lit64 = |v: &f64| s.lit64(*v);
    let upper =
        |name: &str| if lang == Language::Rust { name.to_uppercase() } else { name.to_string() };
    for i in 0..net.depth() {
        let layer = net.layer(model.params.as_slice(), i);
        s.array(
            &mut out,
            &upper(&format!("mlp_w{i}")),
            ty,
            &layer.weight.iter().map(lit).collect::<Vec<_>>(),
        );
        s.array(
            &mut out,
            &upper(&format!("mlp_b{i}")),
            ty,
            &layer.bias.iter().map(lit).collect::<Vec<_>>(),
        );
    }
    for (name, scaler) in [("mlp_in", &meta.input_scaler), ("mlp_out", &meta.target_scaler)] {
        if let Some(sc) = scaler.as_ref().filter(|_| name == "mlp_in" || !classify) {
            s.array(
                &mut out,
                &upper(&format!("{name}_offset")),
                double,
                &sc.offset.iter().map(lit64).collect::<Vec<_>>(),
            );
            s.array(
                &mut out,
                &upper(&format!("{name}_spread")),
                double,
                &sc.spread.iter().map(lit64).collect::<Vec<_>>(),
            );
        }
    }
    // The math library, declared for Rust.
    let used = net.activations().iter().any(|&a| !functions(a).is_empty()) || classify;
    if lang == Language::Rust && used {
        // (safe wrapper, C function, type): the activations' in the layer
        // type, and `exp` in f64 for the probabilities.
        let suffix = if f32 { "f" } else { "" };
        let mut wrappers: Vec<(String, String, &str)> = net
            .activations()
            .iter()
            .flat_map(|&a| functions(a).iter())
            .map(|name| (format!("{name}{suffix}"), format!("{name}{suffix}"), ty))
            .collect();
        if classify {
            wrappers.push(("exp64".into(), "exp".into(), "f64"));
        }
        wrappers.sort();
        wrappers.dedup();
        let mut externs: Vec<(&str, &str)> =
            wrappers.iter().map(|(_, c, t)| (c.as_str(), *t)).collect();
        externs.sort_unstable();
        externs.dedup();
        out.push_str("\n/// The platform's C math library (libm), which also exists without `std`.\nmod libm {\n    unsafe extern \"C\" {\n");
        for (c, t) in externs {
            let _ = writeln!(out, "        pub fn {c}(x: {t}) -> {t};");
        }
        out.push_str("    }\n}\n");
        for (wrapper, c, t) in &wrappers {
            let _ = writeln!(
                out,
                "\n#[inline]\nfn {wrapper}(x: {t}) -> {t} {{\n    unsafe {{ libm::{c}(x) }}\n}}"
            );
        }
    }
    // The function.
    let max_width = net.widths().iter().copied().max().unwrap_or(1);
    let output_name = if classify { "probabilities" } else { "output" };
    let _ = match lang {
        Language::C => writeln!(
            out,
            "\nint mlp_predict(const double input[{n_in}], double {output_name}[{width}]) {{\n    {ty} a[{max_width}], b[{max_width}];"
        ),
        Language::Rust => writeln!(
            out,
            "\n/// See the file's documentation.\npub fn predict(input: &[f64; {n_in}], {output_name}: &mut [f64; {width}]) -> usize {{\n    let mut a = [0.0_{ty}; {max_width}];\n    let mut b = [0.0_{ty}; {max_width}];"
        ),
    };
    let for_loop = |var: &str, n: usize| match lang {
        Language::C => format!("for (int {var} = 0; {var} < {n}; {var}++)"),
        Language::Rust => format!("for {var} in 0..{n}"),
    };
    let cast = |expr: &str, to: &str| match lang {
        Language::C => format!("({to})({expr})"),
        Language::Rust => format!("({expr}) as {to}"),
    };
    // Inputs, scaled in f64 then rounded to the layer type.
    let scaled = if meta.input_scaler.is_some() {
        format!("(input[j] - {}[j]) / {}[j]", upper("mlp_in_offset"), upper("mlp_in_spread"))
    } else {
        "input[j]".to_string()
    };
    let _ = writeln!(out, "    {} {{ a[j] = {}; }}", for_loop("j", n_in), cast(&scaled, ty));
    for i in 0..net.depth() {
        let (inputs, outputs) = (net.widths()[i], net.widths()[i + 1]);
        let activation = net.activations()[i];
        let _ = writeln!(out, "    // layer {i}: {activation}, then {outputs} x {inputs}");
        if activation != Activation::Identity {
            let expr = expression::<F>(&s, activation);
            let _ =
                writeln!(out, "    {} {{ let x = a[j]; a[j] = {expr}; }}", for_loop("j", inputs));
        }
        let (w, bias) = (upper(&format!("mlp_w{i}")), upper(&format!("mlp_b{i}")));
        let zero = s.lit(F::zero());
        let _ = writeln!(
            out,
            "    {} {{ {} acc = {zero}; {} {{ acc += {w}[o * {inputs} + j] * a[j]; }} b[o] = acc + {bias}[o]; }}",
            for_loop("o", outputs),
            if lang == Language::C { ty.to_string() } else { "let mut".to_string() },
            for_loop("j", inputs),
        );
        let _ = writeln!(out, "    {} {{ a[j] = b[j]; }}", for_loop("j", outputs));
    }
    // The head, in f64.
    let exp64 = |arg: &str| match (lang, f32) {
        (Language::C, _) => format!("exp({arg})"),
        (Language::Rust, _) => format!("exp64({arg})"),
    };
    let a64 = |idx: &str| cast(&format!("a[{idx}]"), double);
    let let_ = |name: &str| match lang {
        Language::C => format!("double {name}"),
        Language::Rust => format!("let mut {name}: f64"),
    };
    if !classify {
        let value = match &meta.target_scaler {
            Some(_) => format!(
                "{} * {}[j] + {}[j]",
                a64("j"),
                upper("mlp_out_spread"),
                upper("mlp_out_offset")
            ),
            None => a64("j"),
        };
        let _ = writeln!(
            out,
            "    {} {{ output[j] = {value}; }}\n    return 0;\n}}",
            for_loop("j", n_out)
        );
        if lang == Language::C {
            out = out.replace("let x = a[j]; a[j] =", &format!("{ty} x = a[j]; a[j] ="));
        }
        return out;
    }
    if n_out == 1 {
        let _ = writeln!(
            out,
            "    {} = 1.0 / (1.0 + {});\n    probabilities[0] = 1.0 - p;\n    probabilities[1] = p;",
            if lang == Language::C { "double p" } else { "let p: f64" },
            exp64(&format!("-{}", a64("0")))
        );
    } else {
        let _ = writeln!(out, "    {} = {};", let_("max"), a64("0"));
        let _ = writeln!(
            out,
            "    {} {{ if {} > max {{ max = {}; }} }}",
            for_loop("k", n_out),
            a64("k"),
            a64("k")
        );
        let _ = writeln!(out, "    {} = 0.0;", let_("sum"));
        let _ = writeln!(
            out,
            "    {} {{ probabilities[k] = {}; sum += probabilities[k]; }}",
            for_loop("k", n_out),
            exp64(&format!("{} - max", a64("k")))
        );
        let _ = writeln!(out, "    {} {{ probabilities[k] /= sum; }}", for_loop("k", n_out));
    }
    let _ = writeln!(
        out,
        "    {} = 0;\n    {} {{ if probabilities[k] > probabilities[best] {{ best = k; }} }}\n    return best;\n}}",
        match lang {
            Language::C => "int best".to_string(),
            Language::Rust => "let mut best: usize".to_string(),
        },
        for_loop("k", classes)
    );
    if lang == Language::C {
        out = out.replace("let x = a[j]; a[j] =", &format!("{ty} x = a[j]; a[j] ="));
        out = out.replace(
            "if probabilities[k] > probabilities[best] {",
            "if (probabilities[k] > probabilities[best]) {",
        );
        out = out
            .replace(&format!("if {} > max {{", a64("k")), &format!("if ({} > max) {{", a64("k")));
    }
    out
}
