//! A child process's output read to its end on a thread of its own, so that a full pipe never
//! blocks the child (the Node and Python programs the side-by-side tests run).

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Reads `pipe` to its end on a thread of its own: the text so far, and the thread.
pub(crate) fn collect(
    mut pipe: impl Read + Send + 'static,
) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let collected = Arc::clone(&text);
    let reader = std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buffer) {
            collected
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    (text, reader)
}

/// The first line `pipe` writes (a server's readiness line, e.g. its port), read on a thread of
/// its own; empty when none comes within `timeout`.
pub(crate) fn first_line(pipe: impl Read + Send + 'static, timeout: std::time::Duration) -> String {
    let (line_tx, line_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(pipe), &mut line);
        let _ = line_tx.send(line);
    });
    line_rx.recv_timeout(timeout).unwrap_or_default()
}
