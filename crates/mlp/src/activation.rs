//! Element-wise nonlinearities φ, each with its exact derivative φ′ beside it.
//!
//! A layer applies its activation to its *input*, before the affine map
//! (MATH.md §1, (19)): `x^l = b^l + w^l Φ^l(x^{l-1})`. The derivative is the
//! diagonal of `DΦ^l` in (18).
//!
//! The scalar functions [`Activation::value`] and [`Activation::derivative`]
//! are the single source of truth; the slice versions used by the batched
//! code ([`Activation::apply`], [`Activation::backprop`]) dispatch once and
//! run the same formulas in a tight loop.
//!
//! # Derivatives at kinks
//!
//! As PyTorch does: `relu′(0) = 0`, `leaky_relu′(0) = slope`,
//! `elu′(0) = alpha`, `selu′(0) = scale * alpha` (the left-hand derivative for
//! all but relu, whose derivative at 0 is taken as 0). Everywhere else the
//! derivative is exact up to rounding.

use core::fmt;
use core::str::FromStr;

use crate::error::Error;
use crate::float::Float;
use crate::simd::{FusedKernel, fused, vectorised_fused};

/// SELU's λ (Klambauer et al., 2017), as in PyTorch.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// SELU's α (Klambauer et al., 2017), as in PyTorch.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// Default negative slope of [`Activation::LeakyRelu`] (PyTorch's).
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

const FRAC_1_SQRT_2: f64 = core::f64::consts::FRAC_1_SQRT_2;
/// 1 / sqrt(2 pi), the standard normal density at 0.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// sqrt(2 / pi), the constant inside the tanh form of GELU.
pub(crate) const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
pub(crate) const GELU_TANH_CUBIC: f64 = 0.044_715;

