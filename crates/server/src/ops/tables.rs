//! The tables a deployment carries, in the order their foreign keys need: the one list that
//! `attache migrate`, `--check` and `attache backup` go by. A new table is one line here.

/// One table to carry.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Its primary key (one column): rows are read in its order and skipped when already there.
    pub key: &'static str,
    /// Columns that point at rows of the same table (a user's supervisor): written once every
    /// row of the table is in.
    pub later: &'static [&'static str],
    /// Only the rows matching this condition are carried (the others are reported).
    pub only: Option<&'static str>,
    /// Sessions: left behind with `--without-sessions` (everyone signs in again).
    pub sessions: bool,
}

impl Table {
    const fn new(name: &'static str, key: &'static str) -> Table {
        Table { name, key, later: &[], only: None, sessions: false }
    }
    const fn later(mut self, later: &'static [&'static str]) -> Table {
        self.later = later;
        self
    }
    const fn only(mut self, only: &'static str) -> Table {
        self.only = Some(only);
        self
    }
    const fn sessions(mut self) -> Table {
        self.sessions = true;
        self
    }
}

/// Every table of a deployment, parents before children.
pub const TABLES: &[Table] = &[
    Table::new("accounts", "id"),
    Table::new("users", "id").later(&["supervisor_id"]),
    Table::new("sessions", "token_hash").sessions(),
    Table::new("visitors", "id"),
    Table::new("contacts", "id"),
    Table::new("messages", "id"),
    Table::new("attachments", "id"),
    Table::new("attachment_lookups", "lookup"),
    // Who opened which file, by which grant (supervisors' review); kept with the report.
    Table::new("access_records", "id"),
    // Unfinished uploads stay behind (their bytes are in the source's staging area): listed as
    // dropped in the report; their senders send them again.
    Table::new("uploads", "id").only("state <> 'receiving'"),
    Table::new("pending_events", "id"),
];

/// Tables that are not carried, and why (anything else a source has is reported as unknown).
pub const LEFT_BEHIND: &[(&str, &str)] = &[
    ("event_log", "events relayed between instances, kept for minutes"),
    ("_sqlx_migrations", "the target's schema is migrated by itself"),
    ("owed_deletes", "deletions owed to the source's store: removed files are never carried"),
];

/// A column's type, as the portable schema has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// BIGINT (times, flags, sizes).
    Int,
    /// TEXT.
    Text,
}

impl Kind {
    /// The kind of a declared SQL type, if the portable schema uses it.
    pub fn of(sql_type: &str) -> Option<Kind> {
        let t = sql_type.to_ascii_lowercase();
        if t.contains("int") {
            Some(Kind::Int)
        } else if t.contains("text") || t.contains("char") {
            Some(Kind::Text)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds() {
        assert_eq!(Kind::of("BIGINT"), Some(Kind::Int));
        assert_eq!(Kind::of("bigint"), Some(Kind::Int));
        assert_eq!(Kind::of("INTEGER"), Some(Kind::Int));
        assert_eq!(Kind::of("TEXT"), Some(Kind::Text));
        assert_eq!(Kind::of("character varying"), Some(Kind::Text));
        assert_eq!(Kind::of("REAL"), None);
    }

    #[test]
    fn every_table_is_named_once() {
        let mut names: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        names.extend(LEFT_BEHIND.iter().map(|(n, _)| *n));
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
