#!/usr/bin/env python3
"""Golden values for mlp's tests, computed independently with JAX in float64.

Writes tests/data/golden/*.json: for a few fixed networks (parameters and
data drawn here with NumPy, stored in the file), the outputs, the loss, the
gradient with respect to every parameter and to the inputs, and the input
Jacobian, all by JAX's own autodiff. Also writes rng.json: the first values of
mlp's documented random streams (xoshiro256++ seeded by SplitMix64) and of
Xavier-uniform initialisation, transcribed here from the documentation.

Rerun (from the repository root), then `cargo test -p mlp --test it golden`:

    python3 -m venv /tmp/golden-venv
    /tmp/golden-venv/bin/pip install jax==0.10.2 numpy
    /tmp/golden-venv/bin/python crates/mlp/tests/data/gen_golden.py

The layout of parameters is mlp's: for each layer, the weight [out, in]
row-major, then the bias. Layer i applies its activation to its input x^i
before the affine map (MATH.md (19)).
"""

import json
import math
import os

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def activation(name):
    """mlp's activation names (Display form) -> JAX functions."""
    if name.startswith("leaky_relu"):
        slope = float(name.split(":")[1]) if ":" in name else 0.01
        return lambda x: jnp.where(x > 0, x, slope * x)
    if name.startswith("elu"):
        alpha = float(name.split(":")[1]) if ":" in name else 1.0
        return lambda x: jnp.where(x > 0, x, alpha * jnp.expm1(x))
    return {
        "identity": lambda x: x,
        "relu": jax.nn.relu,
        "selu": lambda x: SELU_SCALE * jnp.where(x > 0, x, SELU_ALPHA * jnp.expm1(x)),
        "gelu": lambda x: jax.nn.gelu(x, approximate=False),
        "gelu_tanh": lambda x: jax.nn.gelu(x, approximate=True),
        "silu": jax.nn.silu,
        "softplus": jax.nn.softplus,
        "tanh": jnp.tanh,
        "sigmoid": jax.nn.sigmoid,
        "sin": jnp.sin,
        "gaussian": lambda x: jnp.exp(-x * x),
    }[name]


def loss_fn(name, out, targets):
    if name == "sse":
        return jnp.sum((out - targets) ** 2)
    if name == "mse":
        return jnp.mean((out - targets) ** 2)
    if name == "cross_entropy":
        lse = jax.nn.logsumexp(out, axis=1)
        picked = jnp.take_along_axis(out, targets[:, None], axis=1)[:, 0]
        return jnp.mean(lse - picked)
    if name == "binary_cross_entropy":
        return jnp.mean(jnp.maximum(out, 0) - out * targets + jnp.log1p(jnp.exp(-jnp.abs(out))))
    raise ValueError(name)


def unflatten(widths, flat):
    layers, k = [], 0
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        w = flat[k : k + n_out * n_in].reshape(n_out, n_in)
        k += n_out * n_in
        b = flat[k : k + n_out]
        k += n_out
        layers.append((w, b))
    return layers


def forward(widths, acts, flat, x):
    for (w, b), act in zip(unflatten(widths, flat), acts):
        x = activation(act)(x) @ w.T + b
    return x


def case(name, widths, acts, loss, batch, seed):
    rng = np.random.default_rng(seed)
    n_params = sum(o * (i + 1) for i, o in zip(widths[:-1], widths[1:]))
    params = rng.normal(0.0, 0.6, n_params)
    x = rng.normal(0.0, 1.0, (batch, widths[0]))
    if loss == "cross_entropy":
        targets = rng.integers(0, widths[-1], batch)
        stored = {"classes": targets.tolist()}
    elif loss == "binary_cross_entropy":
        targets = rng.uniform(0.0, 1.0, (batch, widths[-1]))
        stored = {"values": targets.ravel().tolist()}
    else:
        targets = rng.normal(0.0, 1.0, (batch, widths[-1]))
        stored = {"values": targets.ravel().tolist()}
    p, xj, t = jnp.asarray(params), jnp.asarray(x), jnp.asarray(targets)

    def total(p, xj):
        return loss_fn(loss, forward(widths, acts, p, xj), t)

    value, (grad, input_grad) = jax.value_and_grad(total, argnums=(0, 1))(p, xj)
    out = forward(widths, acts, p, xj)
    # [B, n_L, n_0]: the Jacobian of each sample's outputs w.r.t. its inputs.
    jac = jax.vmap(jax.jacrev(lambda f: forward(widths, acts, p, f[None, :])[0]))(xj)
    data = {
        "name": name,
        "generator": f"JAX {jax.__version__}, float64",
        "widths": widths,
        "activations": acts,
        "loss": loss,
        "params": params.tolist(),
        "input": x.ravel().tolist(),
        "targets": stored,
        "output": np.asarray(out).ravel().tolist(),
        "loss_value": float(value),
        "gradient": np.asarray(grad).tolist(),
        "input_gradient": np.asarray(input_grad).ravel().tolist(),
        "input_jacobian": np.asarray(jac).ravel().tolist(),
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


# ---- mlp's random streams, transcribed from src/rng.rs's documentation ----
MASK = (1 << 64) - 1


def splitmix64(seed):
    z = seed
    while True:
        z = (z + 0x9E3779B97F4A7C15) & MASK
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
        yield x ^ (x >> 31)


class Xoshiro:
    def __init__(self, seed):
        g = splitmix64(seed)
        self.s = [next(g) for _ in range(4)]

    def next_u64(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
        result = (rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def normal(self):
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def rng_golden():
    r = Xoshiro(42)
    u64 = [r.next_u64() for _ in range(5)]
    r = Xoshiro(42)
    uniform = [r.uniform() for _ in range(5)]
    r = Xoshiro(42)
    normal = [r.normal() for _ in range(5)]
    # Xavier uniform for widths [3, 4, 2], seed 7, zero biases.
    r = Xoshiro(7)
    xavier = []
    for n_in, n_out in [(3, 4), (4, 2)]:
        a = math.sqrt(6.0 / (n_in + n_out))
        xavier += [-a + (a - -a) * r.uniform() for _ in range(n_in * n_out)] + [0.0] * n_out
    data = {
        "seed": 42,
        "next_u64": [str(v) for v in u64],
        "uniform": uniform,
        "normal": normal,
        "xavier_uniform_3_4_2_seed_7": xavier,
    }
    with open(os.path.join(OUT, "rng.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    case("sine_tanh_sse", [1, 8, 8, 1], ["identity", "tanh", "tanh"], "sse", 5, 1)
    case("classifier_relu_silu_ce", [4, 6, 6, 3], ["identity", "relu", "silu"], "cross_entropy", 6, 2)
    case("multilabel_gelu_sigmoid_bce", [3, 5, 4, 2], ["identity", "gelu", "sigmoid"], "binary_cross_entropy", 4, 3)
    case(
        "deep_every_other_activation_mse",
        [3, 5, 5, 5, 5, 5, 5, 5, 2],
        ["sin", "leaky_relu:0.1", "selu", "gelu_tanh", "softplus", "elu:0.7", "gaussian", "elu"],
        "mse",
        4,
        4,
    )
    case("wide_input_identity_first_sse", [6, 3, 2], ["tanh", "leaky_relu"], "sse", 3, 5)
    rng_golden()
    print("wrote", sorted(os.listdir(OUT)))
