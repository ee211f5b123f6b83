//! Real-time fan-out: every published event names who may receive it; each WebSocket keeps what
//! is meant for it.

use attache_protocol::{AccountId, Contact, Event, UserId, VisitorId};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every staff member of the account (queue changes).
    Staff,
    /// One staff member.
    User(UserId),
    /// One visitor.
    Visitor(VisitorId),
}

/// An event with its account and audiences.
#[derive(Debug)]
pub struct Envelope {
    /// The account the event belongs to.
    pub account: AccountId,
    /// Its receivers.
    pub to: Vec<Audience>,
    /// The event.
    pub event: Event,
}

impl Envelope {
    /// Whether a staff member of `account` receives it.
    pub fn for_staff(&self, account: &AccountId, user: &UserId) -> bool {
        &self.account == account
            && self.to.iter().any(|a| matches!(a, Audience::Staff) || a == &Audience::User(user.clone()))
    }
    /// Whether a visitor receives it.
    pub fn for_visitor(&self, visitor: &VisitorId) -> bool {
        self.to.iter().any(|a| a == &Audience::Visitor(visitor.clone()))
    }
}

/// Sessions that just ended: their live streams close at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// One session (sign-out), by its token hash.
    Session(String),
    /// Every session of a user (new password, disabled).
    User(UserId),
}

/// What travels through the hub.
#[derive(Debug)]
pub enum Signal {
    /// An event for its audiences.
    Event(Envelope),
    /// Sessions that ended.
    Revoked(Revocation),
}

/// The in-process hub.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Signal>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { tx: broadcast::channel(4096).0 }
    }
}

impl Hub {
    /// Sends an event; nobody listening is fine.
    pub fn publish(&self, account: &AccountId, to: Vec<Audience>, event: Event) {
        let _ = self.tx.send(Arc::new(Signal::Event(Envelope { account: account.clone(), to, event })));
    }

    /// Ends the live streams of sessions that were signed out.
    pub fn revoke(&self, revocation: Revocation) {
        let _ = self.tx.send(Arc::new(Signal::Revoked(revocation)));
    }

    /// A change of a contact's state: the whole staff (queue) and the contact's visitor.
    pub fn contact_changed(&self, contact: &Contact, event: Event) {
        let to = vec![Audience::Staff, Audience::Visitor(contact.visitor_id.clone())];
        self.publish(&contact.account_id, to, event);
    }

    /// Something for the two sides of a contact: its agent and its visitor.
    pub fn to_both_sides(&self, contact: &Contact, event: Event) {
        let mut to = vec![Audience::Visitor(contact.visitor_id.clone())];
        if let Some(agent) = &contact.agent_id {
            to.push(Audience::User(agent.clone()));
        }
        self.publish(&contact.account_id, to, event);
    }

    /// A new receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.tx.subscribe()
    }
}
