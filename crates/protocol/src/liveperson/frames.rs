//! The consumer socket's frames (`/ws_api/account/{account}/messaging/consumer`), with the
//! field and `type` names of LivePerson's "File Sharing for Web Messaging" document.

use crate::ErrorCode;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A request frame: `{"kind":"req","id":…,"type":…,"body":…}`. The `id` may be a number or a
/// string; it comes back as the string `reqId` of the response.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LpRequest {
    /// `req`.
    #[serde(default)]
    pub kind: String,
    /// The request's id, as a string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    /// What is asked, e.g. `ms.GenerateURLForUploadFile`.
    #[serde(rename = "type", default)]
    pub kind_of: String,
    /// The request's body (its shape depends on `type`).
    #[serde(default)]
    pub body: Value,
}

/// A response frame: `{"kind":"resp","reqId":"1","code":200,"body":…,"type":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LpResponse<T> {
    /// `resp`.
    pub kind: String,
    /// The request's `id`, always as a string.
    #[serde(rename = "reqId")]
    pub req_id: String,
    /// 200, or an HTTP-like status for a refusal.
    pub code: u16,
    /// The answer, or an [`LpError`].
    pub body: T,
    /// The response's type, e.g. `ms.BaseGenerateURLResponse`.
    #[serde(rename = "type")]
    pub kind_of: String,
}

impl<T> LpResponse<T> {
    /// A response to request `req_id`.
    pub fn new(req_id: &str, code: u16, kind_of: &str, body: T) -> Self {
        LpResponse { kind: "resp".into(), req_id: req_id.to_owned(), code, body, kind_of: kind_of.to_owned() }
    }
}

/// The body of a refused request (`type` `GenericResponse`, `code` the status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpError {
    /// What went wrong, for people.
    pub msg: String,
    /// Attaché's stable code of the refusal, e.g. `file-sharing-disabled`.
    pub error: ErrorCode,
}

/// A notification frame: `{"kind":"notification","body":…,"type":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LpNotification<T> {
    /// `notification`.
    pub kind: String,
    /// The change.
    pub body: T,
    /// e.g. `ms.MessagingEventNotification`.
    #[serde(rename = "type")]
    pub kind_of: String,
}

impl<T> LpNotification<T> {
    /// A notification of this type.
    pub fn new(kind_of: &str, body: T) -> Self {
        LpNotification { kind: "notification".into(), body, kind_of: kind_of.to_owned() }
    }
}

/// The body of `cm.RequestConversationResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpConversationCreated {
    /// The new conversation (an Attaché contact id).
    pub conversation_id: String,
}

/// The body of `cm.UpdateConversationField`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpUpdateConversation {
    /// The conversation.
    #[serde(default)]
    pub conversation_id: String,
    /// The change; only `conversationState: CLOSE` is supported.
    pub conversation_field: LpConversationField,
}

/// A conversation field change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpConversationField {
    /// e.g. `ConversationStateField`.
    #[serde(default)]
    pub field: Option<String>,
    /// e.g. `CLOSE`.
    #[serde(default)]
    pub conversation_state: Option<String>,
}

/// The body of `ms.GenerateURLForUploadFile`: `{"fileSize": "1000", "fileType": "JPG"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpUploadUrlRequest {
    /// Bytes, as a number or a string of digits.
    #[serde(deserialize_with = "u64_or_string")]
    pub file_size: u64,
    /// `JPG`, `JPEG`, `PNG` or `GIF`.
    pub file_type: String,
}

/// The body of `ms.GenerateURLForDownloadFile`: `{"relativePath": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpDownloadUrlRequest {
    /// A path from an upload URL or a notification.
    pub relative_path: String,
}

/// The body of `ms.BaseGenerateURLResponse`: a temporary URL's path and signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpTempUrl {
    /// `/v1/AUTH_attache/{account}/{id}.{EXT}`.
    pub relative_path: String,
    /// The signature to append as query parameters.
    pub query_params: LpQueryParams,
}

/// The query parameters of a temporary URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpQueryParams {
    /// Hex HMAC over `METHOD\nexpires\npath`.
    pub temp_url_sig: String,
    /// Unix seconds, as a string.
    pub temp_url_expires: String,
}

/// The body of `ms.PublishEvent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpPublishEvent {
    /// The conversation (optional for files: the upload knows it).
    #[serde(default)]
    pub dialog_id: Option<String>,
    /// The event.
    pub event: LpContentEvent,
}

/// A `ContentEvent`: `text/plain` with a string message, or `hosted/file` with an
/// [`LpHostedFile`] message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpContentEvent {
    /// `ContentEvent`.
    #[serde(rename = "type")]
    pub kind_of: String,
    /// `text/plain` (the default) or `hosted/file`.
    #[serde(default = "text_plain")]
    pub content_type: String,
    /// The text, or the file.
    pub message: Value,
}

fn text_plain() -> String {
    "text/plain".into()
}

