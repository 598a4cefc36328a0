//! The composition rule (5): `F^{c,0}(f) = F^{c,a}(F^{a,0}(f))`, bit for bit,
//! for every split point `a` and end `c`.

use mlp::{Float, Workspace};
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::support::{Problem, cases, config};

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
