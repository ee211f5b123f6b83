//! Wire types of Attaché: the JSON bodies of the HTTP API, the events of its WebSockets, the
//! error codes and the upload protocol's header names.
//!
//! One definition serves the service (which derives its OpenAPI document from them with the
//! `openapi` feature), the Rust SDK and the console (whose TypeScript is generated from them with
//! the `ts` feature). The modules are re-exported flat: `attache_protocol::Contact`.
#![deny(missing_docs)]

mod account;
mod attachment;
mod contact;
mod error;
mod event;
mod ids;
mod liveperson;
mod review;
pub mod tus;

pub use account::*;
pub use attachment::*;
pub use contact::*;
pub use error::*;
pub use event::*;
pub use ids::*;
pub use liveperson::*;
pub use review::*;

use chrono::{DateTime, Utc};

/// A point in time, serialised as RFC 3339 in UTC.
pub type Timestamp = DateTime<Utc>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_wire_shape_is_tagged_snake_case() {
        let json = serde_json::to_value(Event::Ready).unwrap();
        assert_eq!(json, serde_json::json!({"type": "ready"}));
        let contact = Contact {
            id: "c1".into(),
            account_id: "a1".into(),
            state: ContactState::Queued,
            visitor: "v1".into(),
            customer_name: "Carla".into(),
            agent_id: None,
            agent_name: None,
            created_at: "2026-01-02T03:04:05Z".parse().unwrap(),
            accepted_at: None,
            closed_at: None,
            closed_by: None,
            report_expires_at: None,
            files: 0,
        };
        let json = serde_json::to_value(Event::ContactQueued { contact: contact.clone() }).unwrap();
        assert_eq!(json["type"], "contact_queued");
        assert_eq!(json["contact"]["state"], "queued");
        assert_eq!(json["contact"]["created_at"], "2026-01-02T03:04:05Z");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, Event::ContactQueued { contact });
    }

    #[test]
    fn messages_without_attachment_keep_their_shape() {
        let json = serde_json::json!({
            "id": "m1", "contact_id": "c1", "sender": "agent", "sender_name": "Alice",
            "body": "hi", "created_at": "2026-01-02T03:04:05Z"
        });
        let m: Message = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(m.attachment, None);
        assert_eq!(serde_json::to_value(&m).unwrap(), json);
        let e = Event::UploadRefused {
            upload_id: "u1".into(),
            contact_id: "c1".into(),
            name: "a.png".into(),
            error: ApiError::new(ErrorCode::TypeMismatch, "no"),
            releasable: false,
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], "upload_refused");
    }

    #[test]
    fn patches_refuse_unknown_fields() {
        let err = serde_json::from_str::<AccountPatch>(r#"{"max_upload":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"));
    }

    #[test]
    fn visitor_credentials_stay_out_of_debug_output() {
        let v = VisitorId("0123456789abcdef0123456789abcdef".into());
        assert!(!format!("{v:?}").contains("0123"));
        assert_eq!(v.to_string(), v.as_str());
    }

    #[test]
    fn names_round_trip() {
        for r in [Role::Agent, Role::Supervisor, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for s in [ContactState::Queued, ContactState::Active, ContactState::Closed] {
            assert_eq!(ContactState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Sender::parse("bot"), None);
    }
}
