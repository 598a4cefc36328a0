//! Runtime CPU-feature dispatch: one binary that uses AVX2 where the CPU has
//! it and still runs everywhere else.
//!
//! The element-wise loops (activations and their derivatives, bias addition,
//! column sums) are plain Rust written so that LLVM vectorises them. Built
//! for the default x86-64 target they get SSE2 only; run through
//! [`vectorised`], the same code is compiled again with AVX2 and with
//! AVX-512 enabled, and the widest the CPU has is chosen at run time. The
//! loops use no fused multiply-add (or, in a [`FusedKernel`], use it in
//! every version that has it), so the versions give the same bits; a
//! [`FusedKernel`] gives other bits only on a CPU without FMA, and scalar
//! code that must match it asks [`fused`].
//!
//! A loop is a [`Kernel`] rather than a closure because only code *inlined*
//! into the AVX2 function is compiled for AVX2, and stable Rust cannot force
//! a closure to be inlined; `#[inline(always)]` on [`Kernel::run`] can.

/// One loop to run with the widest vectors the CPU has. Implementations
/// mark [`run`](Self::run) `#[inline(always)]` and keep what it calls inlined too.
pub(crate) trait Kernel {
    type Output;
    fn run(self) -> Self::Output;
}

/// The widest vectors this CPU has, or fewer if the environment variable
/// `MLP_SIMD` asks for `avx2` or `baseline` (read once; other values are
/// ignored, and it never raises the level above what the CPU has). Why:
/// so that one machine can run every version of the kernels, as `.ci/run`
/// does with the test suite, and so that a user chasing a difference in
/// results can rule the wide kernels out.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Baseline,
    Avx2,
    Avx512,
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = match std::env::var("MLP_SIMD").as_deref() {
            Ok("baseline") => Level::Baseline,
            Ok("avx2") => Level::Avx2,
            _ => Level::Avx512,
        };
        detected().min(cap)
    })
}

#[cfg(target_arch = "x86_64")]
fn detected() -> Level {
    use std::arch::is_x86_feature_detected as has;
    // FMA comes with every AVX-512 CPU; asked for all the same.
    if has!("avx512f") && has!("avx2") && has!("fma") {
        Level::Avx512
    } else if has!("avx2") {
        Level::Avx2
    } else {
        Level::Baseline
    }
}

/// Runs `kernel`, compiled for AVX-512 or AVX2 where the CPU supports them.
#[inline]
pub(crate) fn vectorised<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    match level() {
        // SAFETY: the only requirement of a `target_feature` function is that
        // the CPU has the features, which `level` detected.
        #[allow(unsafe_code)]
        Level::Avx512 => return unsafe { with_avx512(kernel) },
        #[allow(unsafe_code)]
        Level::Avx2 => return unsafe { with_avx2(kernel) },
        Level::Baseline => {}
    }
    kernel.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn with_avx2<K: Kernel>(kernel: K) -> K::Output {
    kernel.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
fn with_avx512<K: Kernel>(kernel: K) -> K::Output {
    kernel.run()
}

/// A loop whose multiply-adds may be fused: [`run`](FusedKernel::run) gets
/// `FUSED = true` where the CPU has FMA (and the code is compiled for it),
/// and should then use [`madd`]; on other CPUs `mul_add` would be a slow
/// library call, so `FUSED = false` keeps the multiplication and addition apart.
pub(crate) trait FusedKernel {
    type Output;
    fn run<const FUSED: bool>(self) -> Self::Output;
}

/// `a * b + c`, rounded once if `FUSED`.
#[inline(always)]
pub(crate) fn madd<F: crate::Float, const FUSED: bool>(a: F, b: F, c: F) -> F {
    if FUSED { a.mul_add(b, c) } else { a * b + c }
}

/// Whether [`vectorised_fused`] runs its kernel with `FUSED = true` on this
/// CPU: scalar code that must give a kernel's bits asks this.
#[inline]
pub(crate) fn fused() -> bool {
    #[cfg(target_arch = "x86_64")]
    match level() {
        Level::Avx512 => return true,
        Level::Avx2 => return std::arch::is_x86_feature_detected!("fma"),
        Level::Baseline => {}
    }
    false
}

/// Runs `kernel` compiled for AVX-512 (with FMA), or AVX2 and FMA, where
/// the CPU has them.
#[inline]
pub(crate) fn vectorised_fused<K: FusedKernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    match level() {
        // SAFETY: as in `vectorised`: the features were detected.
        #[allow(unsafe_code)]
        Level::Avx512 => return unsafe { with_avx512_fma(kernel) },
        #[allow(unsafe_code)]
        Level::Avx2 if std::arch::is_x86_feature_detected!("fma") => {
            return unsafe { with_avx2_fma(kernel) };
        }
        _ => {}
    }
    kernel.run::<false>()
}

/// Whether the CPU has AVX-512 (with AVX2 and FMA), which
/// [`avx512_fused`] needs.
#[inline]
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return level() == Level::Avx512;
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Runs `kernel` fused, compiled for AVX-512, if the CPU has it; `None`
/// (and `kernel` dropped unrun) otherwise. For kernels that keep more
/// vectors in registers than AVX2's 16.
#[inline]
pub(crate) fn avx512_fused<K: FusedKernel>(kernel: K) -> Option<K::Output> {
    #[cfg(target_arch = "x86_64")]
    if level() == Level::Avx512 {
        // SAFETY: as in `vectorised`: the features were detected.
        #[allow(unsafe_code)]
        return Some(unsafe { with_avx512_fma(kernel) });
    }
    drop(kernel);
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn with_avx512_fma<K: FusedKernel>(kernel: K) -> K::Output {
    kernel.run::<true>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn with_avx2_fma<K: FusedKernel>(kernel: K) -> K::Output {
    kernel.run::<true>()
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// `MLP_SIMD` caps the level, never raises it; `.ci/run` runs the suite
    /// with `avx2` and `baseline`, and this checks that it took effect.
    #[test]
    fn the_environment_caps_the_level() {
        let (level, cpu) = (level(), detected());
        match std::env::var("MLP_SIMD").as_deref() {
            Ok("baseline") => {
                assert!(level == Level::Baseline && !fused() && !has_avx512());
                assert!(avx512_fused(Probe).is_none());
            }
            Ok("avx2") => {
                assert!(level == cpu.min(Level::Avx2) && !has_avx512());
                assert!(avx512_fused(Probe).is_none());
            }
            _ => assert!(level == cpu),
        }
        assert_eq!(vectorised_fused(Probe), fused());
    }

    /// Reports the `FUSED` its kernel was run with.
    struct Probe;

    impl FusedKernel for Probe {
        type Output = bool;
        fn run<const FUSED: bool>(self) -> bool {
            FUSED
        }
    }
}
