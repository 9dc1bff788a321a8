//! Compile-time behaviour of `#[jwt_required]`: each misuse gives one precise error (the
//! checked-in `.stderr` beside each file under `tests/ui/fail/`).
//!
//! The cases import the attribute from this crate, the very item `rocket_flask_jwt` re-exports:
//! on a misuse the attribute emits its error and the item unchanged, so nothing of the runtime is
//! involved, and trybuild's own build of the cases stays small (only compile-fail cases, so
//! `cargo check` of this crate and Rocket). The handler shapes the attribute accepts are compiled
//! and exercised through Rocket in the root package's `tests/it/macro_expansion.rs`.
//!
//! After changing a message on purpose: `TRYBUILD=overwrite cargo test -p jwt-macros --test ui`,
//! then review the regenerated `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}