/// The element-wise nonlinearity φ a layer applies to its input (MATH.md (19)).
///
/// Written in files and on the command line by its [`Display`](fmt::Display)
/// form: the snake-case name, with a non-default parameter after a colon
/// (`leaky_relu:0.2`, `elu:0.5`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// `x`.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, else `slope * x`.
    LeakyRelu {
        /// The slope for negative inputs (default 0.01).
        slope: f64,
    },
    /// `x` for `x > 0`, else `alpha * (exp(x) - 1)`.
    Elu {
        /// The saturation value for large negative inputs (default 1).
        alpha: f64,
    },
    /// `scale * elu_alpha(x)` with the fixed constants [`SELU_SCALE`], [`SELU_ALPHA`].
    Selu,
    /// `x * Φ(x)` with Φ the standard normal CDF, exact (`erf`) form.
    Gelu,
    /// The tanh approximation of GELU,
    /// `x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`, as a function in its own right.
    GeluTanh,
    /// `x * sigmoid(x)` (also called swish).
    Silu,
    /// `ln(1 + exp(x))`, computed without overflow.
    Softplus,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + exp(-x))`, computed without overflow.
    Sigmoid,
    /// `sin(x)`.
    Sin,
    /// `exp(-x^2)`.
    Gaussian,
}

/// Every activation name [`Activation::from_str`] accepts.
pub const ACTIVATION_NAMES: &str = "identity, relu, leaky_relu[:slope], elu[:alpha], selu, gelu, \
     gelu_tanh, silu, softplus, tanh, sigmoid, sin, gaussian";

impl Activation {
    /// Every variant once, with default parameters (for tests and listings).
    pub const ALL: [Activation; 13] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu { slope: LEAKY_RELU_SLOPE },
        Activation::Elu { alpha: 1.0 },
        Activation::Selu,
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::Silu,
        Activation::Softplus,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Sin,
        Activation::Gaussian,
    ];

    /// The snake-case name, without parameters.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Relu => "relu",
            Self::LeakyRelu { .. } => "leaky_relu",
            Self::Elu { .. } => "elu",
            Self::Selu => "selu",
            Self::Gelu => "gelu",
            Self::GeluTanh => "gelu_tanh",
            Self::Silu => "silu",
            Self::Softplus => "softplus",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Sin => "sin",
            Self::Gaussian => "gaussian",
        }
    }

    /// Whether φ′ is discontinuous somewhere (at 0): finite differences across
    /// such a point do not converge to φ′.
    pub fn has_kink(self) -> bool {
        match self {
            Self::Relu | Self::Selu => true,
            Self::LeakyRelu { slope } => slope != 1.0,
            Self::Elu { alpha } => alpha != 1.0,
            _ => false,
        }
    }

    /// φ(x), with the bits the batched passes compute on this CPU: their
    /// multiply-adds are fused where it has FMA (AVX2 and AVX-512 CPUs do).
    #[inline]
    pub fn value<F: Float>(self, x: F) -> F {
        if fused() { self.value_with::<F, true>(x) } else { self.value_with::<F, false>(x) }
    }

    /// φ(x), multiply-adds fused if `FUSED`: what the kernels inline.
    #[inline(always)]
    pub(crate) fn value_with<F: Float, const FUSED: bool>(self, x: F) -> F {
        let zero = F::zero();
        match self {
            Self::Identity => x,
            Self::Relu => x.max(zero),
            Self::LeakyRelu { slope } => {
                if x > zero {
                    x
                } else {
                    F::cast(slope) * x
                }
            }
            Self::Elu { alpha } => {
                if x > zero {
                    x
                } else {
                    F::cast(alpha) * F::exp_m1_vectorisable::<FUSED>(x)
                }
            }
            Self::Selu => {
                let scale = F::cast(SELU_SCALE);
                if x > zero {
                    scale * x
                } else {
                    scale * F::cast(SELU_ALPHA) * F::exp_m1_vectorisable::<FUSED>(x)
                }
            }
            // x Φ(x), Φ(x) = erfc(-x / sqrt 2) / 2: no cancellation for x < 0.
            Self::Gelu => x * normal_cdf::<F, FUSED>(x),
            Self::GeluTanh => {
                let t = F::tanh_vectorisable::<FUSED>(gelu_tanh_inner(x));
                F::cast(0.5) * x * (F::one() + t)
            }
            Self::Silu => x * sigmoid::<F, FUSED>(x),
            Self::Softplus => {
                x.max(zero)
                    + F::ln_1p_unit_vectorisable::<FUSED>(F::exp_vectorisable::<FUSED>(-x.abs()))
            }
            Self::Tanh => F::tanh_vectorisable::<FUSED>(x),
            Self::Sigmoid => sigmoid::<F, FUSED>(x),
            Self::Sin => x.sin(),
            Self::Gaussian => F::exp_vectorisable::<FUSED>(-x * x),
        }
    }

    /// φ′(x): the diagonal of `DΦ` in (18). At kinks, see the [module docs](self).
    #[inline]
    pub fn derivative<F: Float>(self, x: F) -> F {
        self.derivative_given(x, self.value(x))
    }

    /// φ′(x) given `y = φ(x)`, for the activations whose derivative is
    /// cheapest from their value (tanh, sigmoid); equal to
    /// [`derivative`](Self::derivative) bit for bit when `y` is `φ(x)`.
    #[inline]
    pub fn derivative_given<F: Float>(self, x: F, y: F) -> F {
        if fused() {
            self.derivative_given_with::<F, true>(x, y)
        } else {
            self.derivative_given_with::<F, false>(x, y)
        }
    }

    /// φ′(x) given `y = φ(x)`, multiply-adds fused if `FUSED`.
    #[inline(always)]
    pub(crate) fn derivative_given_with<F: Float, const FUSED: bool>(self, x: F, y: F) -> F {
        let zero = F::zero();
        let one = F::one();
        match self {
            Self::Identity => one,
            Self::Relu => {
                if x > zero {
                    one
                } else {
                    zero
                }
            }
            Self::LeakyRelu { slope } => {
                if x > zero {
                    one
                } else {
                    F::cast(slope)
                }
            }
            Self::Elu { alpha } => {
                if x > zero {
                    one
                } else {
                    F::cast(alpha) * F::exp_vectorisable::<FUSED>(x)
                }
            }
            Self::Selu => {
                let scale = F::cast(SELU_SCALE);
                if x > zero {
                    scale
                } else {
                    scale * F::cast(SELU_ALPHA) * F::exp_vectorisable::<FUSED>(x)
                }
            }
            // d/dx [x Φ(x)] = Φ(x) + x φ(x), with φ the standard normal density.
            Self::Gelu => {
                normal_cdf::<F, FUSED>(x)
                    + x * F::cast(FRAC_1_SQRT_2PI)
                        * F::exp_vectorisable::<FUSED>(F::cast(-0.5) * x * x)
            }
            Self::GeluTanh => {
                let t = F::tanh_vectorisable::<FUSED>(gelu_tanh_inner(x));
                let inner_prime =
                    F::cast(SQRT_2_OVER_PI) * (one + F::cast(3.0 * GELU_TANH_CUBIC) * x * x);
                F::cast(0.5) * (one + t) + F::cast(0.5) * x * (one - t * t) * inner_prime
            }
            Self::Silu => {
                let s = sigmoid::<F, FUSED>(x);
                s * (one + x * (one - s))
            }
            Self::Softplus => sigmoid::<F, FUSED>(x),
            Self::Tanh => one - y * y,
            Self::Sigmoid => y * (one - y),
            Self::Sin => x.cos(),
            Self::Gaussian => F::cast(-2.0) * x * y,
        }
    }

    /// `y[k] = φ(x[k])`.
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn apply<F: Float>(self, x: &[F], y: &mut [F]) {
        assert_eq!(x.len(), y.len(), "Activation::apply: slice lengths");
        if self == Self::Identity {
            y.copy_from_slice(x);
        } else {
            vectorised_fused(Apply { activation: self, x, y });
        }
    }

    /// For each row `x_r` of `x` (`bias.len()` wide): `x_r += bias`, then
    /// `y_r = φ(x_r)`, in one pass; with `y` empty, only the bias is added.
    /// This finishes one layer of (19) and starts the next.
    ///
    /// # Panics
    /// If `x.len()` is not a multiple of `bias.len()`, or `y` is neither empty
    /// nor as long as `x`.
    pub(crate) fn add_bias_and_apply<F: Float>(self, bias: &[F], x: &mut [F], y: &mut [F]) {
        let width = bias.len();
        assert!(width > 0 && x.len().is_multiple_of(width), "add_bias_and_apply: shape");
        assert!(y.is_empty() || x.len() == y.len(), "add_bias_and_apply: slice lengths");
        vectorised_fused(BiasApply { activation: self, bias, x, y });
    }

    /// As [`add_bias_and_apply`](Self::add_bias_and_apply) for a layer with
    /// one input, whose product is an outer product: `x[r][j] = column[r]
    /// weight[j] + bias[j]` is written in the same pass (the same roundings
    /// as the product, one term, then the bias).
    ///
    /// # Panics
    /// If `x` is not `column.len() x bias.len()`, `weight` not as long as
    /// `bias`, or `y` neither empty nor as long as `x`.
    pub(crate) fn outer_bias_and_apply<F: Float>(
        self,
        (column, weight): (&[F], &[F]),
        bias: &[F],
        x: &mut [F],
        y: &mut [F],
    ) {
        let width = bias.len();
        assert!(weight.len() == width && x.len() == column.len() * width, "outer: shape");
        assert!(y.is_empty() || x.len() == y.len(), "outer_bias_and_apply: slice lengths");
        vectorised_fused(OuterBiasApply { activation: self, column, weight, bias, x, y });
    }

    /// `g[r][j] = column[r] weight[j] φ′(x[r][j])`: (18) through a layer with
    /// one output, whose `Δ W` is an outer product, in one pass.
    ///
    /// # Panics
    /// If `g` is not `column.len() x weight.len()`, or `x`, `y` differ from it
    /// in length.
    pub(crate) fn outer_backprop<F: Float>(
        self,
        (column, weight): (&[F], &[F]),
        x: &[F],
        y: &[F],
        g: &mut [F],
    ) {
        assert_eq!(g.len(), column.len() * weight.len(), "outer_backprop: shape");
        assert!(x.len() == g.len() && y.len() == g.len(), "outer_backprop: slice lengths");
        vectorised_fused(OuterBackprop { activation: self, column, weight, x, y, g });
    }

    /// `g[k] *= φ′(x[k])`, given `y = φ(x)`: one step of (18) on a batch,
    /// `Δ^{l-1} = (Δ^l W^l) ⊙ Φ′(X^{l-1})` (MATH.md §5).
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn backprop<F: Float>(self, x: &[F], y: &[F], g: &mut [F]) {
        assert!(x.len() == g.len() && y.len() == g.len(), "Activation::backprop: slice lengths");
        if self != Self::Identity {
            vectorised_fused(Backprop { activation: self, x, y, g });
        }
    }
}

