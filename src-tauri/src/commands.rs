//! The commands the page may call (each also listed in `build.rs` and granted in
//! `src-tauri/capabilities/main.json`). Each makes one SDK or keyring call and converts the result.
//! Errors are [`ConsoleError`]s: `{code, message}`.

use crate::session_store::{self, Probe, StoredSession};
use crate::view::{ReportQuery, SessionView, SignInRequest, Startup};
use crate::{live, Active, ConsoleError, ConsoleState, DEFAULT_ACCOUNT, DEFAULT_SERVER};
use attache_client::{Contact, ContactDetails, ContactId, ErrorCode, Message, ReportFilter, StaffClient};
use std::time::Duration;
use tauri::{AppHandle, Manager, State};

type Result<T> = std::result::Result<T, ConsoleError>;

/// How long the keyring may take to answer before the console treats it as absent.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(6);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let task = tauri::async_runtime::spawn_blocking(f);
    tokio::time::timeout(KEYRING_TIMEOUT, task).await.ok()?.ok()
}

/// Probes the OS keyring for a stored session and says what to prefill.
/// Never fails: a missing keyring shows as `keyring_available: false`.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn startup(state: State<'_, ConsoleState>) -> Result<Startup> {
    let probe =
        blocking(session_store::probe).await.unwrap_or_else(|| Probe::Unavailable("the keyring did not answer".into()));
    let env_server = std::env::var("ATTACHE_SERVER").ok().filter(|s| !s.trim().is_empty());
    let mut startup = Startup {
        server: env_server.unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        account: DEFAULT_ACCOUNT.to_owned(),
        username: String::new(),
        has_stored_session: false,
        keyring_available: true,
    };
    match probe {
        Probe::Found(stored) => {
            startup.server = stored.server.clone();
            startup.account = stored.account.clone();
            startup.username = stored.username.clone();
            startup.has_stored_session = true;
            *state.stored.lock().await = Some(stored);
        }
        Probe::Empty => {}
        Probe::Unavailable(why) => {
            tracing::warn!("no OS keyring: {why}");
            startup.keyring_available = false;
        }
    }
    *state.keyring_available.lock().await = Some(startup.keyring_available);
    Ok(startup)
}

async fn activate(app: &AppHandle, state: &ConsoleState, client: StaffClient, view: SessionView) {
    let events = live::spawn(app.clone(), client.clone());
    // The sync at sign-in: copies of files redacted or expired meanwhile leave this machine.
    let (a, c) = (app.clone(), client.clone());
    tauri::async_runtime::spawn(async move {
        if let (Some(index), Some(files)) =
            (a.try_state::<crate::review::CacheIndex>(), a.try_state::<crate::files::Files>())
        {
            let n = index.sync(&files, &c).await;
            tracing::info!(purged = n, "cache synced with the service");
        }
    });
    if let Some(old) = state.active.lock().await.replace(Active { client, view, events }) {
        old.events.abort();
    }
}

