//! Who uses a data directory: servers share it; a bulk load, which is not durable until it ends, needs it
//! alone. An advisory lock on `<data>/scimkit.lock`, released by the system when its process ends.

use crate::config::Paths;
use anyhow::{bail, Context, Result};
use std::fs::{File, TryLockError};

pub struct DataLock {
    _file: File,
}

fn lock_file(paths: &Paths) -> Result<File> {
    crate::config::create_private_dir(&paths.data)?;
    let path = paths.data.join("scimkit.lock");
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Held by a server for as long as it serves; refused while a bulk load holds the directory.
pub fn serving(paths: &Paths) -> Result<DataLock> {
    let file = lock_file(paths)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(DataLock { _file: file }),
        Err(TryLockError::WouldBlock) => {
            bail!(
                "{} is being loaded by `scimkit import` in bulk mode: start the server when it has finished",
                paths.data.display()
            )
        }
        Err(TryLockError::Error(e)) => Err(e).context("locking the data directory"),
    }
}

/// The directory alone, for a bulk load; `None` while a server (or another import) uses it.
pub fn alone(paths: &Paths) -> Result<Option<DataLock>> {
    let file = lock_file(paths)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DataLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e).context("locking the data directory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_share_a_directory_and_a_bulk_load_has_it_alone() {
        let dir = std::env::temp_dir().join(format!("scimkit-lock-{}", scimkit_runtime::storage::new_id()));
        let paths = Paths::new(dir.clone(), None);
        let one = serving(&paths).unwrap();
        let two = serving(&paths).unwrap();
        assert!(alone(&paths).unwrap().is_none(), "not alone while servers run");
        drop((one, two));
        let load = alone(&paths).unwrap().expect("alone once they stopped");
        let refused = serving(&paths).err().expect("no server during a bulk load");
        assert!(refused.to_string().contains("bulk mode"), "{refused}");
        drop(load);
        serving(&paths).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