/// Runs `$body` with `$a` bound to `$activation`, as a constant for the
/// common variants: one match outside the loop, so each arm's loop has its
/// formula inlined and vectorises.
macro_rules! specialise {
    ($activation:expr, |$a:ident| $body:expr) => {
        specialise!(@arms $activation, $a, $body, [Relu, Tanh, Sigmoid, Identity, Silu, Gelu, Softplus])
    };
    (@arms $activation:expr, $a:ident, $body:expr, [$($variant:ident),*]) => {
        match $activation {
            $(Activation::$variant => {
                let $a = Activation::$variant;
                $body
            })*
            Activation::Elu { alpha } => {
                let $a = Activation::Elu { alpha };
                $body
            }
            other => {
                let $a = other;
                $body
            }
        }
    };
}

/// `y = φ(x)` as a [`FusedKernel`]: callers already inside a vectorised kernel
/// run it directly (it is inlined there) instead of dispatching again.
pub(crate) struct Apply<'a, F> {
    pub(crate) activation: Activation,
    pub(crate) x: &'a [F],
    pub(crate) y: &'a mut [F],
}

impl<F: Float> FusedKernel for Apply<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let Self { activation, x, y } = self;
        specialise!(activation, |a| for (yk, &xk) in y.iter_mut().zip(x) {
            *yk = a.value_with::<F, FUSED>(xk);
        });
    }
}

