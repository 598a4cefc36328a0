//! One self-contained C or Rust source file per model: the weights as
//! constants and a `predict` function that runs the whole prediction path
//! of [`crate::prediction::predict`] (scaling in `f64`, layers in the model's
//! type, outputs in `f64`), with no allocation and nothing but the
//! language's math library. Each activation is written as
//! [`Activation::value`](crate::Activation::value) computes it.

use std::fmt::Write as _;

mod syntax;

pub(crate) use syntax::Language;
use syntax::{Syntax, expression, functions};

use crate::activation::Activation;
use crate::float::Float;
use crate::model_file::Model;
use crate::prediction::{is_classifier, label};

/// The source file for `model` in `lang`.
pub(crate) fn to_source<F: Float>(model: &Model<F>, lang: Language) -> String {
    let f32 = F::NAME == "f32";
    let ty = match (lang, f32) {
        (Language::C, true) => "float",
        (Language::C, false) => "double",
        (Language::Rust, true) => "f32",
        (Language::Rust, false) => "f64",
    };
    let (n_in, n_out) = (model.network.inputs(), model.network.outputs());
    let classify = is_classifier(&model.meta);
    let classes = n_out.max(2);
    let source = Source {
        s: Syntax { lang, ty, f32 },
        model,
        classify,
        n_in,
        n_out,
        classes,
        width: if classify { classes } else { n_out },
        double: if lang == Language::C { "double" } else { "f64" },
    };
    let mut out = String::new();
    source.header(&mut out);
    source.constants(&mut out);
    if lang == Language::Rust {
        source.math_library(&mut out);
    }
    source.function(&mut out);
    out
}

/// What every part of the file needs.
struct Source<'m, F> {
    s: Syntax,
    model: &'m Model<F>,
    classify: bool,
    n_in: usize,
    n_out: usize,
    /// Classes (2 for one sigmoid output).
    classes: usize,
    /// The length of the output array.
    width: usize,
    /// The `f64` type's name.
    double: &'static str,
}

