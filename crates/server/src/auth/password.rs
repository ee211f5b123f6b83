//! Password hashing (argon2) on a small pool of threads, so that a burst of sign-ins queues
//! instead of piling up 19 MiB hashes; verification with bounded cost.

use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use attache_protocol::ErrorCode;

/// Threads that run argon2. Each hash takes 19 MiB, so this bounds the memory of any burst of
/// sign-ins: a queue of waiting passwords, never a pile of hashes.
const HASH_THREADS: usize = 2;
/// Waiting jobs beyond which a sign-in is turned away (503) instead of queued.
const HASH_QUEUE: usize = 256;

/// After this long without sign-ins a hashing thread gives its memory back.
const HASH_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

type Job = Box<dyn FnOnce() + Send>;

/// Drops this thread's argon2 memory and asks the allocator to return free memory to the system.
fn release_hash_memory() {
    let had = BLOCKS.with(|b| std::mem::take(&mut *b.borrow_mut())).capacity() > 0;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if had {
        // SAFETY: malloc_trim only releases free memory of the allocator; it has no preconditions.
        unsafe {
            libc::malloc_trim(0);
        }
    }
    let _ = had;
}

fn hash_pool() -> &'static std::sync::mpsc::SyncSender<Job> {
    static POOL: std::sync::OnceLock<std::sync::mpsc::SyncSender<Job>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(HASH_QUEUE);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..HASH_THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || loop {
                let job = match rx.lock() {
                    Ok(r) => r.recv_timeout(HASH_IDLE),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => release_hash_memory(),
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = ?e, "could not start a password hashing thread");
            }
        }
        tx
    })
}

/// Runs `f` on the bounded hashing pool.
async fn on_hash_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    if hash_pool().try_send(job).is_err() {
        return Err(AppError::Refused(ErrorCode::Busy, "too many sign-ins at once; try again in a few seconds".into()));
    }
    rx.await.map_err(|_| AppError::Internal(anyhow::anyhow!("the hashing pool dropped a job")))
}

/// Hashes a password with argon2id (on the bounded hashing pool).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    on_hash_pool(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing: {e}")))
    })
    .await?
}

/// Checks a password against a stored hash (on the bounded hashing pool). A missing hash still
/// costs one verification, so unknown users take as long as wrong passwords.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Jq3Cd+1zFoRz9wm8bIZ6m+G2X8bfvGQkOZsZ9KfPxo";
    on_hash_pool(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.to_owned());
        verify_here(password.as_bytes(), &hash) && known
    })
    .await
}

/// Most argon2 memory a verification may use (64 MiB); our hashes use 19 MiB.
const MAX_HASH_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// The hashing thread's argon2 memory, allocated once and reused: no allocator churn, so
    /// memory does not creep up with every sign-in.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Verifies `password` against a PHC string using this thread's reusable argon2 memory.
fn verify_here(password: &[u8], phc: &str) -> bool {
    use argon2::{Algorithm, Params, Version};
    let Ok(h) = PasswordHash::new(phc) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(h.algorithm), Params::try_from(&h)) else { return false };
    let version = match h.version.map(Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let blocks = params.block_count();
    if blocks > MAX_HASH_BLOCKS {
        return false;
    }
    let mut out = vec![0u8; expected.len()];
    let ctx = Argon2::new(algorithm, version, params);
    let hashed = BLOCKS.with(|b| {
        let mut mem = b.borrow_mut();
        if mem.len() < blocks {
            mem.resize(blocks, argon2::Block::default());
        }
        ctx.hash_password_into_with_memory(password, salt, &mut out, &mut mem[..blocks]).is_ok()
    });
    hashed && bool::from(subtle::ConstantTimeEq::ct_eq(out.as_slice(), expected.as_bytes()))
}
