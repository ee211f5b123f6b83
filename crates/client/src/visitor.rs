//! [`VisitorClient`]: the routes of a customer's browser over a cookie [`Session`] that keeps
//! the `vvcu` cookie the service gives it. File transfer is the session's, reached through
//! `Deref`.

use crate::{Contact, ContactId, EventStream, Message, OpenContact, Result, SendMessage, Session};

/// A client acting as a customer's browser: it keeps the `vvcu` cookie the service gives it.
#[derive(Debug, Clone)]
pub struct VisitorClient {
    session: Session,
}

impl std::ops::Deref for VisitorClient {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl VisitorClient {
    /// A new visitor with no cookie yet; the first call gets one.
    pub fn new(base: &str) -> Result<VisitorClient> {
        Ok(VisitorClient { session: Session::visitor(base, None)? })
    }

    /// A returning visitor, known by a `vvcu` value from an earlier visit.
    pub fn with_vvcu(base: &str, vvcu: &str) -> Result<VisitorClient> {
        Ok(VisitorClient { session: Session::visitor(base, Some(vvcu))? })
    }

    /// The session under this client (file transfer, the service's address).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The `vvcu` cookie's value, once the service has set it.
    pub fn vvcu(&self) -> Option<String> {
        self.session.cookie("vvcu")
    }

    /// Opens a contact with the account; it waits in the queue for an agent.
    pub async fn open_contact(&self, open: &OpenContact) -> Result<Contact> {
        self.session.post("api/visitor/contacts", open).await
    }

    /// One of this visitor's contacts.
    pub async fn contact(&self, contact: &ContactId) -> Result<Contact> {
        self.session.get(&format!("api/visitor/contacts/{contact}")).await
    }

    /// Sends a text message to the agent.
    pub async fn send_message(&self, contact: &ContactId, body: &str) -> Result<Message> {
        let body = SendMessage { body: body.to_owned() };
        self.session.post(&format!("api/visitor/contacts/{contact}/messages"), &body).await
    }

    /// The transcript.
    pub async fn messages(&self, contact: &ContactId) -> Result<Vec<Message>> {
        self.session.get(&format!("api/visitor/contacts/{contact}/messages")).await
    }

    /// Ends the contact from the customer's side.
    pub async fn close(&self, contact: &ContactId) -> Result<Contact> {
        self.session.post(&format!("api/visitor/contacts/{contact}/close"), &serde_json::json!({})).await
    }

    /// Opens the visitor event stream: the messages and state changes of this visitor's contacts.
    pub async fn events(&self) -> Result<EventStream> {
        self.session.events("api/visitor/events").await
    }
}
