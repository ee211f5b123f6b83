//! The Rust SDK of Attaché.
//!
//! [`StaffClient`] speaks for a signed-in staff user (agent, supervisor, admin) with a bearer token;
//! [`VisitorClient`] speaks for a customer's browser, remembered by the `vvcu` cookie. Both open an
//! [`EventStream`] of typed [`Event`]s. The console and the `attache` CLI use nothing else to reach
//! the service.
#![deny(missing_docs)]

mod cache;
mod download;
mod error;
mod events;
mod upload;

pub use attache_protocol as protocol;
pub use attache_protocol::*;
pub use cache::{FileCache, DEFAULT_CACHE_BYTES};
pub use download::{part_path, Downloaded};
pub use error::ClientError;
pub use events::EventStream;
pub use upload::{CancelToken, Progress, ProgressFn, UploadOptions, UploadOutcome, DEFAULT_CHUNK};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use url::Url;

/// Result of an SDK call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Normalises a service address: accepts `host:port` or a full `http(s)://` URL.
pub fn parse_base_url(base: &str) -> Result<Url> {
    let base = base.trim();
    let with_scheme = if base.contains("://") { base.to_owned() } else { format!("http://{base}") };
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| ClientError::InvalidUrl(format!("{base}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ClientError::InvalidUrl(format!("{base}: needs an http or https address")));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
}

impl Inner {
    fn new(base: &str, cookies: Option<Arc<reqwest::cookie::Jar>>) -> Result<Self> {
        let base = parse_base_url(base)?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("attache-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10));
        if let Some(jar) = cookies {
            builder = builder.cookie_provider(jar);
        }
        let http = builder.build().map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self { http, base })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ClientError::InvalidUrl(e.to_string()))
    }

    fn ws_url(&self, path: &str) -> Result<Url> {
        let mut url = self.url(path)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme).map_err(|_| ClientError::InvalidUrl(url.to_string()))?;
        Ok(url)
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = req.send().await.map_err(ClientError::from_reqwest)?;
        let resp = check(resp).await?;
        resp.json::<T>().await.map_err(|e| ClientError::Protocol(e.to_string()))
    }

    async fn send_empty(&self, req: RequestBuilder) -> Result<()> {
        let resp = req.send().await.map_err(ClientError::from_reqwest)?;
        check(resp).await.map(drop)
    }
}

/// What file transfers need: the HTTP client and how to authenticate (bearer for staff; the
/// cookie jar, already in the client, for visitors).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    inner: Arc<Inner>,
    bearer: Option<String>,
}

impl Session {
    fn auth(&self, req: RequestBuilder) -> RequestBuilder {
        match &self.bearer {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }
}

macro_rules! file_transfer_methods {
    () => {
        /// Sends a file to a contact over tus in chunks (each with a SHA-256 checksum), reporting
        /// progress, stoppable with a [`CancelToken`], and resumable: with
        /// [`UploadOptions::state_dir`] an interrupted upload continues from the service's
        /// offset, also from another process. Returns the attachment message once the file
        /// passed the service's checks.
        ///
        /// Errors: `file-too-large` (413) over the plan's limit, `type-not-allowed` (415),
        /// `contact-not-active` (409), `type-mismatch` / `unsafe-svg` / `image-too-large` /
        /// `bad-image` / `bad-file-name` (422) when refused.
        pub async fn upload_file(
            &self,
            contact: &ContactId,
            path: &std::path::Path,
            options: &UploadOptions,
        ) -> Result<UploadOutcome> {
            upload::upload_file(&self.session(), contact, path, options).await
        }

        /// Downloads a file URL (`/files/…` or absolute) to `dest` with this session, resuming
        /// from `dest.part` with `Range`, and verifying the SHA-256 (the given one, else the
        /// `ETag`).
        pub async fn download(
            &self,
            url: &str,
            expected_sha256: Option<&str>,
            dest: &std::path::Path,
        ) -> Result<Downloaded> {
            download::download(&self.session(), url, expected_sha256, dest).await
        }

        /// Downloads an attachment to `dest` (see [`Self::download`]).
        pub async fn download_attachment(&self, attachment: &Attachment, dest: &std::path::Path) -> Result<Downloaded> {
            self.download(&attachment.url, Some(&attachment.sha256), dest).await
        }

        /// The attachment's file from a content-addressed cache, downloaded when missing.
        pub async fn fetch_cached(&self, cache: &FileCache, attachment: &Attachment) -> Result<std::path::PathBuf> {
            cache.fetch(&self.session(), attachment).await
        }

        /// The file at a URL with a known SHA-256 from a content-addressed cache, downloaded
        /// when missing.
        pub async fn fetch_url_cached(&self, cache: &FileCache, url: &str, sha256: &str) -> Result<std::path::PathBuf> {
            cache.fetch_url(&self.session(), url, sha256).await
        }
    };
}

/// Turns an error status into [`ClientError::Api`] with the service's code and message.
async fn check(resp: Response) -> Result<Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ApiError>(&text) {
        Ok(e) => (e.error, e.message),
        Err(_) => (format!("http-{}", status.as_u16()), text),
    };
    Err(ClientError::Api { status: status.as_u16(), code, message })
}