/// The message of a `hosted/file` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpHostedFile {
    /// Optional caption (the attachment's description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// The path the file was uploaded to (or, in notifications, where it is).
    pub relative_path: String,
    /// `JPG`, `JPEG`, `PNG` or `GIF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    /// Optional thumbnail: `data:image/…;base64,…`, under 30 KB, an image that decodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

/// The body of `ms.PublishEventResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpPublished {
    /// Always 0 (Attaché orders by time).
    pub sequence: u64,
    /// The transcript message's id.
    pub message_id: String,
}

/// The body of `cm.ExConversationChangeNotification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpConversationChanges {
    /// The changed conversations.
    pub changes: Vec<LpConversationChange>,
}

/// One conversation change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpConversationChange {
    /// `UPSERT`.
    #[serde(rename = "type")]
    pub kind_of: String,
    /// The conversation now.
    pub result: LpConversationResult,
}

/// A conversation as a change shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpConversationResult {
    /// The conversation.
    pub conv_id: String,
    /// Its state and agent.
    pub conversation_details: LpConversationDetails,
}

/// A conversation's state and agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpConversationDetails {
    /// `OPEN` or `CLOSE`.
    pub state: String,
    /// The agent's name, once one joined.
    pub agent_name: Option<String>,
}

/// The body of `ms.MessagingEventNotification`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpMessagingEvents {
    /// The conversation.
    pub dialog_id: String,
    /// The new messages.
    pub changes: Vec<LpMessagingEvent>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpMessagingEvent {
    /// Always 0.
    pub sequence: u64,
    /// The message's id.
    pub message_id: String,
    /// Who wrote it.
    pub originator_metadata: LpOriginator,
    /// Unix milliseconds.
    pub server_timestamp: i64,
    /// The message.
    pub event: LpContentEvent,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpOriginator {
    /// `CONSUMER` or `ASSIGNED_AGENT`.
    pub role: String,
    /// The writer's shown name.
    pub name: String,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Value::deserialize(d)?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| serde::de::Error::custom("fileSize is a whole number of bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LpSiteProperty, LP_FILE_SHARING_PROPERTY};

    #[test]
    fn the_documents_frames_parse_and_ids_come_back_as_strings() {
        let doc =
            r#"{"kind":"req","id":1,"body":{"fileSize":"1000","fileType":"JPG"},"type":"ms.GenerateURLForUploadFile"}"#;
        let req: LpRequest = serde_json::from_str(doc).unwrap();
        assert_eq!((req.id.as_str(), req.kind_of.as_str()), ("1", "ms.GenerateURLForUploadFile"));
        let body: LpUploadUrlRequest = serde_json::from_value(req.body).unwrap();
        assert_eq!((body.file_size, body.file_type.as_str()), (1000, "JPG"));
        let bash = r#"{"kind":"req","id":"3","body":{"fileSize":1000,"fileType":"PNG"},"type":"ms.GenerateURLForUploadFile"    }"#;
        let req: LpRequest = serde_json::from_str(bash).unwrap();
        assert_eq!(req.id, "3");

        let url = LpTempUrl {
            relative_path: "/v1/AUTH_attache/acme/x.PNG".into(),
            query_params: LpQueryParams { temp_url_sig: "6f".into(), temp_url_expires: "1474973420".into() },
        };
        let resp = serde_json::to_string(&LpResponse::new("3", 200, "ms.BaseGenerateURLResponse", url)).unwrap();
        assert_eq!(
            resp,
            r#"{"kind":"resp","reqId":"3","code":200,"body":{"relativePath":"/v1/AUTH_attache/acme/x.PNG","queryParams":{"temp_url_sig":"6f","temp_url_expires":"1474973420"}},"type":"ms.BaseGenerateURLResponse"}"#
        );
    }

    #[test]
    fn a_hosted_file_event_parses_as_the_document_writes_it() {
        let doc = r#"{"dialogId":"c1","event":{"type":"ContentEvent","message":{"caption":"LivePerson logo","relativePath":"/v1/p.PNG","fileType":"PNG","preview":"data:image/png;base64,AAAA"},"contentType":"hosted/file"}}"#;
        let p: LpPublishEvent = serde_json::from_str(doc).unwrap();
        assert_eq!(p.event.content_type, "hosted/file");
        let f: LpHostedFile = serde_json::from_value(p.event.message).unwrap();
        assert_eq!(f.caption.as_deref(), Some("LivePerson logo"));
        assert_eq!(f.preview.as_deref(), Some("data:image/png;base64,AAAA"));
    }

    #[test]
    fn site_properties_take_booleans_or_their_strings() {
        let p: LpSiteProperty = serde_json::from_str(
            r#"{"id":"messaging.file.sharing.enabled","type":1,"propertyValue":{"value":"true"}}"#,
        )
        .unwrap();
        assert_eq!(p.as_bool(), Some(true));
        assert_eq!(
            serde_json::to_value(LpSiteProperty::file_sharing(false)).unwrap(),
            serde_json::json!({"id": LP_FILE_SHARING_PROPERTY, "type": 1, "propertyValue": {"value": false}})
        );
    }
}
