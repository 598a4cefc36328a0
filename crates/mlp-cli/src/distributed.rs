//! `--distributed`: one rank of an MPI job (feature `mpi`).
//!
//! MPI starts before the command line is parsed, so that rank 0's arguments
//! (after `--resume` put the checkpoint's in) are every rank's. Each rank
//! then reads the data itself and trains its share ([`mlp::distributed`]);
//! only rank 0 prints and writes files. A rank that fails aborts the whole
//! job (`MPI_Abort`), so none is left waiting for it.

use std::ffi::OsString;

/// Whether the command line asks for a distributed run.
pub fn requested(argv: &[OsString]) -> bool {
    argv.iter().any(|a| a == "--distributed")
}

#[cfg(feature = "mpi")]
pub use with_mpi::Cluster;

#[cfg(feature = "mpi")]
mod with_mpi {
    use std::ffi::OsString;

    use anyhow::{Result, bail};
    use mlp::distributed::Collective;
    use mpi::collective::SystemOperation;
    use mpi::environment::Universe;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::{Communicator, CommunicatorCollectives, Destination, Root, Source};

    /// The MPI job this process is a rank of; MPI finalises when it drops.
    pub struct Cluster {
        world: SimpleCommunicator,
        _universe: Universe,
    }

    impl Cluster {
        /// Starts MPI.
        ///
        /// # Errors
        /// If MPI cannot start (or has already started).
        pub fn start() -> Result<Self> {
            let Some(universe) = mpi::initialize() else {
                bail!("--distributed: MPI could not be initialised");
            };
            Ok(Self { world: universe.world(), _universe: universe })
        }

        /// This process's rank.
        pub fn rank(&self) -> usize {
            self.world.rank().try_into().unwrap_or(0)
        }

        /// The number of ranks.
        pub fn size(&self) -> usize {
            self.world.size().try_into().unwrap_or(1)
        }

        /// Rank 0's command line, on every rank.
        pub fn settings(&self, argv: &[OsString]) -> Vec<OsString> {
            let joined = argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join("\0");
            let mut len = joined.len() as u64;
            let root = self.world.process_at_rank(0);
            root.broadcast_into(&mut len);
            let mut buf = joined.into_bytes();
            buf.resize(usize::try_from(len).unwrap_or(0), 0);
            root.broadcast_into(&mut buf[..]);
            String::from_utf8_lossy(&buf).split('\0').map(OsString::from).collect()
        }

        /// Waits for every rank: the others do not exit (which would end
        /// the job) while rank 0 is still writing files.
        pub fn barrier(&self) {
            self.world.barrier();
        }

        /// Ends every rank of the job after printing `message`.
        pub fn abort(&self, message: &str) -> ! {
            eprintln!("error (rank {} of {}): {message}", self.rank(), self.size());
            self.world.abort(1)
        }
    }

    impl Collective for Cluster {
        fn rank(&self) -> usize {
            Cluster::rank(self)
        }
        fn size(&self) -> usize {
            Cluster::size(self)
        }
        fn all_reduce_sum(&self, buf: &mut [f64]) {
            let send = buf.to_vec();
            self.world.all_reduce_into(&send[..], buf, SystemOperation::sum());
        }
        fn broadcast(&self, buf: &mut [f64], root: usize) {
            self.world.process_at_rank(rank(root)).broadcast_into(buf);
        }
        fn send(&self, buf: &[f64], to: usize) {
            self.world.process_at_rank(rank(to)).send(buf);
        }
        fn receive(&self, buf: &mut [f64], from: usize) {
            self.world.process_at_rank(rank(from)).receive_into(buf);
        }
    }

    fn rank(r: usize) -> i32 {
        i32::try_from(r).expect("MPI ranks fit in i32")
    }
}

/// Without the `mpi` feature, `--distributed` is refused before anything runs.
#[cfg(not(feature = "mpi"))]
pub struct Cluster(std::convert::Infallible);

#[cfg(not(feature = "mpi"))]
impl Cluster {
    pub fn start() -> anyhow::Result<Self> {
        anyhow::bail!(
            "--distributed needs an mlp built with MPI: install Open MPI and build with \
             `cargo install --path crates/mlp-cli --features mpi` (see README, \"Many machines\")"
        )
    }
    pub fn rank(&self) -> usize {
        match self.0 {}
    }
    pub fn size(&self) -> usize {
        match self.0 {}
    }
    pub fn settings(&self, _: &[OsString]) -> Vec<OsString> {
        match self.0 {}
    }
    pub fn barrier(&self) {
        match self.0 {}
    }
    pub fn abort(&self, _: &str) -> ! {
        match self.0 {}
    }
}

#[cfg(not(feature = "mpi"))]
impl mlp::distributed::Collective for Cluster {
    fn rank(&self) -> usize {
        match self.0 {}
    }
    fn size(&self) -> usize {
        match self.0 {}
    }
    fn all_reduce_sum(&self, _: &mut [f64]) {
        match self.0 {}
    }
    fn broadcast(&self, _: &mut [f64], _: usize) {
        match self.0 {}
    }
    fn send(&self, _: &[f64], _: usize) {
        match self.0 {}
    }
    fn receive(&self, _: &mut [f64], _: usize) {
        match self.0 {}
    }
}
