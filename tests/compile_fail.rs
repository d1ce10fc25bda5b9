//! Compile-fail tests: the consent guarantees of `faceguard` are enforced by the type system.
//!
//! Each program under `tests/ui/` tries to break one guarantee (a template without consent, a
//! forged or cloned token, a cloned or printed template, a template used for another purpose
//! than it was consented to, a probe enrolled, a probe consent used twice…) and must be
//! rejected by the compiler with the error recorded in its `.stderr` file.
//!
//! Regenerate the expected errors after an intended change with
//! `TRYBUILD=overwrite cargo test --test compile_fail`, and read them: each must still be
//! about the guarantee, not about a typo.

#[test]
fn consent_guarantees_are_enforced_at_compile_time() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
