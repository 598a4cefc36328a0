//! The composition rule (5): `F^{c,0}(f) = F^{c,a}(F^{a,0}(f))`, bit for bit,
//! for every split point `a` and end `c`; and large batches, evaluated in
//! blocks of rows, give the same bits for any thread count, and so does
//! back-propagation through wide layers; `infer` gives the bits of `forward`.

use mlp::network::{ROW_BLOCK, reference};
use mlp::{Activation, Float, Init, Network, Params, Workspace};
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::support::{Problem, cases, config, max_rel_error};

fn check<F: Float>() {
    let mut runner = TestRunner::new(config(256));
    let result = runner.run(&cases(), |case| {
        let p = Problem::<F>::new(&case);
        let depth = p.net.depth();
        let mut ws = Workspace::new(&p.net, case.batch);
        let mut ws2 = Workspace::new(&p.net, case.batch);
        for c in 1..=depth {
            let whole = p.net.eval_range(&p.params, 0, c, &p.input, &mut ws).to_vec();
            if c == depth {
                let forward = p.net.forward(&p.params, &p.input, &mut ws2).to_vec();
                if bits(&forward) != bits(&whole) {
                    return Err(TestCaseError::fail("forward differs from F^{L,0}"));
                }
            }
            for a in 1..c {
                let inner = p.net.eval_range(&p.params, 0, a, &p.input, &mut ws).to_vec();
                let composed = p.net.eval_range(&p.params, a, c, &inner, &mut ws2);
                if bits(composed) != bits(&whole) {
                    return Err(TestCaseError::fail(format!(
                        "{}: F^{{{c},0}} != F^{{{c},{a}}} o F^{{{a},0}}",
                        p.net.describe()
                    )));
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn bits<F: Float>(v: &[F]) -> Vec<u64> {
    v.iter().map(|x| x.as_f64().to_bits()).collect()
}

#[test]
fn composition_rule_holds_bit_for_bit_in_f64() {
    check::<f64>();
}

#[test]
fn composition_rule_holds_bit_for_bit_in_f32() {
    check::<f32>();
}

/// A batch longer than [`ROW_BLOCK`] runs block by block, blocks in parallel
/// when the workspace has threads: the same bits for 1, 2 and 3 threads, for
/// every range of layers (composition included), and each row equal to the
/// per-sample reference of (19).
fn check_blocks<F: Float>() {
    let tol = crate::support::tolerances::<F>().reference;
    let net = Network::new(
        &[5, 40, 300, 3, 2],
        &[Activation::Identity, Activation::Tanh, Activation::Relu, Activation::Gelu],
    )
    .unwrap();
    let params = Params::<F>::init(&net, Init::HeNormal, 8).unwrap();
    let rows = 2 * ROW_BLOCK + 37;
    let input: Vec<F> = (0..rows * 5).map(|k| F::cast((k as f64 * 0.613).sin() * 2.0)).collect();
    let run = |threads: usize, from: usize, to: usize, x: &[F]| {
        let mut ws = Workspace::new(&net, rows).with_threads(threads);
        bits(net.eval_range(&params, from, to, x, &mut ws))
    };
    let whole = run(1, 0, 4, &input);
    for threads in [2, 3] {
        assert_eq!(whole, run(threads, 0, 4, &input), "{} threads", threads);
    }
    let mut ws = Workspace::new(&net, rows);
    let inner = net.eval_range(&params, 0, 2, &input, &mut ws).to_vec();
    assert_eq!(whole, run(2, 2, 4, &inner), "composition F^{{4,2}} o F^{{2,0}} in blocks");
    let out = net.forward(&params, &input, &mut ws).to_vec();
    for (r, sample) in input.chunks_exact(5).enumerate() {
        let reference = reference::forward(&net, &params, sample);
        let err = max_rel_error(&out[r * 2..r * 2 + 2], &reference.x[4]);
        assert!(err < tol, "row {r}: {err:.2e}");
    }
}

#[test]
fn large_batches_run_in_row_blocks_with_the_same_bits_for_any_thread_count() {
    check_blocks::<f64>();
    check_blocks::<f32>();
}

/// Back-propagation through layers wide enough for threaded products (the
/// weight gradient and `Δ W` of (18), 256 x 512 x 512): the same gradient
/// and input gradient, bit for bit, at 1, 2 and 3 threads.
fn check_wide_backward<F: Float>() {
    let widths = [3, 512, 512, 512, 2];
    let net = Network::with_hidden_activation(&widths, Activation::Tanh).unwrap();
    let params = Params::<F>::init(&net, Init::HeNormal, 10).unwrap();
    let rows = 256;
    let input: Vec<F> = (0..rows * 3).map(|k| F::cast((k as f64 * 0.71).sin())).collect();
    let output_grad: Vec<F> = (0..rows * 2).map(|k| F::cast((k as f64 * 0.29).cos())).collect();
    let run = |threads: usize| {
        let mut ws = Workspace::new(&net, rows).with_threads(threads);
        net.forward(&params, &input, &mut ws);
        let mut grad = vec![F::zero(); net.num_params()];
        let mut input_grad = vec![F::zero(); input.len()];
        net.backward(&params, &mut ws, &output_grad, &mut grad, Some(&mut input_grad));
        let mut without = vec![F::zero(); net.num_params()];
        net.backward(&params, &mut ws, &output_grad, &mut without, None);
        assert_eq!(bits(&grad), bits(&without), "{threads} threads: with and without Δ^0");
        (bits(&grad), bits(&input_grad))
    };
    let one = run(1);
    assert!(one.0.iter().all(|&b| b != 0), "every weight has a gradient");
    for threads in [2, 3] {
        assert!(run(threads) == one, "{} threads", threads);
    }
}

#[test]
fn wide_layers_back_propagate_with_the_same_bits_for_any_thread_count() {
    check_wide_backward::<f64>();
    check_wide_backward::<f32>();
}

/// `infer` gives `forward`'s outputs bit for bit, in one block of rows and
/// in several, at any thread count, with and without an activation on the
/// input; afterwards the workspace holds the output and nothing else.
fn check_infer<F: Float>() {
    use Activation::{Gelu, Identity, Relu, Tanh};
    for first in [Identity, Tanh] {
        let net = Network::new(&[5, 40, 300, 3, 2], &[first, Tanh, Relu, Gelu]).unwrap();
        let params = Params::<F>::init(&net, Init::HeNormal, 9).unwrap();
        for rows in [7, 2 * ROW_BLOCK + 37] {
            let input: Vec<F> = (0..rows * 5).map(|k| F::cast((k as f64 * 0.37).cos())).collect();
            let mut ws = Workspace::new(&net, rows);
            let expected = bits(net.forward(&params, &input, &mut ws));
            for threads in [1, 2] {
                let mut ws = Workspace::new(&net, rows).with_threads(threads);
                let out = bits(net.infer(&params, &input, &mut ws));
                assert_eq!(out, expected, "{first:?}, {rows} rows, {threads} threads");
                assert_eq!(bits(ws.output()), expected);
            }
        }
    }
}

#[test]
fn infer_gives_the_bits_of_forward() {
    check_infer::<f64>();
    check_infer::<f32>();
}

/// A small network, its parameters, and a workspace after `infer` on two samples.
fn after_infer() -> (Network, Params<f64>, Workspace<f64>) {
    let net = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh).unwrap();
    let params = Params::<f64>::init(&net, Init::XavierUniform, 1).unwrap();
    let mut ws = Workspace::new(&net, 2);
    net.infer(&params, &[0.1, 0.2, 0.3, 0.4], &mut ws);
    (net, params, ws)
}

/// After `infer`, the input is not in the trace, so `backward` refuses to run.
#[test]
#[should_panic(expected = "backward needs a full forward pass first")]
fn backward_after_infer_panics() {
    let (net, params, mut ws) = after_infer();
    let mut grad = vec![0.0; net.num_params()];
    net.backward(&params, &mut ws, &[1.0, 1.0], &mut grad, None);
}

#[test]
#[should_panic(expected = "the last pass did not compute layers 0..0")]
fn the_input_is_not_in_the_trace_after_infer() {
    let (_, _, ws) = after_infer();
    let _ = ws.x(0);
}
