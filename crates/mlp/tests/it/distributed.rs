//! Data-parallel training, with threads standing in for MPI ranks: the exact
//! reduction gives the single-process parameters bit for bit for every
//! solver and any number of ranks; the fast one agrees to rounding; every
//! rank stops at the same step; ranks that differ are refused by all.
//! (`crates/mlp-cli/tests/mpi.rs` runs the same under `mpirun`.)

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Barrier, Mutex};

use crate::support::regression;
use mlp::distributed::{Collective, Group, Reduction};
use mlp::optim::{
    AdamConfig, GradientDescentConfig, LbfgsConfig, LevenbergMarquardtConfig, Momentum,
    RpropConfig, SgdConfig,
};
use mlp::{
    Activation, Dataset, EarlyStopping, Float, Hooks, Init, Network, OptimizerConfig, Params,
    TrainConfig, TrainReport, TrainState, TrainStop, Validation, train_distributed, train_with,
};

/// Ranks as threads: collectives through shared slots and a barrier,
/// point-to-point messages through one channel per ordered pair.
struct Threads {
    size: usize,
    barrier: Barrier,
    slots: Mutex<Vec<Vec<f64>>>,
    /// `links[from][to]`.
    links: Vec<Vec<Link>>,
}

type Link = (Mutex<Sender<Vec<f64>>>, Mutex<Receiver<Vec<f64>>>);

struct Rank<'t> {
    rank: usize,
    all: &'t Threads,
}

impl Threads {
    fn new(size: usize) -> Self {
        let link = || {
            let (tx, rx) = channel();
            (Mutex::new(tx), Mutex::new(rx))
        };
        Self {
            size,
            barrier: Barrier::new(size),
            slots: Mutex::new(vec![Vec::new(); size]),
            links: (0..size).map(|_| (0..size).map(|_| link()).collect()).collect(),
        }
    }
}

impl Collective for Rank<'_> {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.all.size
    }
    fn all_reduce_sum(&self, buf: &mut [f64]) {
        self.all.slots.lock().unwrap()[self.rank] = buf.to_vec();
        self.all.barrier.wait();
        {
            let slots = self.all.slots.lock().unwrap();
            // A different order from the exact reduction's: rank order, pairwise.
            for (i, v) in buf.iter_mut().enumerate() {
                *v = slots.iter().map(|s| s[i]).sum();
            }
        }
        self.all.barrier.wait();
    }
    fn broadcast(&self, buf: &mut [f64], root: usize) {
        if self.rank == root {
            self.all.slots.lock().unwrap()[root] = buf.to_vec();
        }
        self.all.barrier.wait();
        buf.copy_from_slice(&self.all.slots.lock().unwrap()[root]);
        self.all.barrier.wait();
    }
    fn send(&self, buf: &[f64], to: usize) {
        self.all.links[self.rank][to].0.lock().unwrap().send(buf.to_vec()).unwrap();
    }
    fn receive(&self, buf: &mut [f64], from: usize) {
        let got = self.all.links[from][self.rank].1.lock().unwrap().recv().unwrap();
        buf.copy_from_slice(&got);
    }
}

fn net() -> Network {
    Network::with_hidden_activation(&[2, 8, 8, 1], Activation::Tanh).unwrap()
}

/// Hooks that can interrupt one rank after `stop_after_steps` steps and
/// count the checkpoints handed to it.
#[derive(Default)]
struct Steer {
    stop_after_steps: Option<usize>,
    steps: usize,
    checkpoints: usize,
}

impl<F: Float> Hooks<F> for Steer {
    fn interrupted(&mut self) -> bool {
        self.steps += 1;
        self.stop_after_steps == Some(self.steps)
    }
    fn wants_checkpoint(&mut self, _: usize) -> bool {
        true
    }
    fn checkpoint(&mut self, _: &TrainState<F>) -> mlp::Result<()> {
        self.checkpoints += 1;
        Ok(())
    }
}

type Outcome<F> = mlp::Result<(Vec<F>, TrainReport, Steer)>;

fn single<F: Float>(config: &TrainConfig, data: &Dataset<F>) -> (Vec<F>, TrainReport) {
    let mut params = Params::<F>::init(&net(), Init::XavierUniform, 3).unwrap().into_vec();
    let report =
        train_with(&net(), &mut params, data, None, config, None, &mut Steer::default()).unwrap();
    (params, report)
}

