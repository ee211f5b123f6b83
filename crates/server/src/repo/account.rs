use super::flag;
use crate::db::{new_id, now_us, Db};
use attache_protocol::{Account, AccountId, AccountPatch, Plan};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str =
    "id, name, max_upload_bytes, file_sharing_enabled, report_retention_days, allowed_types, keep_metadata,
    file_retention_days, reports_may_redact";

fn from_row(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account { id: AccountId(row.try_get("id")?), name: row.try_get("name")?, plan: plan_from_row(row)? })
}

/// The plan columns of an account row (also read from joins that select them unprefixed).
pub(super) fn plan_from_row(row: &AnyRow) -> Result<Plan, sqlx::Error> {
    let allowed: String = row.try_get("allowed_types")?;
    Ok(Plan {
        max_upload_bytes: row.try_get::<i64, _>("max_upload_bytes")?.max(0) as u64,
        file_sharing_enabled: row.try_get::<i64, _>("file_sharing_enabled")? != 0,
        report_retention_days: row.try_get::<i64, _>("report_retention_days")?.clamp(0, u32::MAX as i64) as u32,
        allowed_types: allowed.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        keep_metadata: row.try_get::<i64, _>("keep_metadata")? != 0,
        file_retention_days: row.try_get::<i64, _>("file_retention_days")?.clamp(0, u32::MAX as i64) as u32,
        reports_may_redact: row.try_get::<i64, _>("reports_may_redact")? != 0,
    })
}

/// Creates an account with the given plan.
pub async fn create(db: &Db, name: &str, plan: &Plan) -> Result<Account, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO accounts (id, name, max_upload_bytes, file_sharing_enabled, report_retention_days, allowed_types, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(name)
    .bind(plan.max_upload_bytes as i64)
    .bind(flag(plan.file_sharing_enabled))
    .bind(i64::from(plan.report_retention_days))
    .bind(plan.allowed_types.join(","))
    .bind(now_us())
    .execute(db)
    .await?;
    Ok(Account { id: AccountId(id), name: name.to_owned(), plan: plan.clone() })
}

/// The account with this id.
pub async fn get(db: &Db, id: &AccountId) -> Result<Option<Account>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The account with this name.
pub async fn by_name(db: &Db, name: &str) -> Result<Option<Account>, sqlx::Error> {
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE name = $1")).bind(name).fetch_optional(db).await?;
    row.as_ref().map(from_row).transpose()
}

/// Applies a validated patch.
pub async fn update(db: &Db, id: &AccountId, patch: &AccountPatch) -> Result<Option<Account>, sqlx::Error> {
    let Some(mut account) = get(db, id).await? else { return Ok(None) };
    let plan = &mut account.plan;
    if let Some(v) = patch.max_upload_bytes {
        plan.max_upload_bytes = v;
    }
    if let Some(v) = patch.file_sharing_enabled {
        plan.file_sharing_enabled = v;
    }
    if let Some(v) = patch.report_retention_days {
        plan.report_retention_days = v;
    }
    if let Some(v) = &patch.allowed_types {
        plan.allowed_types = v.clone();
    }
    if let Some(v) = patch.keep_metadata {
        plan.keep_metadata = v;
    }
    if let Some(v) = patch.file_retention_days {
        plan.file_retention_days = v;
    }
    if let Some(v) = patch.reports_may_redact {
        plan.reports_may_redact = v;
    }
    sqlx::query(
        "UPDATE accounts SET max_upload_bytes = $1, file_sharing_enabled = $2, report_retention_days = $3,
         allowed_types = $4, keep_metadata = $6, file_retention_days = $7, reports_may_redact = $8 WHERE id = $5",
    )
    .bind(plan.max_upload_bytes as i64)
    .bind(flag(plan.file_sharing_enabled))
    .bind(i64::from(plan.report_retention_days))
    .bind(plan.allowed_types.join(","))
    .bind(id.as_str())
    .bind(flag(plan.keep_metadata))
    .bind(i64::from(plan.file_retention_days))
    .bind(flag(plan.reports_may_redact))
    .execute(db)
    .await?;
    super::recent_sessions::changed();
    Ok(Some(account))
}