struct BiasApply<'a, F> {
    activation: Activation,
    bias: &'a [F],
    x: &'a mut [F],
    y: &'a mut [F],
}

impl<F: Float> FusedKernel for BiasApply<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let Self { activation, bias, x, y } = self;
        let width = bias.len();
        if y.is_empty() {
            for row in x.chunks_exact_mut(width) {
                for (v, &b) in row.iter_mut().zip(bias) {
                    *v = *v + b;
                }
            }
            return;
        }
        specialise!(activation, |a| for (row, out) in
            x.chunks_exact_mut(width).zip(y.chunks_exact_mut(width))
        {
            for ((v, o), &b) in row.iter_mut().zip(out).zip(bias) {
                *v = *v + b;
                *o = a.value_with::<F, FUSED>(*v);
            }
        });
    }
}

struct Backprop<'a, F> {
    activation: Activation,
    x: &'a [F],
    y: &'a [F],
    g: &'a mut [F],
}

impl<F: Float> FusedKernel for Backprop<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let Self { activation, x, y, g } = self;
        specialise!(activation, |a| for ((gk, &xk), &yk) in g.iter_mut().zip(x).zip(y) {
            *gk = *gk * a.derivative_given_with::<F, FUSED>(xk, yk);
        });
    }
}

struct OuterBiasApply<'a, F> {
    activation: Activation,
    column: &'a [F],
    weight: &'a [F],
    bias: &'a [F],
    x: &'a mut [F],
    y: &'a mut [F],
}