/// Runs `ranks` ranks; `data(r)` and `hooks(r)` give rank r's. Only rank 0's
/// starting point is the right one: the others must take it from rank 0.
fn ranks<F: Float>(
    config: &TrainConfig,
    size: usize,
    reduction: Reduction,
    data: impl Fn(usize) -> Dataset<F> + Sync,
    hooks: impl Fn(usize) -> Steer + Sync,
) -> Vec<Outcome<F>> {
    let all = Threads::new(size);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let (all, data, hooks) = (&all, &data, &hooks);
                s.spawn(move || {
                    let comm = Rank { rank, all };
                    let group = Group { comm: &comm, reduction };
                    let seed = if rank == 0 { 3 } else { 100 + rank as u64 };
                    let mut params =
                        Params::<F>::init(&net(), Init::XavierUniform, seed)?.into_vec();
                    let mut hooks = hooks(rank);
                    let data = data(rank);
                    let report = train_distributed(
                        &net(),
                        &mut params,
                        &data,
                        None,
                        config,
                        None,
                        &mut hooks,
                        group,
                    )?;
                    Ok((params, report, hooks))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a rank panicked")).collect()
    })
}

fn bits<F: Float>(v: &[F]) -> Vec<u64> {
    v.iter().map(|x| x.as_f64().to_bits()).collect()
}

fn history(r: &TrainReport) -> Vec<u64> {
    r.history.iter().map(|e| e.train_loss.to_bits()).collect()
}

fn solvers() -> Vec<OptimizerConfig> {
    vec![
        OptimizerConfig::GradientDescent(GradientDescentConfig::default()),
        OptimizerConfig::Sgd(SgdConfig { learning_rate: 0.05, momentum: Momentum::Nesterov(0.9) }),
        OptimizerConfig::Adam(AdamConfig { learning_rate: 0.01, ..AdamConfig::default() }),
        OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()),
        OptimizerConfig::Rprop(RpropConfig::default()),
    ]
}

fn exact_for_every_solver<F: Float>() {
    // 150 rows in chunks of 16: 10 chunks, the last one short; mini-batches
    // of 40 rows are 3 chunks, so a third rank sometimes has none.
    let data = regression::<F>(150, 1);
    for optimizer in solvers() {
        let config = TrainConfig {
            optimizer,
            max_epochs: 6,
            batch_size: 40,
            chunk_rows: 16,
            validation: Validation::Fraction(0.2),
            early_stopping: Some(EarlyStopping { patience: 2, min_delta: 1e-3 }),
            ..TrainConfig::default()
        };
        let (want, report) = single(&config, &data);
        let name = config.optimizer.name();
        for size in 1..=4 {
            for (rank, got) in
                ranks(&config, size, Reduction::Exact, |_| data.clone(), |_| Steer::default())
                    .into_iter()
                    .enumerate()
            {
                let (params, got_report, _) = got.unwrap();
                assert_eq!(bits(&params), bits(&want), "{name} {}, rank {rank} of {size}", F::NAME);
                assert_eq!(history(&got_report), history(&report), "{name}, rank {rank} of {size}");
                let ending = |r: &TrainReport| (r.stop_reason, r.best_epoch);
                assert_eq!(ending(&got_report), ending(&report), "{name}, rank {rank} of {size}");
            }
        }
    }
}

#[test]
fn exact_reduction_gives_the_single_process_bits_f64() {
    exact_for_every_solver::<f64>();
}

#[test]
fn exact_reduction_gives_the_single_process_bits_f32() {
    exact_for_every_solver::<f32>();
}

#[test]
fn fast_reduction_agrees_to_rounding_and_across_ranks() {
    let data = regression::<f64>(300, 2);
    for optimizer in [solvers()[0].clone(), solvers()[2].clone()] {
        let config =
            TrainConfig { optimizer, max_epochs: 5, batch_size: 64, ..TrainConfig::default() };
        let (want, _) = single(&config, &data);
        let runs = ranks(&config, 3, Reduction::Fast, |_| data.clone(), |_| Steer::default());
        let first = bits(&runs[0].as_ref().unwrap().0);
        for run in &runs {
            let params = &run.as_ref().unwrap().0;
            assert_eq!(bits(params), first, "every rank holds the same parameters");
            let worst = params.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-9, "{}: fast reduction off by {worst}", config.optimizer.name());
        }
        // Not the exact reduction's bits: the test would not see a fast path
        // that silently fell back to the ordered sum.
        assert_ne!(first, bits(&want), "{}", config.optimizer.name());
    }
}

