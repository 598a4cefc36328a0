//! The floating-point types the library computes in: `f32` and `f64`, nothing else.

use core::fmt::{Debug, Display};
use core::iter::Sum;

use crate::elementary::Elementary;
use crate::linalg::Scalar;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point type the network computes in: implemented for `f32` and
/// `f64` only (the trait is sealed, as ndarray's `NdFloat` is).
///
/// Hyperparameters stay `f64` everywhere and are converted once with
/// [`Float::cast`], so no code needs fallible numeric casts.
pub trait Float:
    num_traits::Float
    + Debug
    + Display
    + Default
    + Sum
    + Send
    + Sync
    + 'static
    + Scalar
    + Elementary
    + sealed::Sealed
{
    /// The type's name as it appears in files and messages: `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest (exact for `f64`).
    fn cast(x: f64) -> Self;

    /// Converts to `f64` (exact for both types).
    fn as_f64(self) -> f64;

    /// The error function `erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt`,
    /// from the portable `libm` implementation (correct to about one ulp).
    fn erf(self) -> Self;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    #[inline]
    fn cast(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    #[inline]
    fn cast(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
}
