//! A key directory (the `signing_keys_dir` setting): one key file per key (see
//! [`super::key_file`]), the form Kubernetes secrets and Vault agents write. The directory is
//! looked at again every second; when its files change, the ring is read again and replaced, with
//! no restart: an operator rotates by adding a file. A file that does not parse is refused with
//! its path named, and the rest of the ring kept.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::{Duration, SystemTime};

use super::{key_file, KeyFileError, KeyRing, SharedRing};

/// How often the directory is looked at.
pub(crate) const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// What a directory held when it was read: each file's name, size and modification time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Listing(Vec<(PathBuf, u64, Option<SystemTime>)>);

/// The key files of `directory` (`*.pem`, in name order), as a listing.
fn listing(directory: &Path) -> Result<Listing, String> {
    let entries = std::fs::read_dir(directory)
        .map_err(|e| format!("signing_keys_dir {}: {e}", directory.display()))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|extension| extension == "pem") {
            // A file read through a link (Kubernetes mounts secrets so) is looked at, not the link.
            if let Ok(metadata) = std::fs::metadata(&path)
                && metadata.is_file()
            {
                files.push((path, metadata.len(), metadata.modified().ok()));
            }
        }
    }
    files.sort();
    Ok(Listing(files))
}

/// The ring of `directory`'s key files, the files it refused, and its listing. An unreadable
/// directory, or one without a usable key, is an error naming it.
pub(crate) fn read(
    directory: &Path,
    verifies_for: i64,
) -> Result<(KeyRing, Vec<KeyFileError>, Listing), String> {
    let listing = listing(directory)?;
    let mut keys = Vec::new();
    let mut refused = Vec::new();
    for (path, _, _) in &listing.0 {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| KeyFileError {
                path: path.clone(),
                reason: e.to_string(),
            })
            .and_then(|text| key_file::parse(path, &text));
        match parsed {
            Ok(key) => keys.push(key),
            Err(error) => refused.push(error),
        }
    }
    if keys.is_empty() {
        let why = match refused.first() {
            Some(error) => format!(": {error}"),
            None => " (no *.pem file)".into(),
        };
        return Err(format!(
            "signing_keys_dir {} holds no usable signing key{why}",
            directory.display()
        ));
    }
    let ring = KeyRing::new(keys, verifies_for)
        .map_err(|e| format!("signing_keys_dir {}: {e}", directory.display()))?;
    Ok((ring, refused, listing))
}

/// Logs each refused file, once per reading.
pub(crate) fn log_refused(refused: &[KeyFileError]) {
    for error in refused {
        log::error!("jwt: {error}; the other keys are used");
    }
}

/// Looks at `directory` every [`RELOAD_EVERY`] for as long as `ring` lives, replacing the ring
/// when the files change. A reading that fails keeps the ring in use (and says so, once).
pub(crate) async fn watch(
    directory: PathBuf,
    verifies_for: i64,
    ring: Weak<SharedRing>,
    seen: Listing,
) {
    let mut seen = seen;
    let mut failing = false;
    let mut ticks = tokio::time::interval(RELOAD_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(shared) = ring.upgrade() else {
            return;
        };
        let now = match listing(&directory) {
            Ok(now) => now,
            Err(error) => {
                if !failing {
                    log::error!("jwt: {error}; the keys read before are used");
                    failing = true;
                }
                continue;
            }
        };
        if now == seen {
            continue;
        }
        match read(&directory, verifies_for) {
            Ok((new_ring, refused, listing)) => {
                log_refused(&refused);
                let kids: Vec<&str> = new_ring.keys().iter().map(|key| key.kid()).collect();
                log::info!(
                    "jwt: signing keys read again from {}: {kids:?}",
                    directory.display()
                );
                shared.replace(new_ring);
                seen = listing;
                failing = false;
            }
            Err(error) => {
                if !failing {
                    log::error!("jwt: {error}; the keys read before are used");
                    failing = true;
                }
                seen = now;
            }
        }
    }
}
