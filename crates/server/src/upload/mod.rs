//! tus 1.0 machinery below the HTTP handlers: the staging area where chunks land, header
//! parsing, and per-upload locks.

pub mod staging;
pub mod tus;

pub use staging::{Checksum, Staging, WriteOutcome};

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// In-process locks, one per upload: two PATCHes of one upload never write at once.
/// (With several instances the load balancer must keep an upload on one instance, or these
/// become advisory database locks.)
#[derive(Debug, Default, Clone)]
pub struct Locks {
    held: Arc<Mutex<HashSet<String>>>,
}

/// Holds an upload's lock until dropped.
#[derive(Debug)]
pub struct LockGuard {
    held: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Locks {
    /// Takes the lock of `id`, or `None` when another request holds it.
    pub fn try_lock(&self, id: &str) -> Option<LockGuard> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(id.to_owned()).then(|| LockGuard { held: self.held.clone(), id: id.to_owned() })
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let locks = Locks::default();
        let a = locks.try_lock("u1").unwrap();
        assert!(locks.try_lock("u1").is_none());
        assert!(locks.try_lock("u2").is_some());
        drop(a);
        assert!(locks.try_lock("u1").is_some());
    }
}
