//! Real-time fan-out: every published event names who may receive it; each WebSocket keeps what
//! is meant for it.
//!
//! One instance delivers in memory. Several instances on one PostgreSQL database also pass every
//! signal through the database ([`Hub::with_postgres`]): the payload goes into `event_log` and
//! `NOTIFY attache_events` carries its id, so each instance's sockets see every instance's events.

use crate::db::{new_id, now_us, Db};
use attache_protocol::{AccountId, Contact, ContactState, Event, UserId, VisitorRef};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every staff member of the account (queue changes).
    Staff,
    /// One staff member.
    User(UserId),
    /// One visitor, by its public id.
    Visitor(VisitorRef),
}

/// An event with its account and audiences.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The account the event belongs to.
    pub account: AccountId,
    /// Its receivers.
    pub to: Vec<Audience>,
    /// The event.
    pub event: Event,
    /// When it was published here (for the delay to its sockets; not carried between instances).
    #[serde(skip)]
    pub published: Option<std::time::Instant>,
    /// The event as JSON, made once for all the sockets it goes to.
    #[serde(skip)]
    json: std::sync::OnceLock<Option<axum::extract::ws::Utf8Bytes>>,
}

impl Envelope {
    /// An envelope for an event.
    pub fn new(account: AccountId, to: Vec<Audience>, event: Event) -> Envelope {
        Envelope { account, to, event, published: Some(std::time::Instant::now()), json: Default::default() }
    }

    /// The event's JSON text, serialised by the first socket that sends it and shared by the
    /// others (10,000 staff sockets used to serialise it 10,000 times).
    pub fn text(&self) -> Option<axum::extract::ws::Utf8Bytes> {
        self.json.get_or_init(|| serde_json::to_string(&self.event).ok().map(Into::into)).clone()
    }

    /// Whether a staff member of `account` receives it.
    pub fn for_staff(&self, account: &AccountId, user: &UserId) -> bool {
        &self.account == account
            && self.to.iter().any(|a| matches!(a, Audience::Staff) || a == &Audience::User(user.clone()))
    }
    /// Whether a visitor with one of these public ids receives it.
    pub fn for_visitor(&self, visitors: &[VisitorRef]) -> bool {
        self.to.iter().any(|a| matches!(a, Audience::Visitor(v) if visitors.contains(v)))
    }
}

/// Sessions that just ended: their live streams close at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revocation {
    /// One session (sign-out), by its token hash.
    Session(String),
    /// Every session of a user (new password, disabled).
    User(UserId),
}

/// What travels through the hub (behind an `Arc`, so the variants' sizes do not matter).
#[derive(Debug, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum Signal {
    /// An event for its audiences.
    Event(Envelope),
    /// Sessions that ended.
    Revoked(Revocation),
}

/// The NOTIFY channel between instances.
pub const CHANNEL: &str = "attache_events";
/// How long relayed payloads stay in `event_log`.
const EVENT_LOG_KEEP_US: i64 = 5 * 60 * 1_000_000;

/// The hub: local delivery, plus the relay to other instances when there is one.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Signal>>,
    relay: Option<mpsc::UnboundedSender<String>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { tx: broadcast::channel(4096).0, relay: None }
    }
}

impl Hub {
    /// A hub whose signals also reach (and come from) the other instances on this PostgreSQL
    /// database. Local sockets get local signals at once; the relay keeps their order.
    pub async fn with_postgres(db: Db, url: &str) -> anyhow::Result<Hub> {
        let tx = broadcast::channel(4096).0;
        let instance = new_id();
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let (relay, mut outbox) = mpsc::unbounded_channel::<String>();
        // Outgoing: one task, so this instance's signals leave in the order they happened.
        let (out_db, me) = (db.clone(), instance.clone());
        tokio::spawn(async move {
            while let Some(payload) = outbox.recv().await {
                if let Err(e) = relay_out(&out_db, &me, &payload).await {
                    tracing::error!(error = ?e, "event relay: could not pass an event to other instances");
                }
            }
        });
        // Incoming: every other instance's signals, delivered to this one's sockets.
        let local = tx.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        let Some((from, id)) = n.payload().split_once(':') else { continue };
                        if from == instance {
                            continue;
                        }
                        match relay_in(&db, id).await {
                            Ok(Some(signal)) => {
                                let _ = local.send(Arc::new(signal));
                            }
                            Ok(None) => {}
                            Err(e) => tracing::error!(error = ?e, "event relay: could not read an event"),
                        }
                    }
                    // PgListener reconnects by itself on the next recv; don't spin meanwhile.
                    Err(e) => {
                        tracing::warn!(error = ?e, "event relay: listener connection lost");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(Hub { tx, relay: Some(relay) })
    }

