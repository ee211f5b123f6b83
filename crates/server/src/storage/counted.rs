//! A store that counts its failures for `/metrics` (a missing object is an answer, not a
//! failure) and otherwise passes every call through.

use super::{ByteStream, Store, StoreError, StoreKey};
use prometheus::IntCounterVec;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Wraps a store; failures are counted by operation.
#[derive(Debug)]
pub struct Counted {
    inner: Arc<dyn Store>,
    errors: IntCounterVec,
}

impl Counted {
    /// Counts the failures of `inner` in `errors` (label: the operation).
    pub fn new(inner: Arc<dyn Store>, errors: IntCounterVec) -> Counted {
        Counted { inner, errors }
    }

    fn count<T>(&self, op: &str, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &r {
            if !e.is_not_found() {
                self.errors.with_label_values(&[op]).inc();
            }
        }
        r
    }
}

#[async_trait::async_trait]
impl Store for Counted {
    async fn put(&self, key: &StoreKey, data: ByteStream) -> Result<u64, StoreError> {
        self.count("put", self.inner.put(key, data).await)
    }
    async fn get(&self, key: &StoreKey, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        self.count("get", self.inner.get(key, range).await)
    }
    async fn head(&self, key: &StoreKey) -> Result<u64, StoreError> {
        self.count("head", self.inner.head(key).await)
    }
    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.count("delete", self.inner.delete(key).await)
    }
    fn local_path(&self, key: &StoreKey) -> Option<PathBuf> {
        self.inner.local_path(key)
    }
    async fn put_file(&self, key: &StoreKey, path: &Path) -> Result<u64, StoreError> {
        self.count("put", self.inner.put_file(key, path).await)
    }
}
