//! [`StaffClient`]: the routes of a signed-in staff user (agent, supervisor, admin) over a bearer
//! [`Session`]. File transfer is the session's, reached through `Deref`.

use crate::{
    Account, AccountPatch, Contact, ContactDetails, ContactId, ContactState, EventStream, LoginRequest, LoginResponse,
    Me, Message, NewUser, ReportFilter, Result, SendMessage, Session, User, UserId, UserPatch, WidgetSettings,
    WidgetSettingsPatch,
};
use reqwest::Method;

/// A client signed in as a staff user.
#[derive(Debug, Clone)]
pub struct StaffClient {
    session: Session,
    token: String,
}

impl std::ops::Deref for StaffClient {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl StaffClient {
    /// Signs in and returns the client with its new session.
    ///
    /// Errors: `bad-credentials` (401) for an unknown account, user or wrong password;
    /// [`crate::ClientError::Unreachable`] when nothing answers at `base`.
    pub async fn login(
        base: &str,
        account: &str,
        username: &str,
        password: &str,
    ) -> Result<(StaffClient, LoginResponse)> {
        let session = Session::bearer(base, "")?;
        let body =
            LoginRequest { account: account.to_owned(), username: username.to_owned(), password: password.to_owned() };
        let resp: LoginResponse = session.send(session.anonymous(Method::POST, "api/login")?.json(&body)).await?;
        let client = StaffClient { session: session.with_token(&resp.token), token: resp.token.clone() };
        Ok((client, resp))
    }

    /// A client for an existing session token (e.g. one kept in the OS keyring).
    /// Check it with [`StaffClient::me`].
    pub fn from_token(base: &str, token: &str) -> Result<StaffClient> {
        Ok(StaffClient { session: Session::bearer(base, token)?, token: token.to_owned() })
    }

    /// The session token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The session under this client (file transfer, the service's address).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Ends the session; the token stops working.
    pub async fn logout(&self) -> Result<()> {
        self.session.send_empty(self.session.request(Method::POST, "api/logout")?).await
    }

    /// The signed-in user and account; `unauthorized` (401) when the session ended.
    pub async fn me(&self) -> Result<LoginResponse> {
        let me: Me = self.session.get("api/me").await?;
        Ok(LoginResponse { token: self.token.clone(), user: me.user, account: me.account })
    }

    /// The account and its plan (admins).
    pub async fn account(&self) -> Result<Account> {
        self.session.get("api/account").await
    }

    /// Changes the plan (admins). `invalid-plan` (422) for a limit beyond 30 MiB.
    pub async fn update_account(&self, patch: &AccountPatch) -> Result<Account> {
        self.session.patch("api/account", patch).await
    }

    /// The customer widget's settings: the sites allowed to embed it, its colour and greeting (admins).
    pub async fn widget_settings(&self) -> Result<WidgetSettings> {
        self.session.get("api/account/widget").await
    }

    /// Changes the widget's settings (admins). `invalid-origin` (422) for a site that is not an
    /// origin such as `https://shop.example`, `invalid-color` (422) for a colour not `#rrggbb`.
    pub async fn update_widget_settings(&self, patch: &WidgetSettingsPatch) -> Result<WidgetSettings> {
        self.session.patch("api/account/widget", patch).await
    }

    /// The account's users (admins).
    pub async fn users(&self) -> Result<Vec<User>> {
        self.session.get("api/users").await
    }

    /// Creates a user (admins). `username-taken` (409) when the name exists.
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        self.session.post("api/users", user).await
    }

    /// Changes a user (admins).
    pub async fn update_user(&self, id: &UserId, patch: &UserPatch) -> Result<User> {
        self.session.patch(&format!("api/users/{id}"), patch).await
    }

    /// The queue and the contacts this user handles or oversees, optionally of one state.
    pub async fn contacts(&self, state: Option<ContactState>) -> Result<Vec<Contact>> {
        let mut req = self.session.request(Method::GET, "api/contacts")?;
        if let Some(s) = state {
            req = req.query(&[("state", s.as_str())]);
        }
        self.session.send(req).await
    }

    /// Takes a queued contact. `contact-not-queued` (409) when someone else was faster.
    pub async fn accept(&self, contact: &ContactId) -> Result<Contact> {
        self.session.post(&format!("api/contacts/{contact}/accept"), &serde_json::json!({})).await
    }

