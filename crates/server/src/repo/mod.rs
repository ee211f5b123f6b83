//! Database access, one module per concern. Functions take the pool and return protocol types
//! or small row structs; no HTTP here.

pub mod access_record;
pub mod account;
pub mod attachment;
pub mod contact;
pub mod owed_delete;
pub mod recent_sessions;
pub mod search;
pub mod upload;
pub mod user;
pub mod visitor;
pub mod widget;

/// One row by its key, read on the calling thread's own SQLite connection (see `db::read_here`):
/// the point reads of the busiest paths, where a trip to a pooled connection's thread and back
/// cost more than the read. `None` when it cannot be read there (not SQLite, or that connection
/// failed): the caller reads through the pool.
pub(crate) fn by_key_here<T>(
    db: &crate::db::Db,
    sql: &str,
    key: &str,
    row: impl FnOnce(&rusqlite::Row<'_>) -> Result<T, sqlx::Error>,
) -> Option<Option<T>> {
    crate::db::read_here(db, |c| {
        use rusqlite::OptionalExtension;
        let mut stmt = c.prepare_cached(&crate::db::sqlite_sql(sql))?;
        Ok(stmt.query_row([key], |r| Ok(row(r))).optional()?.transpose()?)
    })
}

/// A stored name read as its enum. An unknown value is corruption (the migrations' `CHECK`s keep
/// it out): it fails the read instead of passing for a default.
/// A row's columns by name, as sqlx (every read) and the SQLite writer's own connection
/// (`rusqlite`, see `db::Writer`) give them: one conversion of a row for both.
pub(crate) trait Columns {
    /// A text column.
    fn text(&self, name: &str) -> Result<String, sqlx::Error>;
    /// A text column that may be NULL.
    fn opt_text(&self, name: &str) -> Result<Option<String>, sqlx::Error>;
    /// An integer column.
    fn int(&self, name: &str) -> Result<i64, sqlx::Error>;
    /// An integer column that may be NULL.
    fn opt_int(&self, name: &str) -> Result<Option<i64>, sqlx::Error>;
}

impl Columns for sqlx::any::AnyRow {
    fn text(&self, name: &str) -> Result<String, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
    fn int(&self, name: &str) -> Result<i64, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
}

fn decode(name: &str, e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: name.to_owned(), source: Box::new(e) }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, name: &str) -> Result<String, sqlx::Error> {
        self.get(name).map_err(|e| decode(name, e))
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        self.get(name).map_err(|e| decode(name, e))
    }
    fn int(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.get(name).map_err(|e| decode(name, e))
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
        self.get(name).map_err(|e| decode(name, e))
    }
}

pub(crate) fn known<T>(column: &str, raw: &str, parsed: Option<T>) -> Result<T, sqlx::Error> {
    parsed.ok_or_else(|| sqlx::Error::Decode(format!("{column} '{raw}' is unknown").into()))
}

/// A stored size or offset; a negative one is corruption, as with [`known`].
pub(crate) fn size(column: &str, v: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(v).map_err(|_| sqlx::Error::Decode(format!("{column} {v} is negative").into()))
}

/// A flag as stored.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}