/// Resumes the session kept in the keyring, if it still works.
///
/// `None` when nothing is stored or the service ended that session (then it is forgotten).
/// Errors: `unreachable` and the like; the stored session is kept for the next try.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn restore_session(app: AppHandle, state: State<'_, ConsoleState>) -> Result<Option<SessionView>> {
    let Some(stored) = state.stored.lock().await.clone() else {
        return Ok(None);
    };
    let client = StaffClient::from_token(&stored.server, &stored.token)?;
    match client.me().await {
        Ok(me) => {
            state.stored.lock().await.take();
            let view = SessionView::new(&stored.server, &me, true);
            activate(&app, &state, client, view.clone()).await;
            Ok(Some(view))
        }
        Err(e) if e.session_ended() => {
            state.stored.lock().await.take();
            let _ = blocking(session_store::delete).await;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs in, keeps the token in the OS keyring when there is one, and starts live events.
///
/// Errors: `bad-credentials`, `unreachable`, `invalid-server-url`.
#[tauri::command]
#[tracing::instrument(skip_all, fields(server = %request.server, account = %request.account, user = %request.username))]
pub async fn sign_in(app: AppHandle, state: State<'_, ConsoleState>, request: SignInRequest) -> Result<SessionView> {
    let (client, login) =
        StaffClient::login(&request.server, request.account.trim(), request.username.trim(), &request.password)
            .await
            .map_err(ConsoleError::from_sign_in)?;
    let server = client.base_url().as_str().trim_end_matches('/').to_owned();
    let keyring = state.keyring_available.lock().await.unwrap_or(false);
    let remembered = keyring && {
        let stored = StoredSession {
            server: server.clone(),
            account: login.account.name.clone(),
            username: login.user.username.clone(),
            token: login.token.clone(),
        };
        matches!(blocking(move || session_store::save(&stored)).await, Some(Ok(())))
    };
    let view = SessionView::new(&server, &login, remembered);
    activate(&app, &state, client, view.clone()).await;
    Ok(view)
}

/// Ends the session at the service (if it answers), stops live events and forgets the token.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn sign_out(state: State<'_, ConsoleState>) -> Result<()> {
    let active = state.active.lock().await.take();
    state.stored.lock().await.take();
    if let Some(active) = active {
        active.events.abort();
        if let Err(e) = active.client.logout().await {
            tracing::info!("logout at the service failed, forgetting the session anyway: {e}");
        }
    }
    if state.keyring_available.lock().await.unwrap_or(false) {
        match blocking(session_store::delete).await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                return Err(ConsoleError::new(
                    ErrorCode::KeyringError,
                    format!("The session could not be removed from the system keyring: {e}"),
                ))
            }
            None => return Err(ConsoleError::new(ErrorCode::KeyringError, "The system keyring did not answer.")),
        }
    }
    Ok(())
}

/// The queue and this user's contacts.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn list_contacts(state: State<'_, ConsoleState>) -> Result<Vec<Contact>> {
    Ok(state.client().await?.contacts(None).await?)
}

/// Takes a queued contact. Errors: `contact-not-queued` when a colleague was faster.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn accept_contact(state: State<'_, ConsoleState>, contact_id: String) -> Result<Contact> {
    Ok(state.client().await?.accept(&ContactId(contact_id)).await?)
}

/// Ends one's active contact.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn close_contact(state: State<'_, ConsoleState>, contact_id: String) -> Result<Contact> {
    Ok(state.client().await?.close(&ContactId(contact_id)).await?)
}

/// Sends a text message to the customer.
#[tauri::command]
#[tracing::instrument(skip(state, body))]
pub async fn send_message(state: State<'_, ConsoleState>, contact_id: String, body: String) -> Result<Message> {
    Ok(state.client().await?.send_message(&ContactId(contact_id), &body).await?)
}

/// A contact's transcript, oldest first.
#[tauri::command]
#[tracing::instrument(skip(state, files, index))]
pub async fn list_messages(
    state: State<'_, ConsoleState>,
    files: State<'_, crate::files::Files>,
    index: State<'_, crate::review::CacheIndex>,
    contact_id: String,
) -> Result<Vec<Message>> {
    let messages = state.client().await?.messages(&ContactId(contact_id)).await?;
    index.learn(&files, &messages);
    Ok(messages)
}

/// Reports > Contacts: the contacts this user may read, newest first, filtered.
///
/// Errors: `forbidden` (403) in the service's words for users without report rights;
/// `invalid-filter` for a filter the service would not understand.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn report_contacts(state: State<'_, ConsoleState>, query: ReportQuery) -> Result<Vec<Contact>> {
    // The wire type parses the times and the state; a bad value is the agent's to fix.
    let filter: ReportFilter = serde_json::from_value(serde_json::json!({
        "agent": query.agent_id.filter(|s| !s.is_empty()),
        "state": query.state.filter(|s| !s.is_empty()),
        "from": query.from.filter(|s| !s.is_empty()),
        "to": query.to.filter(|s| !s.is_empty()),
    }))
    .map_err(|e| ConsoleError::new(ErrorCode::InvalidFilter, format!("That filter is not valid: {e}")))?;
    Ok(state.client().await?.report_contacts(&filter).await?)
}

/// Reports > Contacts > Contact details: the contact with its transcript and attachments.
#[tauri::command]
#[tracing::instrument(skip(state, files, index))]
pub async fn report_contact(
    state: State<'_, ConsoleState>,
    files: State<'_, crate::files::Files>,
    index: State<'_, crate::review::CacheIndex>,
    contact_id: String,
) -> Result<ContactDetails> {
    let details = state.client().await?.report_contact(&ContactId(contact_id)).await?;
    index.learn(&files, &details.messages);
    Ok(details)
}
