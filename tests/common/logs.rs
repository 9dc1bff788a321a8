//! Every log record of a test binary, captured, for tests that assert what is (and is not)
//! logged. [`install`] must run before the binary's first Rocket is built: Rocket 0.5 installs
//! its own logger only if none is set yet, and sets the maximum level only when it installed its
//! own.

use std::sync::{Mutex, Once};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    fn flush(&self) {}
}

/// Installs the capturing logger (once per binary), at every level.
pub fn install() {
    INSTALL.call_once(|| {
        log::set_boxed_logger(Box::new(Capture))
            .expect("the capturing logger is installed before any Rocket is built");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// Every line captured so far.
pub fn all() -> Vec<String> {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The captured lines containing `needle`.
pub fn containing(needle: &str) -> Vec<String> {
    all().into_iter().filter(|l| l.contains(needle)).collect()
}
