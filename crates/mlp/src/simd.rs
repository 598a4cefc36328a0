//! Runtime CPU-feature dispatch: one binary that uses AVX2 where the CPU has
//! it and still runs everywhere else.
//!
//! The element-wise loops (activations and their derivatives, bias addition,
//! column sums) are plain Rust written so that LLVM vectorises them. Built
//! for the default x86-64 target they get SSE2 only; run through
//! [`vectorised`], the same code is compiled a second time with AVX2 enabled
//! and chosen at run time. The loops use no fused multiply-add, so both
//! versions give the same bits.
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

/// Runs `kernel`, compiled for AVX2 where the CPU supports it.
#[inline]
pub(crate) fn vectorised<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the only requirement of a `target_feature` function is that
        // the CPU has the feature, which was detected just above.
        #[allow(unsafe_code)]
        return unsafe { with_avx2(kernel) };
    }
    kernel.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn with_avx2<K: Kernel>(kernel: K) -> K::Output {
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

/// Runs `kernel` compiled for AVX2 and FMA where the CPU has both.
#[inline]
pub(crate) fn vectorised_fused<K: FusedKernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: as in `vectorised`: both features were detected just above.
        #[allow(unsafe_code)]
        return unsafe { with_avx2_fma(kernel) };
    }
    kernel.run::<false>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn with_avx2_fma<K: FusedKernel>(kernel: K) -> K::Output {
    kernel.run::<true>()
}