/// A client signed in as a staff user.
#[derive(Debug, Clone)]
pub struct StaffClient {
    inner: Arc<Inner>,
    token: String,
}

impl StaffClient {
    /// Signs in and returns the client with its new session.
    ///
    /// Errors: `bad-credentials` (401) for an unknown account, user or wrong password;
    /// [`ClientError::Unreachable`] when nothing answers at `base`.
    pub async fn login(
        base: &str,
        account: &str,
        username: &str,
        password: &str,
    ) -> Result<(StaffClient, LoginResponse)> {
        let inner = Arc::new(Inner::new(base, None)?);
        let body = LoginRequest {
            account: account.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
        };
        let resp: LoginResponse =
            inner.send(inner.http.post(inner.url("api/login")?).json(&body)).await?;
        let client = StaffClient { inner, token: resp.token.clone() };
        Ok((client, resp))
    }

    /// A client for an existing session token (e.g. one kept in the OS keyring).
    /// Check it with [`StaffClient::me`].
    pub fn from_token(base: &str, token: &str) -> Result<StaffClient> {
        Ok(StaffClient { inner: Arc::new(Inner::new(base, None)?), token: token.to_owned() })
    }

    fn session(&self) -> Session {
        Session { inner: self.inner.clone(), bearer: Some(self.token.clone()) }
    }

    file_transfer_methods!();

    /// The session token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The service address this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    fn req(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        Ok(self
            .inner
            .http
            .request(method, self.inner.url(path)?)
            .bearer_auth(&self.token))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.inner.send(self.req(Method::GET, path)?).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.inner.send(self.req(Method::POST, path)?.json(body)).await
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.inner.send(self.req(Method::PATCH, path)?.json(body)).await
    }

    /// Ends the session; the token stops working.
    pub async fn logout(&self) -> Result<()> {
        self.inner.send_empty(self.req(Method::POST, "api/logout")?).await
    }

    /// The signed-in user and account; `unauthorized` (401) when the session ended.
    pub async fn me(&self) -> Result<LoginResponse> {
        let me: Me = self.get("api/me").await?;
        Ok(LoginResponse { token: self.token.clone(), user: me.user, account: me.account })
    }

    /// The account and its plan (admins).
    pub async fn account(&self) -> Result<Account> {
        self.get("api/account").await
    }

    /// Changes the plan (admins). `invalid-plan` (422) for a limit beyond 30 MiB.
    pub async fn update_account(&self, patch: &AccountPatch) -> Result<Account> {
        self.patch("api/account", patch).await
    }

    /// The account's users (admins).
    pub async fn users(&self) -> Result<Vec<User>> {
        self.get("api/users").await
    }

    /// Creates a user (admins). `username-taken` (409) when the name exists.
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        self.post("api/users", user).await
    }

    /// Changes a user (admins).
    pub async fn update_user(&self, id: &UserId, patch: &UserPatch) -> Result<User> {
        self.patch(&format!("api/users/{id}"), patch).await
    }

    /// The queue and the contacts this user handles or oversees, optionally of one state.
    pub async fn contacts(&self, state: Option<ContactState>) -> Result<Vec<Contact>> {
        let path = match state {
            Some(s) => format!("api/contacts?state={}", s.as_str()),
            None => "api/contacts".to_owned(),
        };
        self.get(&path).await
    }

    /// Takes a queued contact. `contact-not-queued` (409) when someone else was faster.
    pub async fn accept(&self, contact: &ContactId) -> Result<Contact> {
        self.post(&format!("api/contacts/{contact}/accept"), &serde_json::json!({})).await
    }

    /// Closes one's active contact; its report starts to age.
    pub async fn close(&self, contact: &ContactId) -> Result<Contact> {
        self.post(&format!("api/contacts/{contact}/close"), &serde_json::json!({})).await
    }

    /// Sends a text message to one's active contact.
    pub async fn send_message(&self, contact: &ContactId, body: &str) -> Result<Message> {
        self.post(&format!("api/contacts/{contact}/messages"), &SendMessage { body: body.to_owned() })
            .await
    }

    /// The transcript of one's contact.
    pub async fn messages(&self, contact: &ContactId) -> Result<Vec<Message>> {
        self.get(&format!("api/contacts/{contact}/messages")).await
    }

    /// Contact reports the user may read, newest first.
    pub async fn report_contacts(&self, filter: &ReportFilter) -> Result<Vec<Contact>> {
        let mut url = self.inner.url("api/reports/contacts")?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(a) = &filter.agent {
                q.append_pair("agent", a.as_str());
            }
            if let Some(s) = filter.state {
                q.append_pair("state", s.as_str());
            }
            if let Some(f) = filter.from {
                q.append_pair("from", &f.to_rfc3339());
            }
            if let Some(t) = filter.to {
                q.append_pair("to", &t.to_rfc3339());
            }
        }
        let req = self.inner.http.get(url).bearer_auth(&self.token);
        self.inner.send(req).await
    }

    /// One contact's details with its transcript.
    pub async fn report_contact(&self, contact: &ContactId) -> Result<ContactDetails> {
        self.get(&format!("api/reports/contacts/{contact}")).await
    }

    /// Opens the staff event stream: queue changes and the messages of one's contacts.
    pub async fn events(&self) -> Result<EventStream> {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|_| ClientError::InvalidUrl("token is not a header value".into()))?;
        headers.insert(AUTHORIZATION, value);
        EventStream::connect(self.inner.ws_url("api/events")?, headers).await
    }
}

