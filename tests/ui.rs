//! Compile-time behaviour of `#[jwt_required]`: each misuse gives one precise error (the
//! checked-in `.stderr` beside each file under `tests/ui/fail/`), and valid handlers build.
//!
//! After changing a message on purpose: `TRYBUILD=overwrite cargo test --test ui`, then review
//! the regenerated `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
