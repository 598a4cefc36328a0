//! Seeded initialisation of the parameters.

use super::{Network, Params};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::rng::Rng;

/// How weights are drawn. `fan_in = n_i`, `fan_out = n_{i+1}` for layer `i`;
/// every scale is multiplied by [`InitConfig::gain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Init {
    /// Glorot & Bengio (2010): uniform in `±sqrt(6 / (fan_in + fan_out))`.
    #[default]
    XavierUniform,
    /// Glorot & Bengio (2010): normal with standard deviation `sqrt(2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He et al. (2015): uniform in `±sqrt(6 / fan_in)`.
    HeUniform,
    /// He et al. (2015): normal with standard deviation `sqrt(2 / fan_in)`.
    HeNormal,
    /// `LeCun` et al. (1998): normal with standard deviation `sqrt(1 / fan_in)`.
    LecunNormal,
}

/// How biases are set.
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BiasInit {
    /// All zero (the default).
    #[default]
    Zeros,
    /// All equal to the value (e.g. a small positive value for ReLU networks).
    Constant(f64),
    /// Uniform in `±1/sqrt(fan_in)`, as PyTorch's `nn.Linear` does. Prefer
    /// it for low-dimensional regression: with zero biases every unit of the
    /// first hidden layer starts centred at the origin, and solvers first
    /// crawl along the plateau that symmetry creates.
    FanInUniform,
}

/// Initialisation settings: [`Init`] for weights, [`BiasInit`] for biases, and
/// a gain (1 by default; 5/3 is customary for tanh, sqrt(2) for ReLU with
/// Xavier).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InitConfig {
    /// How weights are drawn.
    pub weights: Init,
    /// How biases are set.
    pub biases: BiasInit,
    /// Multiplies every weight scale; must be positive and finite.
    pub gain: f64,
}

impl Default for InitConfig {
    fn default() -> Self {
        Self { weights: Init::default(), biases: BiasInit::default(), gain: 1.0 }
    }
}

impl From<Init> for InitConfig {
    fn from(weights: Init) -> Self {
        Self { weights, ..Self::default() }
    }
}

impl InitConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a gain that is not positive and finite or
    /// a bias constant that is not finite.
    pub fn validate(&self) -> Result<()> {
        if !(self.gain.is_finite() && self.gain > 0.0) {
            return Err(Error::InvalidConfig {
                field: "init.gain",
                reason: format!("must be positive and finite, got {}", self.gain),
            });
        }
        if let BiasInit::Constant(c) = self.biases
            && !c.is_finite()
        {
            return Err(Error::InvalidConfig {
                field: "init.biases",
                reason: format!("constant must be finite, got {c}"),
            });
        }
        Ok(())
    }
}

impl<F: Float> Params<F> {
    /// Fresh parameters drawn from one [`Rng`] stream seeded with `seed`: layer
    /// 0's weights in row-major order, then its biases (if random), then layer
    /// 1's, and so on. Each value is drawn in `f64` and rounded to `F`, so the
    /// `f32` parameters are the `f64` ones rounded. The same seed gives the
    /// same parameters on every platform and version (see [`Rng`]).
    ///
    /// # Errors
    /// As [`InitConfig::validate`].
    pub fn init(network: &Network, config: impl Into<InitConfig>, seed: u64) -> Result<Self> {
        let config = config.into();
        config.validate()?;
        // Refused here, rather than aborting the process on a failed allocation.
        let n = network.num_params();
        let mut values = Vec::new();
        values.try_reserve_exact(n).map_err(|_| Error::InvalidNetwork {
            reason: format!(
                "its {n} parameters ({:.1} GiB) do not fit in memory",
                (n * std::mem::size_of::<F>()) as f64 / (1u64 << 30) as f64
            ),
        })?;
        values.resize(n, F::zero());
        let mut params = Self::from_vec(network, values)?;
        let mut rng = Rng::new(seed);
        for i in 0..network.depth() {
            let layer = params.layer_mut(i);
            let (fan_in, fan_out) = (layer.inputs as f64, layer.outputs as f64);
            let g = config.gain;
            let mut draw: Box<dyn FnMut(&mut Rng) -> f64> = match config.weights {
                Init::XavierUniform => {
                    let a = g * (6.0 / (fan_in + fan_out)).sqrt();
                    Box::new(move |r| r.uniform_in(-a, a))
                }
                Init::XavierNormal => {
                    let s = g * (2.0 / (fan_in + fan_out)).sqrt();
                    Box::new(move |r| s * r.normal())
                }
                Init::HeUniform => {
                    let a = g * (6.0 / fan_in).sqrt();
                    Box::new(move |r| r.uniform_in(-a, a))
                }
                Init::HeNormal => {
                    let s = g * (2.0 / fan_in).sqrt();
                    Box::new(move |r| s * r.normal())
                }
                Init::LecunNormal => {
                    let s = g * (1.0 / fan_in).sqrt();
                    Box::new(move |r| s * r.normal())
                }
            };
            for w in layer.weight.iter_mut() {
                *w = F::cast(draw(&mut rng));
            }
            for b in layer.bias.iter_mut() {
                *b = F::cast(match config.biases {
                    BiasInit::Zeros => 0.0,
                    BiasInit::Constant(c) => c,
                    BiasInit::FanInUniform => {
                        let a = 1.0 / fan_in.sqrt();
                        rng.uniform_in(-a, a)
                    }
                });
            }
        }
        Ok(params)
    }
}
