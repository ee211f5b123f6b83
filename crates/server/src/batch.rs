//! Background writes that need not hold up a request, gathered into batches: whatever queued
//! while the previous batch was written goes in the next, so a burst costs one trip to the
//! database, not one each. The access log and the removal of sent events use it.

use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

enum Item<T> {
    One(T),
    Flush(oneshot::Sender<()>),
}

type Write<T> = Arc<dyn Fn(Vec<T>) -> BoxFuture<'static, ()> + Send + Sync>;

/// A queue whose items a task of its own writes in batches.
pub struct Batches<T> {
    queue: mpsc::Sender<Item<T>>,
    write: Write<T>,
    /// Cuts a batch's wait short for a flush.
    flushing: Arc<tokio::sync::Notify>,
}

impl<T> Clone for Batches<T> {
    fn clone(&self) -> Self {
        Batches { queue: self.queue.clone(), write: self.write.clone(), flushing: self.flushing.clone() }
    }
}

impl<T: Send + 'static> Batches<T> {
    /// A queue of at most `capacity` items, written `most` at a time by `write` (which reports
    /// its own failures), its task started. The first item of a batch waits `linger` for others
    /// to join it (not past `most`, not when more are queued already, not past a flush).
    pub fn start<F, Fut>(capacity: usize, most: usize, linger: std::time::Duration, write: F) -> Batches<T>
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let write: Write<T> = Arc::new(move |batch| Box::pin(write(batch)));
        let (queue, mut rx) = mpsc::channel(capacity);
        let writer = write.clone();
        let flushing = Arc::new(tokio::sync::Notify::new());
        let flush_asked = flushing.clone();
        tokio::spawn(async move {
            let mut items = Vec::with_capacity(most);
            while rx.recv_many(&mut items, most).await > 0 {
                let flush_in = items.iter().any(|i| matches!(i, Item::Flush(_)));
                if !linger.is_zero() && items.len() < most && !flush_in {
                    // One wake-up for the whole wait, not one per item that joins.
                    tokio::select! {
                        _ = tokio::time::sleep(linger) => {}
                        _ = flush_asked.notified() => {}
                    }
                    while items.len() < most {
                        match rx.try_recv() {
                            Ok(item) => items.push(item),
                            Err(_) => break,
                        }
                    }
                }
                let mut batch = Vec::with_capacity(items.len());
                let mut flushed = Vec::new();
                for item in items.drain(..) {
                    match item {
                        Item::One(x) => batch.push(x),
                        Item::Flush(done) => flushed.push(done),
                    }
                }
                if !batch.is_empty() {
                    writer(batch).await;
                }
                for done in flushed {
                    let _ = done.send(());
                }
            }
        });
        Batches { queue, write, flushing }
    }

    /// Queues an item; when the queue is full (or its task gone), a task of its own writes it
    /// alone, as if there were no queue.
    pub fn push(&self, item: T) {
        use mpsc::error::TrySendError;
        if let Err(TrySendError::Full(Item::One(item)) | TrySendError::Closed(Item::One(item))) =
            self.queue.try_send(Item::One(item))
        {
            tokio::spawn((self.write)(vec![item]));
        }
    }

    /// Returns once every item queued before the call is written (or failed).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Item::Flush(done)).await.is_ok() {
            self.flushing.notify_one();
            let _ = written.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Items queued while a batch is written go together in the next; an item finding the queue
    /// full is written alone; flush waits for what was queued before it.
    #[tokio::test]
    async fn items_queued_together_are_written_together() {
        let written: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let (gate_tx, gate_rx) = tokio::sync::watch::channel(false);
        let w = written.clone();
        let b = Batches::start(4, 3, std::time::Duration::ZERO, move |batch: Vec<u32>| {
            let (w, mut gate) = (w.clone(), gate_rx.clone());
            async move {
                // The first batch waits until the test opens the gate.
                let _ = gate.wait_for(|open| *open).await;
                w.lock().unwrap().push(batch);
            }
        });
        b.push(1);
        tokio::task::yield_now().await;
        for i in 2..=6 {
            b.push(i);
        }
        gate_tx.send(true).unwrap();
        b.flush().await;
        // The full queue's item 6 went alone, by a task of its own.
        for _ in 0..100 {
            if written.lock().unwrap().len() == 4 {
                break;
            }
            tokio::task::yield_now().await;
        }
        let mut batches = written.lock().unwrap().clone();
        batches.sort();
        assert_eq!(batches, vec![vec![1], vec![2, 3, 4], vec![5], vec![6]]);
    }

    /// With a linger, items arriving apart share one batch; a flush does not wait it out.
    #[tokio::test]
    async fn items_within_the_linger_share_a_batch_and_a_flush_cuts_it_short() {
        let written: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let w = written.clone();
        let linger = std::time::Duration::from_secs(1);
        let b = Batches::start(16, 8, linger, move |batch: Vec<u32>| {
            let w = w.clone();
            async move { w.lock().unwrap().push(batch) }
        });
        b.push(1);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        b.push(2);
        for _ in 0..50 {
            if !written.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(*written.lock().unwrap(), vec![vec![1, 2]]);

        let b = Batches::start(16, 8, std::time::Duration::from_secs(60), {
            let w = written.clone();
            move |batch: Vec<u32>| {
                let w = w.clone();
                async move { w.lock().unwrap().push(batch) }
            }
        });
        b.push(3);
        tokio::task::yield_now().await;
        tokio::time::timeout(std::time::Duration::from_secs(10), b.flush()).await.expect("a flush within 10 s, not 60");
        assert_eq!(*written.lock().unwrap(), vec![vec![1, 2], vec![3]]);
    }
}
