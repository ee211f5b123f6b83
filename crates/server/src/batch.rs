//! Background writes that need not hold up a request, gathered into batches: whatever queued
//! while the previous batch was written goes in the next, so a burst costs one trip to the
//! database, not one each. The access log and the removal of sent events use it.

use std::future::Future;
use tokio::sync::{mpsc, oneshot};

enum Item<T> {
    One(T),
    Flush(oneshot::Sender<()>),
}

/// A queue whose items a task of its own writes in batches.
pub struct Batches<T> {
    queue: mpsc::Sender<Item<T>>,
}

impl<T> Clone for Batches<T> {
    fn clone(&self) -> Self {
        Batches { queue: self.queue.clone() }
    }
}

impl<T: Send + 'static> Batches<T> {
    /// A queue of at most `capacity` items, written `most` at a time by `write` (which reports
    /// its own failures), its task started.
    pub fn start<F, Fut>(capacity: usize, most: usize, write: F) -> Batches<T>
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (queue, mut rx) = mpsc::channel(capacity);
        tokio::spawn(async move {
            let mut items = Vec::with_capacity(most);
            while rx.recv_many(&mut items, most).await > 0 {
                let mut batch = Vec::with_capacity(items.len());
                let mut flushed = Vec::new();
                for item in items.drain(..) {
                    match item {
                        Item::One(x) => batch.push(x),
                        Item::Flush(done) => flushed.push(done),
                    }
                }
                if !batch.is_empty() {
                    write(batch).await;
                }
                for done in flushed {
                    let _ = done.send(());
                }
            }
        });
        Batches { queue }
    }

    /// Queues an item; gives it back when the queue is full (or its task gone), for the caller
    /// to write it another way.
    pub fn push(&self, item: T) -> Result<(), T> {
        self.queue.try_send(Item::One(item)).map_err(|e| {
            use mpsc::error::TrySendError;
            let (TrySendError::Full(item) | TrySendError::Closed(item)) = e;
            match item {
                Item::One(x) => x,
                Item::Flush(_) => unreachable!("only items are pushed"),
            }
        })
    }

    /// Returns once every item queued before the call is written (or failed).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Item::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Items queued while a batch is written go together in the next; a full queue gives the
    /// item back; flush waits for what was queued before it.
    #[tokio::test]
    async fn items_queued_together_are_written_together() {
        let written: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let (gate_tx, gate_rx) = tokio::sync::watch::channel(false);
        let w = written.clone();
        let b = Batches::start(4, 3, move |batch: Vec<u32>| {
            let (w, mut gate) = (w.clone(), gate_rx.clone());
            async move {
                // The first batch waits until the test opens the gate.
                let _ = gate.wait_for(|open| *open).await;
                w.lock().unwrap().push(batch);
            }
        });
        b.push(1).unwrap();
        tokio::task::yield_now().await;
        for i in 2..=5 {
            b.push(i).unwrap();
        }
        assert_eq!(b.push(6), Err(6), "a full queue gives the item back");
        gate_tx.send(true).unwrap();
        b.flush().await;
        assert_eq!(*written.lock().unwrap(), vec![vec![1], vec![2, 3, 4], vec![5]]);
    }
}