impl<F: Float> FusedKernel for OuterBiasApply<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let Self { activation, column, weight, bias, x, y } = self;
        let width = bias.len();
        if y.is_empty() {
            for (row, &c) in x.chunks_exact_mut(width).zip(column) {
                for ((v, &w), &b) in row.iter_mut().zip(weight).zip(bias) {
                    *v = c * w + b;
                }
            }
            return;
        }
        let rows = x.chunks_exact_mut(width).zip(y.chunks_exact_mut(width)).zip(column);
        specialise!(activation, |a| for ((row, out), &c) in rows {
            for (((v, o), &w), &b) in row.iter_mut().zip(out).zip(weight).zip(bias) {
                *v = c * w + b;
                *o = a.value_with::<F, FUSED>(*v);
            }
        });
    }
}

struct OuterBackprop<'a, F> {
    activation: Activation,
    column: &'a [F],
    weight: &'a [F],
    x: &'a [F],
    y: &'a [F],
    g: &'a mut [F],
}

impl<F: Float> FusedKernel for OuterBackprop<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let Self { activation, column, weight, x, y, g } = self;
        let width = weight.len();
        let rows = g.chunks_exact_mut(width).zip(x.chunks_exact(width)).zip(y.chunks_exact(width));
        specialise!(activation, |a| for (((g, x), y), &c) in rows.zip(column) {
            for (((gk, &w), &xk), &yk) in g.iter_mut().zip(weight).zip(x).zip(y) {
                *gk = c * w * a.derivative_given_with::<F, FUSED>(xk, yk);
            }
        });
    }
}

/// The logistic function, without overflow for inputs of any magnitude:
/// `1 / (1 + e^-x)` for `x >= 0`, `e^x / (1 + e^x)` below, with one `exp`
/// and a select, so that a loop over it vectorises.
#[inline(always)]
pub(crate) fn sigmoid<F: Float, const FUSED: bool>(x: F) -> F {
    let e = F::exp_vectorisable::<FUSED>(-x.abs());
    let numerator = if x >= F::zero() { F::one() } else { e };
    numerator / (F::one() + e)
}

/// Φ(x), the standard normal CDF, as `erfc(-x / sqrt 2) / 2`.
#[inline(always)]
fn normal_cdf<F: Float, const FUSED: bool>(x: F) -> F {
    F::cast(0.5) * F::erfc_vectorisable::<FUSED>(-x * F::cast(FRAC_1_SQRT_2))
}

#[inline(always)]
fn gelu_tanh_inner<F: Float>(x: F) -> F {
    F::cast(SQRT_2_OVER_PI) * (x + F::cast(GELU_TANH_CUBIC) * x * x * x)
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::LeakyRelu { slope } if slope != LEAKY_RELU_SLOPE => {
                write!(f, "leaky_relu:{slope}")
            }
            Self::Elu { alpha } if alpha != 1.0 => write!(f, "elu:{alpha}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Activation {
    type Err = Error;

    /// Parses the [`Display`](fmt::Display) form: a name, and for `leaky_relu`
    /// and `elu` an optional `:parameter`. Underscores and hyphens are interchangeable.
    fn from_str(s: &str) -> Result<Self, Error> {
        let unknown = || Error::UnknownActivation { name: s.to_owned(), known: ACTIVATION_NAMES };
        let normalised = s.trim().to_ascii_lowercase().replace('-', "_");
        let (name, parameter) = match normalised.split_once(':') {
            Some((name, p)) => {
                let value: f64 = p.trim().parse().map_err(|_| unknown())?;
                if !value.is_finite() {
                    return Err(unknown());
                }
                (name.trim().to_owned(), Some(value))
            }
            None => (normalised, None),
        };
        let activation = match (name.as_str(), parameter) {
            ("leaky_relu", p) => Self::LeakyRelu { slope: p.unwrap_or(LEAKY_RELU_SLOPE) },
            ("elu", p) => Self::Elu { alpha: p.unwrap_or(1.0) },
            (_, Some(_)) => return Err(unknown()),
            (name, None) => *Self::ALL.iter().find(|a| a.name() == name).ok_or_else(unknown)?,
        };
        Ok(activation)
    }
}

impl serde::Serialize for Activation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Activation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