#[derive(serde::Deserialize)]
struct Me {
    user: User,
    account: Account,
}

/// A client acting as a customer's browser: it keeps the `vvcu` cookie the service gives it.
#[derive(Debug, Clone)]
pub struct VisitorClient {
    inner: Arc<Inner>,
    jar: Arc<reqwest::cookie::Jar>,
}

impl VisitorClient {
    /// A new visitor with no cookie yet; the first call gets one.
    pub fn new(base: &str) -> Result<VisitorClient> {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Ok(VisitorClient { inner: Arc::new(Inner::new(base, Some(jar.clone()))?), jar })
    }

    /// A returning visitor, known by a `vvcu` value from an earlier visit.
    pub fn with_vvcu(base: &str, vvcu: &str) -> Result<VisitorClient> {
        let client = Self::new(base)?;
        client.jar.add_cookie_str(&format!("vvcu={vvcu}; Path=/"), &client.inner.base);
        Ok(client)
    }

    fn session(&self) -> Session {
        Session { inner: self.inner.clone(), bearer: None }
    }

    file_transfer_methods!();

    /// The `vvcu` cookie's value, once the service has set it.
    pub fn vvcu(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let header = self.jar.cookies(&self.inner.base)?;
        let header = header.to_str().ok()?;
        header
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == "vvcu")
            .map(|(_, v)| v.to_owned())
    }

    /// Opens a contact with the account; it waits in the queue for an agent.
    pub async fn open_contact(&self, open: &OpenContact) -> Result<Contact> {
        let req = self.inner.http.post(self.inner.url("api/visitor/contacts")?).json(open);
        self.inner.send(req).await
    }

    /// One of this visitor's contacts.
    pub async fn contact(&self, contact: &ContactId) -> Result<Contact> {
        let req = self.inner.http.get(self.inner.url(&format!("api/visitor/contacts/{contact}"))?);
        self.inner.send(req).await
    }

    /// Sends a text message to the agent.
    pub async fn send_message(&self, contact: &ContactId, body: &str) -> Result<Message> {
        let url = self.inner.url(&format!("api/visitor/contacts/{contact}/messages"))?;
        let req = self.inner.http.post(url).json(&SendMessage { body: body.to_owned() });
        self.inner.send(req).await
    }

    /// The transcript.
    pub async fn messages(&self, contact: &ContactId) -> Result<Vec<Message>> {
        let url = self.inner.url(&format!("api/visitor/contacts/{contact}/messages"))?;
        self.inner.send(self.inner.http.get(url)).await
    }

    /// Ends the contact from the customer's side.
    pub async fn close(&self, contact: &ContactId) -> Result<Contact> {
        let url = self.inner.url(&format!("api/visitor/contacts/{contact}/close"))?;
        self.inner.send(self.inner.http.post(url).json(&serde_json::json!({}))).await
    }

    /// Opens the visitor event stream: the messages and state changes of this visitor's contacts.
    pub async fn events(&self) -> Result<EventStream> {
        let mut headers = HeaderMap::new();
        if let Some(v) = self.vvcu() {
            let value = HeaderValue::from_str(&format!("vvcu={v}"))
                .map_err(|_| ClientError::Protocol("bad vvcu cookie".into()))?;
            headers.insert(COOKIE, value);
        }
        EventStream::connect(self.inner.ws_url("api/visitor/events")?, headers).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        assert_eq!(parse_base_url("127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert_eq!(
            parse_base_url("https://chat.example.com/attache?x=1").unwrap().as_str(),
            "https://chat.example.com/attache/"
        );
        assert!(matches!(parse_base_url("ftp://x"), Err(ClientError::InvalidUrl(_))));
        assert!(matches!(parse_base_url("http://"), Err(ClientError::InvalidUrl(_))));
    }
}
