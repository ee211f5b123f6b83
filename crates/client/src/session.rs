//! The one client core: a [`Session`] is the HTTP client, the service's address and an [`Auth`]
//! (a staff bearer token or a visitor's cookie jar). It owns the request helpers every call goes
//! through, turning error answers into [`ClientError::Api`], and file transfer (tus uploads,
//! verified downloads, the cache), written once for both kinds of caller.
//!
//! It does not know the routes of either side: [`crate::StaffClient`] and
//! [`crate::VisitorClient`] name those, over a `Session` each.

use crate::error::check;
use crate::{
    download, upload, Attachment, ClientError, ContactId, Downloaded, EventStream, FileCache, Result, UploadOptions,
    UploadOutcome,
};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

/// How a session proves who it is.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A staff session token, sent as `Authorization: Bearer …`.
    Bearer(String),
    /// A visitor's cookies (`vvcu`, `vvca`), kept as a browser would and sent with each request.
    Cookies(Arc<Jar>),
}

/// Normalises a service address: accepts `host:port` or a full `http(s)://` URL.
pub fn parse_base_url(base: &str) -> Result<Url> {
    let base = base.trim();
    let with_scheme = if base.contains("://") { base.to_owned() } else { format!("http://{base}") };
    let mut url = Url::parse(&with_scheme).map_err(|e| ClientError::InvalidUrl(format!("{base}: {e}")))?;
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

/// A connection to the service as one caller: cheap to clone, shared by clones.
#[derive(Debug, Clone)]
pub struct Session {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
}

impl Session {
    /// A session at `base` (see [`parse_base_url`]) authenticated by `auth`. Makes no request.
    pub fn new(base: &str, auth: Auth) -> Result<Session> {
        let base = parse_base_url(base)?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("attache-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10));
        if let Auth::Cookies(jar) = &auth {
            builder = builder.cookie_provider(jar.clone());
        }
        let http = builder.build().map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Session { http, base, auth })
    }

    /// A staff session for a token.
    pub fn bearer(base: &str, token: &str) -> Result<Session> {
        Session::new(base, Auth::Bearer(token.to_owned()))
    }

    /// A visitor's session: a fresh cookie jar, holding `vvcu` when it is known from a visit.
    pub fn visitor(base: &str, vvcu: Option<&str>) -> Result<Session> {
        let jar = Arc::new(Jar::default());
        let session = Session::new(base, Auth::Cookies(jar.clone()))?;
        if let Some(v) = vvcu {
            jar.add_cookie_str(&format!("vvcu={v}; Path=/"), &session.base);
        }
        Ok(session)
    }

    /// The service address this session talks to.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// How this session authenticates.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The value of one of the session's cookies for the service (none for a bearer session).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let Auth::Cookies(jar) = &self.auth else {
            return None;
        };
        let header = jar.cookies(&self.base)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// A path (or absolute URL) under the service's address.
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path.trim_start_matches('/')).map_err(|e| ClientError::InvalidUrl(e.to_string()))
    }

    /// The same connection with a staff token (the one a sign-in returned).
    pub(crate) fn with_token(mut self, token: &str) -> Session {
        self.auth = Auth::Bearer(token.to_owned());
        self
    }

    /// A request without credentials (the sign-in itself).
    pub(crate) fn anonymous(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        Ok(self.http.request(method, self.url(path)?))
    }

    /// An authenticated request; cookies are added by the client itself.
    pub(crate) fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let req = self.http.request(method, self.url(path)?);
        Ok(match &self.auth {
            Auth::Bearer(token) => req.bearer_auth(token),
            Auth::Cookies(_) => req,
        })
    }

    /// Sends a request and reads the JSON answer.
    pub(crate) async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = check(req.send().await.map_err(ClientError::from_reqwest)?).await?;
        resp.json::<T>().await.map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Sends a request whose answer has no body worth reading.
    pub(crate) async fn send_empty(&self, req: RequestBuilder) -> Result<()> {
        check(req.send().await.map_err(ClientError::from_reqwest)?).await.map(drop)
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)?).await
    }

    pub(crate) async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(Method::POST, path)?.json(body)).await
    }

    pub(crate) async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(Method::PATCH, path)?.json(body)).await
    }

    /// Opens an event stream at `path`, presenting the token or the cookies.
    pub(crate) async fn events(&self, path: &str) -> Result<EventStream> {
        let http_url = self.url(path)?;
        let mut headers = HeaderMap::new();
        match &self.auth {
            Auth::Bearer(token) => {
                let value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| ClientError::InvalidUrl("token is not a header value".into()))?;
                headers.insert(AUTHORIZATION, value);
            }
            Auth::Cookies(jar) => {
                if let Some(cookies) = jar.cookies(&http_url) {
                    headers.insert(COOKIE, cookies);
                }
            }
        }
        let mut url = http_url;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme).map_err(|_| ClientError::InvalidUrl(url.to_string()))?;
        EventStream::connect(url, headers).await
    }

    /// Sends a file to a contact over tus in chunks (each with a SHA-256 checksum), reporting
    /// progress, stoppable with a [`crate::CancelToken`], and resumable: with
    /// [`UploadOptions::state_dir`] an interrupted upload continues from the service's offset,
    /// also from another process. Returns the attachment message once the file passed the
    /// service's checks.
    ///
    /// Errors: `file-too-large` (413) over the plan's limit, `type-not-allowed` (415),
    /// `contact-not-active` (409), `type-mismatch` / `unsafe-svg` / `image-too-large` /
    /// `bad-image` / `bad-file-name` (422) when refused.
    pub async fn upload_file(
        &self,
        contact: &ContactId,
        path: &Path,
        options: &UploadOptions,
    ) -> Result<UploadOutcome> {
        upload::upload_file(self, contact, path, options).await
    }

    /// Downloads a file URL (`/files/…` or absolute) to `dest` with this session, resuming from
    /// `dest.part` with `Range`, and verifying the SHA-256 (the given one, else the `ETag`).
    pub async fn download(&self, url: &str, expected_sha256: Option<&str>, dest: &Path) -> Result<Downloaded> {
        download::download(self, url, expected_sha256, dest).await
    }

    /// Downloads an attachment to `dest` (see [`Self::download`]).
    pub async fn download_attachment(&self, attachment: &Attachment, dest: &Path) -> Result<Downloaded> {
        self.download(&attachment.url, Some(&attachment.sha256), dest).await
    }

    /// The attachment's file from a content-addressed cache, downloaded when missing.
    pub async fn fetch_cached(&self, cache: &FileCache, attachment: &Attachment) -> Result<PathBuf> {
        cache.fetch(self, attachment).await
    }

    /// The file at a URL with a known SHA-256 from a content-addressed cache, downloaded when
    /// missing.
    pub async fn fetch_url_cached(&self, cache: &FileCache, url: &str, sha256: &str) -> Result<PathBuf> {
        cache.fetch_url(self, url, sha256).await
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

    #[test]
    fn a_bearer_session_has_no_cookies_and_a_visitor_keeps_vvcu() {
        let staff = Session::bearer("127.0.0.1:1", "t0k3n").unwrap();
        assert!(matches!(staff.auth(), Auth::Bearer(t) if t == "t0k3n"));
        assert_eq!(staff.cookie("vvcu"), None);
        let visitor = Session::visitor("127.0.0.1:1", Some("abc")).unwrap();
        assert_eq!(visitor.cookie("vvcu").as_deref(), Some("abc"));
        assert_eq!(Session::visitor("127.0.0.1:1", None).unwrap().cookie("vvcu"), None);
    }

    #[test]
    fn requests_carry_the_bearer_token() {
        let staff = Session::bearer("127.0.0.1:1", "t0k3n").unwrap();
        let req = staff.request(Method::GET, "api/me").unwrap().build().unwrap();
        assert_eq!(req.url().as_str(), "http://127.0.0.1:1/api/me");
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer t0k3n");
        let visitor = Session::visitor("127.0.0.1:1", Some("abc")).unwrap();
        let req = visitor.request(Method::GET, "/api/visitor/contacts/x").unwrap().build().unwrap();
        assert!(req.headers().get(AUTHORIZATION).is_none());
    }
}