#[test]
fn one_rank_interrupted_stops_every_rank_after_the_same_step() {
    let data = regression::<f64>(150, 1);
    let config = TrainConfig {
        optimizer: solvers()[2].clone(),
        max_epochs: 20,
        batch_size: 40,
        chunk_rows: 16,
        ..TrainConfig::default()
    };
    let hooks = |rank| {
        if rank == 2 {
            Steer { stop_after_steps: Some(7), ..Steer::default() }
        } else {
            Steer::default()
        }
    };
    let runs = ranks(&config, 3, Reduction::Exact, |_| data.clone(), hooks);
    let first = bits(&runs[0].as_ref().unwrap().0);
    for (rank, run) in runs.iter().enumerate() {
        let (params, report, steer) = run.as_ref().unwrap();
        assert_eq!(report.stop_reason, TrainStop::Interrupted, "rank {rank}");
        assert_eq!(bits(params), first, "rank {rank}");
        assert_eq!(steer.steps, 7, "rank {rank} took another step");
        // Only rank 0 writes checkpoints: after epoch 1 (4 steps of 40
        // rows), and on the interruption 3 steps into epoch 2.
        assert_eq!(steer.checkpoints, if rank == 0 { 2 } else { 0 }, "rank {rank}");
    }
}

#[test]
fn ranks_with_other_data_are_refused_by_every_rank() {
    let config = TrainConfig { max_epochs: 2, ..TrainConfig::default() };
    let runs = ranks(
        &config,
        3,
        Reduction::Fast,
        |rank| regression::<f64>(150, if rank == 1 { 9 } else { 1 }),
        |_| Steer::default(),
    );
    for (rank, run) in runs.into_iter().enumerate() {
        let err = run.err().unwrap_or_else(|| panic!("rank {rank} trained")).to_string();
        assert!(err.contains("differ from rank 0"), "rank {rank}: {err}");
    }
}

#[test]
fn every_rank_starts_from_rank_0s_parameters_and_ends_with_its_checkpoints_only() {
    let data = regression::<f64>(150, 1);
    let config = TrainConfig { max_epochs: 3, chunk_rows: 16, ..TrainConfig::default() };
    let (want, _) = single(&config, &data);
    let runs = ranks(&config, 2, Reduction::Exact, |_| data.clone(), |_| Steer::default());
    for (rank, run) in runs.into_iter().enumerate() {
        let (params, _, steer) = run.unwrap();
        assert_eq!(bits(&params), bits(&want), "rank {rank}");
        assert_eq!(steer.checkpoints, if rank == 0 { 3 } else { 0 }, "rank {rank}");
    }
}

#[test]
fn the_per_epoch_evaluation_is_shared_out_and_gives_the_single_process_report() {
    // 2600 rows: three blocks of the evaluation's 1024 rows, one per rank.
    let data = regression::<f64>(2600, 4);
    let config = TrainConfig {
        max_epochs: 2,
        batch_size: 256,
        chunk_rows: 64,
        validation: Validation::Fraction(0.1),
        ..TrainConfig::default()
    };
    let (want, report) = single(&config, &data);
    let text = |r: &TrainReport| {
        format!(
            "{:?}",
            (
                &r.history.last().map(|e| (e.train_loss, &e.train_metrics, e.validation_loss)),
                r.train_loss,
                &r.train_metrics,
                r.validation_loss,
                &r.validation_metrics
            )
        )
    };
    for (rank, run) in ranks(&config, 3, Reduction::Exact, |_| data.clone(), |_| Steer::default())
        .into_iter()
        .enumerate()
    {
        let (params, got, _) = run.unwrap();
        assert_eq!(bits(&params), bits(&want), "rank {rank}");
        assert_eq!(text(&got), text(&report), "rank {rank}");
    }
}
