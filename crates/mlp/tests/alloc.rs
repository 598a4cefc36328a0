//! A training step (forward and backward on a fixed batch) and a single-sample
//! prediction allocate nothing after warm-up. Its own test binary, because it
//! installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use mlp::{Activation, Float, Init, Loss, Network, Params, Predictor, Targets, Workspace};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the thread under measurement: the test harness's own threads
    /// allocate now and then (a global count failed 4 runs in 30; counting
    /// this thread only, 0 in 40), and those are not the
    /// training step's.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `steps` training steps after two warm-up steps.
fn allocations_per_run<F: Float>(
    widths: &[usize],
    loss: Loss,
    batch: usize,
    steps: usize,
) -> usize {
    let net = Network::with_hidden_activation(widths, Activation::Gelu).unwrap();
    let mut params = Params::<F>::init(&net, Init::HeNormal, 1).unwrap();
    let input: Vec<F> =
        (0..batch * net.inputs()).map(|k| F::cast((k as f64 * 0.37).sin())).collect();
    let values: Vec<F> = (0..batch * net.outputs()).map(|k| F::cast((k % 2) as f64)).collect();
    let classes: Vec<usize> = (0..batch).map(|k| k % net.outputs()).collect();
    let targets = match loss {
        Loss::SoftmaxCrossEntropy => Targets::Classes(&classes),
        _ => Targets::Values(&values),
    };
    let mut ws = Workspace::new(&net, batch);
    let mut grad = vec![F::zero(); net.num_params()];
    let mut step = |params: &mut Params<F>| {
        net.loss_and_gradient(params, &input, targets, loss, &mut ws, &mut grad).unwrap();
        for (v, g) in params.iter_mut().zip(&grad) {
            *v = *v - F::cast(1e-3) * *g;
        }
    };
    step(&mut params);
    step(&mut params);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..steps {
        step(&mut params);
    }
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

// One test only: the counter is global, and a second test running on another
// thread would add its allocations to this one's.
#[test]
fn a_training_step_allocates_nothing_after_warm_up() {
    COUNTING.with(|c| c.set(true));
    // Guard against a test that cannot fail: an allocation is counted.
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    drop(std::hint::black_box(vec![1u8; 64]));
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > before, "the counter missed an allocation");

    // Single-sample prediction: nothing after construction.
    for widths in [&[8, 64, 64, 4][..], &[784, 256, 128, 10]] {
        let net = Network::with_hidden_activation(widths, Activation::Tanh).unwrap();
        let params = Params::<f32>::init(&net, Init::HeNormal, 1).unwrap();
        let mut predictor = Predictor::new(&net, &params);
        let sample = vec![0.25f32; widths[0]];
        predictor.predict(&sample);
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..10 {
            std::hint::black_box(predictor.predict(&sample));
        }
        assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0, "Predictor {widths:?}");
    }

    // Small (nano-kernel) and large (packed) products, both float types, every loss.
    let shapes: [&[usize]; 3] = [&[4, 16, 3], &[1, 32, 32, 1], &[784, 256, 128, 10]];
    for widths in shapes {
        for loss in Loss::ALL {
            if loss == Loss::SoftmaxCrossEntropy && widths[widths.len() - 1] < 2 {
                continue;
            }
            for batch in [1, 128] {
                let n64 = allocations_per_run::<f64>(widths, loss, batch, 5);
                let n32 = allocations_per_run::<f32>(widths, loss, batch, 5);
                assert_eq!(
                    (n64, n32),
                    (0, 0),
                    "{widths:?} {loss} batch {batch}: allocations (f64, f32)"
                );
            }
        }
    }
}