    /// Closes one's active contact; its report starts to age.
    pub async fn close(&self, contact: &ContactId) -> Result<Contact> {
        self.session.post(&format!("api/contacts/{contact}/close"), &serde_json::json!({})).await
    }

    /// Sends a text message to one's active contact.
    pub async fn send_message(&self, contact: &ContactId, body: &str) -> Result<Message> {
        let body = SendMessage { body: body.to_owned() };
        self.session.post(&format!("api/contacts/{contact}/messages"), &body).await
    }

    /// The transcript of one's contact.
    pub async fn messages(&self, contact: &ContactId) -> Result<Vec<Message>> {
        self.session.get(&format!("api/contacts/{contact}/messages")).await
    }

    /// Contact reports the user may read, newest first.
    pub async fn report_contacts(&self, filter: &ReportFilter) -> Result<Vec<Contact>> {
        let req = self.session.request(Method::GET, "api/reports/contacts")?.query(filter);
        self.session.send(req).await
    }

    /// One contact's details with its transcript.
    pub async fn report_contact(&self, contact: &ContactId) -> Result<ContactDetails> {
        self.session.get(&format!("api/reports/contacts/{contact}")).await
    }

    /// Releases a file the checks blocked because the scanner gave no verdict (admins only):
    /// it is delivered into the transcript. A file in which a virus was found cannot be
    /// released (`409 not-releasable`).
    pub async fn release_upload(&self, upload: &attache_protocol::UploadId) -> Result<attache_protocol::Message> {
        self.session.post(&format!("api/reports/uploads/{upload}/release"), &serde_json::json!({})).await
    }

    /// A contact's access records: who opened which file, preview or ZIP, by which grant, when,
    /// from where, whole or range. `no-report-access` (403) for agents without report rights.
    pub async fn access_records(
        &self,
        contact: &ContactId,
        filter: &attache_protocol::AccessFilter,
    ) -> Result<Vec<attache_protocol::AccessRecord>> {
        let req = self.session.request(Method::GET, &format!("api/reports/contacts/{contact}/access"))?.query(filter);
        self.session.send(req).await
    }

    /// Redacts an attachment with a reason: its bytes go, its URLs answer 410, both sides see
    /// the tombstone. The answer holds the message with its tombstone and whether the store
    /// confirmed the bytes gone (`bytes_removed`; when not, the service keeps retrying).
    /// `no-redact-access` (403), `already-removed` (409), `invalid-request` (422) for a reason
    /// that is empty, over 500 characters or has control characters.
    pub async fn redact(
        &self,
        attachment: &attache_protocol::AttachmentId,
        reason: &str,
    ) -> Result<attache_protocol::Redacted> {
        let body = attache_protocol::RedactRequest { reason: reason.to_owned() };
        self.session.post(&format!("api/reports/attachments/{attachment}/redact"), &body).await
    }

    /// Where these attachments stand (present, redacted, expired, gone), up to 500 at once.
    pub async fn file_status(
        &self,
        ids: &[attache_protocol::AttachmentId],
    ) -> Result<Vec<attache_protocol::FileStatus>> {
        let body = attache_protocol::FileStatusRequest { ids: ids.to_vec() };
        self.session.post("api/attachments/status", &body).await
    }

    /// "Download all": the contact's ZIP (attachments, `manifest.json`, `manifest.csv`,
    /// `transcript.txt`) to `dest`, reporting bytes received; an interrupted download resumes
    /// from `dest.part` when called again (unless the archive changed, e.g. by a redaction).
    pub async fn export_contact(
        &self,
        contact: &ContactId,
        dest: &std::path::Path,
        progress: Option<crate::ProgressFn>,
    ) -> Result<crate::Exported> {
        crate::export::export(&self.session, contact, dest, progress).await
    }

    /// Reports > Attachments: files across the contacts this user may review, filtered, one page.
    pub async fn search_attachments(
        &self,
        search: &attache_protocol::AttachmentSearch,
    ) -> Result<attache_protocol::AttachmentPage> {
        let req = self.session.request(Method::GET, "api/reports/attachments")?.query(search);
        self.session.send(req).await
    }

    /// The account's storage: kept, expired and redacted this month (admins; `admin-only` else).
    pub async fn storage_usage(&self) -> Result<attache_protocol::StorageUsage> {
        self.session.get("api/account/storage").await
    }

    /// Opens the staff event stream: queue changes and the messages of one's contacts.
    pub async fn events(&self) -> Result<EventStream> {
        self.session.events("api/events").await
    }
}