impl<F: Float> Source<'_, F> {
    /// Rust's constants are upper case.
    fn upper(&self, name: &str) -> String {
        if self.s.lang == Language::Rust { name.to_uppercase() } else { name.to_string() }
    }

    /// The comment that says what the file is and how to call it.
    fn header(&self, out: &mut String) {
        let Self { s, model, classify, n_in, n_out, classes, .. } = *self;
        let (lang, ty) = (s.lang, s.ty);
        let net = &model.network;
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
                format!(
                    "int mlp_predict(const double input[{n_in}], double probabilities[{classes}])"
                )
            }
            (Language::C, false) => {
                format!("int mlp_predict(const double input[{n_in}], double output[{n_out}])")
            }
            (Language::Rust, true) => {
                format!("predict(&[f64; {n_in}], &mut [f64; {classes}]) -> usize")
            }
            (Language::Rust, false) => {
                format!("predict(&[f64; {n_in}], &mut [f64; {n_out}]) -> usize")
            }
        };
        let _ = writeln!(
            out,
            "{comment}\n{comment} {api}: inputs are the encoded columns in original units"
        );
        let _ = writeln!(
            out,
            "{comment} (text columns one-hot), scaled here as the model was trained;"
        );
        if classify {
            let _ = writeln!(
                out,
                "{comment} it writes the class probabilities and returns the most probable class."
            );
        } else {
            let _ =
                writeln!(out, "{comment} it writes the outputs in original units and returns 0.");
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
    }

    /// Sizes, labels, weights and scalers.
    fn constants(&self, out: &mut String) {
        let Self { s, model, classify, n_in, classes, width, double, .. } = *self;
        let (lang, ty) = (s.lang, s.ty);
        let (net, meta) = (&model.network, &model.meta);
        let constant = |out: &mut String, name: &str, value: usize| {
            let _ = match lang {
                Language::C => writeln!(out, "#define {name} {value}"),
                Language::Rust => writeln!(out, "pub const {name}: usize = {value};"),
            };
        };
        let prefix = if lang == Language::C { "MLP_" } else { "" };
        constant(out, &format!("{prefix}INPUTS"), n_in);
        constant(out, &format!("{prefix}OUTPUTS"), width);
        if classify {
            let labels: Vec<String> =
                (0..classes).map(|k| format!("{:?}", label(meta, k))).collect();
            match lang {
                Language::C => {
                    let _ = writeln!(
                        out,
                        "const char *const mlp_labels[{classes}] = {{{}}};",
                        labels.join(", ")
                    );
                }
                Language::Rust => {
                    let _ = writeln!(
                        out,
                        "pub const LABELS: [&str; {classes}] = [{}];",
                        labels.join(", ")
                    );
                }
            }
        }
        let lit = |v: &F| s.lit(*v);
        let lit64 = |v: &f64| s.lit64(*v);
        for i in 0..net.depth() {
            let layer = net.layer(model.params.as_slice(), i);
            for (kind, values) in [("w", layer.weight), ("b", layer.bias)] {
                let name = self.upper(&format!("mlp_{kind}{i}"));
                s.array(out, &name, ty, &values.iter().map(lit).collect::<Vec<_>>());
            }
        }
        for (name, scaler) in [("mlp_in", &meta.input_scaler), ("mlp_out", &meta.target_scaler)] {
            if let Some(sc) = scaler.as_ref().filter(|_| name == "mlp_in" || !classify) {
                for (part, values) in [("offset", &sc.offset), ("spread", &sc.spread)] {
                    let name = self.upper(&format!("{name}_{part}"));
                    s.array(out, &name, double, &values.iter().map(lit64).collect::<Vec<_>>());
                }
            }
        }
    }

    /// Rust only: the libm functions used, declared, with safe wrappers.
    fn math_library(&self, out: &mut String) {
        let Self { s, model, classify, .. } = *self;
        let (lang, ty, f32) = (s.lang, s.ty, s.f32);
        let net = &model.network;
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
    }

    /// The predict function.
    fn function(&self, out: &mut String) {
        let Self { s, model, classify, n_in, n_out, classes, width, double, .. } = *self;
        let (lang, ty, f32) = (s.lang, s.ty, s.f32);
        let (net, meta) = (&model.network, &model.meta);
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
            format!(
                "(input[j] - {}[j]) / {}[j]",
                self.upper("mlp_in_offset"),
                self.upper("mlp_in_spread")
            )
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
                let x = s.var(false, "x", ty);
                let _ =
                    writeln!(out, "    {} {{ {x} = a[j]; a[j] = {expr}; }}", for_loop("j", inputs));
            }
            let (w, bias) = (self.upper(&format!("mlp_w{i}")), self.upper(&format!("mlp_b{i}")));
            let zero = s.lit(F::zero());
            let _ = writeln!(
                out,
                "    {} {{ {} = {zero}; {} {{ acc += {w}[o * {inputs} + j] * a[j]; }} b[o] = acc + {bias}[o]; }}",
                for_loop("o", outputs),
                s.var(true, "acc", ty),
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
        if !classify {
            let value = match &meta.target_scaler {
                Some(_) => format!(
                    "{} * {}[j] + {}[j]",
                    a64("j"),
                    self.upper("mlp_out_spread"),
                    self.upper("mlp_out_offset")
                ),
                None => a64("j"),
            };
            let _ = writeln!(
                out,
                "    {} {{ output[j] = {value}; }}\n    return 0;\n}}",
                for_loop("j", n_out)
            );
            return;
        }
        if n_out == 1 {
            let _ = writeln!(
                out,
                "    {} = 1.0 / (1.0 + {});\n    probabilities[0] = 1.0 - p;\n    probabilities[1] = p;",
                s.var(false, "p", double),
                exp64(&format!("-{}", a64("0")))
            );
        } else {
            let _ = writeln!(out, "    {} = {};", s.var(true, "max", double), a64("0"));
            let _ = writeln!(
                out,
                "    {} {{ {} {{ max = {}; }} }}",
                for_loop("k", n_out),
                s.if_(&format!("{} > max", a64("k"))),
                a64("k")
            );
            let _ = writeln!(out, "    {} = 0.0;", s.var(true, "sum", double));
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
            "    {} = 0;\n    {} {{ {} {{ best = k; }} }}\n    return best;\n}}",
            s.var(true, "best", if lang == Language::C { "int" } else { "usize" }),
            for_loop("k", classes),
            s.if_("probabilities[k] > probabilities[best]"),
        );
    }
}
