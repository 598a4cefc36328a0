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
