//! The customer widget's embedding: which sites may frame it and how its launcher looks.

use super::text_field;
use crate::auth::{origin_allowed, Staff};
use crate::error::{AppError, AppResult};
use crate::{repo, AppState};
use attache_protocol::{ErrorCode, WidgetConfig, WidgetSettings, WidgetSettingsPatch};
use std::sync::atomic::Ordering;

/// Most sites an account may list.
const MAX_ORIGINS: usize = 20;
/// Longest greeting, in characters.
const MAX_GREETING_CHARS: usize = 200;

/// An origin as browsers send it: `http(s)://host[:port]`, no path, query or credentials;
/// lower-cased, without a trailing slash.
fn origin(raw: &str) -> AppResult<String> {
    let o = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let bad = || {
        AppError::Refused(
            ErrorCode::InvalidOrigin,
            format!(
                "'{}' is not a site origin such as https://shop.example",
                raw.chars().take(100).collect::<String>()
            ),
        )
    };
    let rest = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://")).ok_or_else(bad)?;
    let ok = !rest.is_empty()
        && rest.len() <= 253
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(o)
    } else {
        Err(bad())
    }
}

/// `#rrggbb`, lower-cased.
fn color(raw: &str) -> AppResult<String> {
    let c = raw.trim().to_ascii_lowercase();
    let hex = c.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    match hex {
        Some(_) => Ok(c),
        None => {
            Err(AppError::Refused(ErrorCode::InvalidColor, "the colour must be written #rrggbb, e.g. #1a66d2".into()))
        }
    }
}

/// The account's widget settings (admins).
pub async fn settings(state: &AppState, staff: &Staff) -> AppResult<WidgetSettings> {
    staff.require_admin()?;
    repo::widget::get(&state.db, &staff.account.id).await?.ok_or(AppError::NotFound("account"))
}

/// Changes the account's widget settings (admins): origins are checked and normalised, the
/// colour is `#rrggbb`, the greeting a short line.
pub async fn update(state: &AppState, staff: &Staff, patch: WidgetSettingsPatch) -> AppResult<WidgetSettings> {
    let mut w = settings(state, staff).await?;
    if let Some(list) = patch.allowed_origins {
        if list.len() > MAX_ORIGINS {
            return Err(AppError::Refused(
                ErrorCode::TooManyOrigins,
                format!("at most {MAX_ORIGINS} sites may embed the widget"),
            ));
        }
        let mut origins = Vec::new();
        for o in list.iter().map(|o| origin(o)) {
            let o = o?;
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
        w.allowed_origins = origins;
    }
    if let Some(c) = patch.color {
        w.color = if c.trim().is_empty() { None } else { Some(color(&c)?) };
    }
    if let Some(g) = patch.greeting {
        let g = text_field("the greeting", &g, MAX_GREETING_CHARS, false)?;
        w.greeting = Some(g).filter(|g| !g.is_empty());
    }
    repo::widget::set(&state.db, &staff.account.id, &w).await?;
    refresh_embedding(state).await?;
    Ok(w)
}

/// Re-reads whether any account has embedding sites (the `vvcu` cookie's `SameSite` follows).
pub async fn refresh_embedding(state: &AppState) -> AppResult<()> {
    state.embedding.store(repo::widget::any_embedding(&state.db).await?, Ordering::Relaxed);
    Ok(())
}

/// The sites that may frame this account's widget: the service's `--embed-origin` list and the
/// account's own. Unknown accounts get the service's list alone.
pub async fn frame_ancestors(state: &AppState, account: Option<&str>) -> AppResult<Vec<String>> {
    let mut list = state.config.embed_origins.clone();
    if let Some(name) = account.filter(|a| !a.is_empty()) {
        if let Some(w) = repo::widget::by_name(&state.db, name.trim()).await? {
            list.extend(w.allowed_origins);
        }
    }
    Ok(list)
}

/// What the embed script reads before it shows the launcher. A page of a site that may not embed
/// this account's widget (its `Origin` is neither the service's own, nor listed) is refused with
/// 403 `origin-not-allowed`; requests without an `Origin` (the widget's own page) pass.
pub async fn config(
    state: &AppState,
    account: &str,
    origin: Option<&str>,
    host: Option<&str>,
) -> AppResult<WidgetConfig> {
    let name = account.trim();
    let w = repo::widget::by_name(&state.db, name).await?.ok_or_else(|| AppError::NotFound("account"))?;
    if let Some(o) = origin {
        let mut allowed = state.config.embed_origins.clone();
        allowed.extend(w.allowed_origins.iter().cloned());
        if !origin_allowed(o, host, &allowed) {
            let why = format!("this site ({}) is not one of the sites allowed to embed the chat of '{name}'; an admin adds it in the widget settings", o.chars().take(100).collect::<String>());
            return Err(AppError::Refused(ErrorCode::OriginNotAllowed, why));
        }
    }
    Ok(WidgetConfig { account: name.to_owned(), color: w.color, greeting: w.greeting })
}
