//! Compile-time behaviour of `#[jwt_required]`: each misuse gives one precise error (the
//! checked-in `.stderr` beside each file under `tests/ui/fail/`).
//!
//! The cases import the attribute from `rocket_flask_jwt_macros`, the very item `rocket_flask_jwt` re-exports:
//! on a misuse the attribute emits its error and the item unchanged, so nothing of the runtime is
//! involved, and trybuild's own build of the cases stays small (only compile-fail cases, so
//! `cargo check` of the attribute and Rocket). The handler shapes the attribute accepts are compiled
//! and exercised through Rocket in the root package's `tests/it/macro_expansion.rs`.
//!
//! After changing a message on purpose: `TRYBUILD=overwrite cargo test -p jwt-macros-ui --test ui`,
//! then review the regenerated `.stderr` files.

/// The rustc flags trybuild gives the cases: `--cfg trybuild`, `--verbose`, `-A dead_code` and
/// `--diagnostic-width=140`.
const TRYBUILD_CASE_FLAGS: [&str; 6] = [
    "--cfg",
    "trybuild",
    "--verbose",
    "-A",
    "dead_code",
    "--diagnostic-width=140",
];

#[test]
fn ui() {
    // trybuild checks the cases' dependencies (Rocket's tree) in one cargo run, then the cases in
    // a second run whose flags add `--diagnostic-width=140`; cargo takes the changed flags for a
    // reason to check every dependency again. `CARGO_ENCODED_RUSTFLAGS` takes precedence over the
    // flags trybuild passes with `--config`: set to the cases' flags, it makes both runs use the
    // same ones, so Rocket's tree is checked once and the cases are checked as trybuild checks
    // them. trybuild's own pass-through of coverage instrumentation is kept.
    let mut flags = TRYBUILD_CASE_FLAGS.to_vec();
    if std::env::var("RUSTFLAGS").is_ok_and(|outer| outer.contains("-C instrument-coverage")) {
        flags.extend(["-C", "instrument-coverage"]);
    }
    // SAFETY: `ui` is the only test of this binary, and trybuild has not started yet: no other
    // thread reads or writes the environment meanwhile.
    unsafe { std::env::set_var("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f")) };
    // trybuild's project does not inherit the workspace's profile, so its dependencies got full
    // debug information, which no case needs: Rocket's proc-macros and the crates they depend on
    // are built for the host. Without it, trybuild's first run takes about 10 % less CPU and
    // wall time. A `CARGO_PROFILE_DEV_DEBUG` set by the caller is kept.
    if std::env::var_os("CARGO_PROFILE_DEV_DEBUG").is_none() {
        // SAFETY: as above.
        unsafe { std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "false") };
    }

    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}
