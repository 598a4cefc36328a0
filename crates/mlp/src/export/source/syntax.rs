//! How C and Rust spell what a generated file says: literals, calls of the
//! math library, declarations, and each activation as an expression.

use std::fmt::Write as _;

use crate::activation::{Activation, GELU_TANH_CUBIC, SELU_ALPHA, SELU_SCALE, SQRT_2_OVER_PI};
use crate::float::Float;

/// The two target languages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    C,
    Rust,
}

/// The spelling of everything that differs between the languages.
#[derive(Clone, Copy)]
pub(crate) struct Syntax {
    pub(crate) lang: Language,
    /// The layer type: `double`/`f64` or `float`/`f32`.
    pub(crate) ty: &'static str,
    pub(crate) f32: bool,
}

impl Syntax {
    /// A literal of the layer type that reads back as exactly `v`.
    pub(crate) fn lit<F: Float>(&self, v: F) -> String {
        let text =
            if self.f32 { format!("{:?}", v.as_f64() as f32) } else { format!("{:?}", v.as_f64()) };
        match self.lang {
            Language::C if self.f32 => format!("{text}f"),
            Language::C => text,
            Language::Rust => format!("{text}_{}", self.ty),
        }
    }

    /// An `f64` literal.
    pub(crate) fn lit64(&self, v: f64) -> String {
        match self.lang {
            Language::C => format!("{v:?}"),
            Language::Rust => format!("{v:?}_f64"),
        }
    }

    /// A call of the math library's `name` (`tanh`, or `tanhf` for f32 in C and Rust).
    pub(crate) fn call(&self, name: &str, arg: &str) -> String {
        let f = if self.f32 { "f" } else { "" };
        format!("{name}{f}({arg})")
    }

    /// A variable declaration: `double x` or `let mut x: f64`.
    pub(crate) fn var(&self, mutable: bool, name: &str, ty: &str) -> String {
        match self.lang {
            Language::C => format!("{ty} {name}"),
            Language::Rust if mutable => format!("let mut {name}: {ty}"),
            Language::Rust => format!("let {name}: {ty}"),
        }
    }

    /// `if (condition)` or `if condition`.
    pub(crate) fn if_(&self, condition: &str) -> String {
        match self.lang {
            Language::C => format!("if ({condition})"),
            Language::Rust => format!("if {condition}"),
        }
    }

    pub(crate) fn select(&self, condition: &str, yes: &str, no: &str) -> String {
        match self.lang {
            Language::C => format!("({condition} ? {yes} : {no})"),
            Language::Rust => format!("(if {condition} {{ {yes} }} else {{ {no} }})"),
        }
    }

    /// `const` arrays of values.
    pub(crate) fn array(&self, out: &mut String, name: &str, ty: &str, values: &[String]) {
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
pub(crate) fn functions(activation: Activation) -> &'static [&'static str] {
    match activation {
        Activation::Elu { .. } | Activation::Selu => &["expm1"],
        Activation::Gelu => &["erfc"],
        Activation::GeluTanh | Activation::Tanh => &["tanh"],
        Activation::Silu | Activation::Sigmoid | Activation::Gaussian => &["exp"],
        Activation::Softplus => &["exp", "log1p"],
        Activation::Sin => &["sin"],
        Activation::Identity | Activation::Relu | Activation::LeakyRelu { .. } => &[],
    }
}

/// `activation(x)` as an expression of `x` (a variable of the layer type).
pub(crate) fn expression<F: Float>(s: &Syntax, activation: Activation) -> String {
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
            "x * ({} * {})",
            s.lit(F::cast(0.5)),
            s.call("erfc", &format!("-x * {}", s.lit(F::cast(std::f64::consts::FRAC_1_SQRT_2))))
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
