//! Nothing but the benchmark in `benches/backends.rs`: jsonwebtoken's `aws_lc_rs` backend against
//! its `rust_crypto` backend.
