//! The widget settings of an account: columns of `accounts`.

use crate::db::Db;
use attache_protocol::{AccountId, WidgetSettings};
use sqlx::Row;

const COLUMNS: &str = "widget_origins, widget_color, widget_greeting";

fn from_row(row: &sqlx::any::AnyRow) -> Result<WidgetSettings, sqlx::Error> {
    let origins: String = row.try_get("widget_origins")?;
    let color: String = row.try_get("widget_color")?;
    let greeting: String = row.try_get("widget_greeting")?;
    Ok(WidgetSettings {
        allowed_origins: origins.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        color: Some(color).filter(|c| !c.is_empty()),
        greeting: Some(greeting).filter(|g| !g.is_empty()),
    })
}

/// The settings of the account whose `key` column (`id` or `name`) is `value`.
async fn find(db: &Db, key: &str, value: &str) -> Result<Option<WidgetSettings>, sqlx::Error> {
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE {key} = $1")).bind(value).fetch_optional(db).await?;
    row.as_ref().map(from_row).transpose()
}

/// The settings of the account with this id.
pub async fn get(db: &Db, id: &AccountId) -> Result<Option<WidgetSettings>, sqlx::Error> {
    find(db, "id", id.as_str()).await
}

/// The settings of the account with this name.
pub async fn by_name(db: &Db, name: &str) -> Result<Option<WidgetSettings>, sqlx::Error> {
    find(db, "name", name).await
}

/// Stores validated settings.
pub async fn set(db: &Db, id: &AccountId, w: &WidgetSettings) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET widget_origins = $1, widget_color = $2, widget_greeting = $3 WHERE id = $4")
        .bind(w.allowed_origins.join(","))
        .bind(w.color.clone().unwrap_or_default())
        .bind(w.greeting.clone().unwrap_or_default())
        .bind(id.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Whether any account lists sites that embed its widget.
pub async fn any_embedding(db: &Db) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE widget_origins <> ''").fetch_one(db).await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}
