//! An S3-compatible object store (AWS S3, MinIO, Ceph RGW, …) through the `object_store` crate:
//! the same [`Store`] contract as the local folder, checked by the same conformance suite.

use super::{ByteStream, Store, StoreError, StoreKey};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use std::ops::Range;
use std::sync::Arc;

/// Parts of 8 MiB; S3 wants at least 5 MiB for every part but the last.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight per upload: bounds the memory one upload can take to a few parts.
const PARTS_IN_FLIGHT: usize = 2;

/// Objects in a bucket, under an optional prefix.
#[derive(Debug)]
pub struct S3Store {
    inner: Arc<AmazonS3>,
    prefix: String,
}

fn io(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => StoreError::Io(std::io::Error::other(other.to_string())),
    }
}

impl S3Store {
    /// `s3://bucket[/prefix]`. Credentials, region and endpoint come from the usual `AWS_*`
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`
    /// for a non-AWS service, `AWS_ALLOW_HTTP=true` for a plain-HTTP one).
    pub fn from_url(url: &str) -> anyhow::Result<S3Store> {
        let rest =
            url.strip_prefix("s3://").ok_or_else(|| anyhow::anyhow!("STORE_URL must look like s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "STORE_URL names no bucket");
        // A few quick retries: a request that waits minutes for a dead bucket holds its client
        // (and the upload's lease) for as long.
        let retry = object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(15),
            ..Default::default()
        };
        let inner = AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry).build()?;
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        Ok(S3Store { inner: Arc::new(inner), prefix })
    }

    fn path(&self, key: &StoreKey) -> ObjectPath {
        self.object_path(key.as_str())
    }

    /// The bucket client (the S3 staging area writes multipart uploads through it).
    pub(crate) fn client(&self) -> Arc<AmazonS3> {
        self.inner.clone()
    }

    /// The path of `rel` under this store's prefix.
    pub(crate) fn object_path(&self, rel: &str) -> ObjectPath {
        ObjectPath::from(format!("{}{rel}", self.prefix))
    }

    /// Objects under the prefix: (files and previews, staging objects).
    pub(crate) async fn census(&self) -> anyhow::Result<(usize, usize)> {
        let root = ObjectPath::from(self.prefix.trim_end_matches('/'));
        let all: Vec<object_store::ObjectMeta> = self.inner.list(Some(&root)).try_collect().await?;
        let staging = self.object_path("staging/").to_string();
        let staged = all.iter().filter(|m| m.location.to_string().starts_with(staging.trim_end_matches('/'))).count();
        Ok((all.len() - staged, staged))
    }

    /// The path of a key (for the staging area, which completes uploads into it).
    pub(crate) fn key_path(&self, key: &StoreKey) -> ObjectPath {
        self.path(key)
    }
}

#[async_trait::async_trait]
impl Store for S3Store {
    async fn put(&self, key: &StoreKey, mut data: ByteStream) -> Result<u64, StoreError> {
        // A multipart upload: nothing is visible under the key until it completes, and a broken
        // stream aborts it, so a failed put leaves no object behind.
        let upload = self.inner.put_multipart(&self.path(key)).await.map_err(io)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut total: u64 = 0;
        while let Some(chunk) = data.next().await {
            match chunk {
                Ok(bytes) => {
                    if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                        let _ = writer.abort().await;
                        return Err(io(e));
                    }
                    total += bytes.len() as u64;
                    writer.put(bytes);
                }
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(StoreError::Io(e));
                }
            }
        }
        writer.finish().await.map_err(io)?;
        Ok(total)
    }

    async fn get(&self, key: &StoreKey, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        let size = self.head(key).await?;
        if let Some(r) = &range {
            if r.start > r.end || r.end > size {
                return Err(StoreError::BadRange(r.clone()));
            }
        }
        let range = range.map(GetRange::Bounded);
        let got = self.inner.get_opts(&self.path(key), GetOptions { range, ..Default::default() }).await.map_err(io)?;
        Ok(Box::pin(got.into_stream().map_err(|e| std::io::Error::other(e.to_string()))))
    }

    async fn head(&self, key: &StoreKey) -> Result<u64, StoreError> {
        let meta = self.inner.head(&self.path(key)).await.map_err(io)?;
        Ok(meta.size as u64)
    }

    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        match self.inner.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conformance suite against a real S3-compatible service: set `ATTACHE_TEST_S3` to an
    /// `s3://bucket/prefix` URL and the `AWS_*` variables (scripts/test.sh starts moto's server).
    #[tokio::test]
    #[ignore = "needs an S3-compatible service (ATTACHE_TEST_S3); scripts/test.sh runs it"]
    async fn s3_store_passes_the_conformance_suite() {
        let url = std::env::var("ATTACHE_TEST_S3").expect("ATTACHE_TEST_S3=s3://bucket/prefix");
        let store = S3Store::from_url(&url).unwrap();
        crate::storage::conformance(&store).await;
    }

    #[test]
    fn urls_name_a_bucket() {
        assert!(S3Store::from_url("http://x").is_err());
        assert!(S3Store::from_url("s3://").is_err());
    }
}
