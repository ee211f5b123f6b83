//! Rows of any table of the portable schema, read and written generically: columns are found in
//! the database's own catalogue (the one place where SQLite and PostgreSQL differ here), values
//! are BIGINT or TEXT, pages go in key order.

use super::tables::{Kind, Table};
use crate::db::{Backend, Db};
use anyhow::Context;
use sqlx::Row as _;
use std::collections::HashMap;

/// Rows read or written at once.
pub const PAGE: i64 = 200;

/// One database of a deployment.
#[derive(Clone)]
pub struct Side {
    /// Its pool.
    pub db: Db,
    /// Which database it is.
    pub backend: Backend,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A BIGINT (or NULL).
    Int(Option<i64>),
    /// A TEXT (or NULL).
    Text(Option<String>),
}

impl Value {
    fn is_null(&self) -> bool {
        matches!(self, Value::Int(None) | Value::Text(None))
    }

    /// The value as text (keys).
    pub fn text(&self) -> String {
        match self {
            Value::Int(Some(v)) => v.to_string(),
            Value::Text(Some(v)) => v.clone(),
            _ => String::new(),
        }
    }
}

/// A row: its values in the order of the columns it was read with.
pub type Row = Vec<Value>;

/// A table's columns and their kinds.
#[derive(Debug, Clone)]
pub struct Columns(pub Vec<(String, Kind)>);

impl Columns {
    /// The position of a column.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|(n, _)| n == name)
    }

    fn list(&self) -> String {
        self.0.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl Side {
    /// The tables the database holds.
    pub async fn tables(&self) -> anyhow::Result<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let rows = sqlx::query(sql).fetch_all(&self.db).await.context("listing tables")?;
        rows.iter().map(|r| Ok(r.try_get::<String, _>(0)?)).collect()
    }

    /// A table's columns, as the database declares them.
    pub async fn columns(&self, table: &str) -> anyhow::Result<Columns> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            Backend::Postgres => {
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
            }
        };
        let rows =
            sqlx::query(sql).bind(table).fetch_all(&self.db).await.with_context(|| format!("columns of {table}"))?;
        let mut out = Vec::new();
        for r in rows {
            let (name, ty): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            let kind =
                Kind::of(&ty).with_context(|| format!("{table}.{name} has the type {ty}, not BIGINT or TEXT"))?;
            out.push((name, kind));
        }
        anyhow::ensure!(!out.is_empty(), "the table {table} is missing");
        Ok(Columns(out))
    }

    /// How many rows the table has (those it carries, with `only`).
    pub async fn count(&self, t: &Table) -> anyhow::Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}{}", t.name, only(t, "WHERE"));
        Ok(sqlx::query(&sql).fetch_one(&self.db).await?.try_get::<i64, _>(0)?)
    }

    /// Up to [`PAGE`] rows after the key `after`, in key order.
    pub async fn page(&self, t: &Table, cols: &Columns, after: &str) -> anyhow::Result<Vec<Row>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} > $1{} ORDER BY {} LIMIT {PAGE}",
            cols.list(),
            t.name,
            t.key,
            only(t, "AND"),
            t.key
        );
        let rows =
            sqlx::query(&sql).bind(after).fetch_all(&self.db).await.with_context(|| format!("reading {}", t.name))?;
        rows.iter().map(|r| decode(r, cols)).collect()
    }

    /// The rows with these keys, by key.
    pub async fn by_keys(&self, t: &Table, cols: &Columns, keys: &[String]) -> anyhow::Result<HashMap<String, Row>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {} FROM {} WHERE {} IN ({})", cols.list(), t.name, t.key, marks.join(", "));
        let mut q = sqlx::query(&sql);
        for k in keys {
            q = q.bind(k);
        }
        let key_at = cols.index(t.key).context("key column")?;
        let mut out = HashMap::new();
        for r in q.fetch_all(&self.db).await.with_context(|| format!("reading {}", t.name))? {
            let row = decode(&r, cols)?;
            out.insert(row[key_at].text(), row);
        }
        Ok(out)
    }

    /// Inserts rows that are not there yet (by key); the `later` columns go in as NULL. Returns
    /// how many were new.
    pub async fn insert(&self, t: &Table, cols: &Columns, rows: &[Row]) -> anyhow::Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let width = cols.0.len();
        let tuples: Vec<String> = (0..rows.len())
            .map(|r| format!("({})", (1..=width).map(|c| format!("${}", r * width + c)).collect::<Vec<_>>().join(", ")))
            .collect();
        let sql =
            format!("INSERT INTO {} ({}) VALUES {} ON CONFLICT DO NOTHING", t.name, cols.list(), tuples.join(", "));
        let mut q = sqlx::query(&sql);
        for row in rows {
            for ((name, kind), v) in cols.0.iter().zip(row) {
                let v = if t.later.contains(&name.as_str()) { null(*kind) } else { v.clone() };
                q = match v {
                    Value::Int(i) => q.bind(i),
                    Value::Text(s) => q.bind(s),
                };
            }
        }
        let done = q.execute(&self.db).await.with_context(|| format!("writing {}", t.name))?;
        Ok(done.rows_affected())
    }

    /// Writes the `later` columns of rows (once every row of the table is in).
    pub async fn set_later(&self, t: &Table, cols: &Columns, rows: &[Row]) -> anyhow::Result<()> {
        let key_at = cols.index(t.key).context("key column")?;
        for col in t.later {
            let at = cols.index(col).with_context(|| format!("{}.{col} is missing", t.name))?;
            let sql = format!("UPDATE {} SET {col} = $1 WHERE {} = $2", t.name, t.key);
            for row in rows.iter().filter(|r| !r[at].is_null()) {
                let q = match &row[at] {
                    Value::Int(i) => sqlx::query(&sql).bind(*i),
                    Value::Text(s) => sqlx::query(&sql).bind(s.clone()),
                };
                q.bind(row[key_at].text())
                    .execute(&self.db)
                    .await
                    .with_context(|| format!("writing {}.{col}", t.name))?;
            }
        }
        Ok(())
    }
}

fn only(t: &Table, join: &str) -> String {
    t.only.map(|c| format!(" {join} {c}")).unwrap_or_default()
}

fn null(kind: Kind) -> Value {
    match kind {
        Kind::Int => Value::Int(None),
        Kind::Text => Value::Text(None),
    }
}

fn decode(r: &sqlx::any::AnyRow, cols: &Columns) -> anyhow::Result<Row> {
    cols.0
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            Ok(match kind {
                Kind::Int => Value::Int(r.try_get(i).with_context(|| format!("reading {name}"))?),
                Kind::Text => Value::Text(r.try_get(i).with_context(|| format!("reading {name}"))?),
            })
        })
        .collect()
}
