//! The compile-fail UI tests of `#[jwt_required]` (`tests/ui.rs`, one case and its expected
//! error per file under `tests/ui/fail/`). This package has no code of its own.