    fn send(&self, signal: Signal) {
        if let Some(relay) = &self.relay {
            match serde_json::to_string(&signal) {
                Ok(payload) => {
                    let _ = relay.send(payload);
                }
                Err(e) => tracing::error!(error = ?e, "event relay: could not serialise"),
            }
        }
        let _ = self.tx.send(Arc::new(signal));
    }

    /// Sends an event; nobody listening is fine.
    pub fn publish(&self, account: &AccountId, to: Vec<Audience>, event: Event) {
        self.send(Signal::Event(Envelope::new(account.clone(), to, event)));
    }

    /// Ends the live streams of sessions that were signed out.
    pub fn revoke(&self, revocation: Revocation) {
        self.send(Signal::Revoked(revocation));
    }

    /// A change of a contact's state: the whole staff (queue) and the contact's visitor.
    pub fn contact_changed(&self, contact: &Contact, event: Event) {
        let to = vec![Audience::Staff, Audience::Visitor(contact.visitor.clone())];
        self.publish(&contact.account_id, to, event);
    }

    /// Something for the two sides of a contact: its agent and its visitor. A file that arrives
    /// while the contact waits in the queue is the visitor's alone; the staff are told the
    /// contact's new file count (`contact_queued` again), no names, no bytes.
    pub fn to_both_sides(&self, contact: &Contact, event: Event) {
        let mut to = vec![Audience::Visitor(contact.visitor.clone())];
        if let Some(agent) = &contact.agent_id {
            to.push(Audience::User(agent.clone()));
        }
        let file_waits = contact.state == ContactState::Queued && matches!(event, Event::AttachmentReady { .. });
        self.publish(&contact.account_id, to, event);
        if file_waits {
            self.publish(&contact.account_id, vec![Audience::Staff], Event::ContactQueued { contact: contact.clone() });
        }
    }

    /// A new receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.tx.subscribe()
    }
}

async fn relay_out(db: &Db, instance: &str, payload: &str) -> Result<(), sqlx::Error> {
    let id = new_id();
    sqlx::query("INSERT INTO event_log (id, payload, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(payload)
        .bind(now_us())
        .execute(db)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(format!("{instance}:{id}")).execute(db).await?;
    Ok(())
}

async fn relay_in(db: &Db, id: &str) -> Result<Option<Signal>, sqlx::Error> {
    let row = sqlx::query("SELECT payload FROM event_log WHERE id = $1").bind(id).fetch_optional(db).await?;
    let Some(row) = row else { return Ok(None) };
    let payload: String = row.try_get("payload")?;
    Ok(serde_json::from_str(&payload).map_err(|e| tracing::error!(error = ?e, "event relay: bad payload")).ok())
}

/// Forgets relayed payloads every instance has had time to read.
pub async fn sweep_event_log(db: &Db) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM event_log WHERE created_at < $1")
        .bind(now_us() - EVENT_LOG_KEEP_US)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_survive_the_relay_encoding() {
        let s = Signal::Revoked(Revocation::User(UserId("u1".into())));
        let back: Signal = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert!(matches!(back, Signal::Revoked(Revocation::User(u)) if u.as_str() == "u1"));
        let e = Signal::Event(Envelope::new(
            "a".into(),
            vec![Audience::Staff, Audience::Visitor("v".into())],
            Event::Ready,
        ));
        let back: Signal = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        let Signal::Event(env) = back else { panic!() };
        assert!(
            env.for_staff(&"a".into(), &"x".into())
                && env.for_visitor(&["v".into()])
                && !env.for_visitor(&["w".into()])
        );
        assert_eq!(env.text().as_deref(), Some(r#"{"type":"ready"}"#), "the JSON a socket sends");
    }
}
