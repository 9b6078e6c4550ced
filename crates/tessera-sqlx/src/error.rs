//! sqlx errors as [`AdapterError`]s.

use tessera_core::{AdapterError, AdapterErrorKind};

/// Maps a sqlx error to an adapter error of the matching kind, keeping it as source.
pub(crate) fn db_err(op: &'static str, e: sqlx::Error) -> AdapterError {
    let kind = kind_of(&e);
    AdapterError::with_source(kind, format!("{op} failed"), e)
}

fn kind_of(e: &sqlx::Error) -> AdapterErrorKind {
    match e {
        sqlx::Error::Database(db) => database_kind(db.as_ref()),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => AdapterErrorKind::Unavailable,
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::RowNotFound => AdapterErrorKind::InvalidData,
        _ => AdapterErrorKind::Other,
    }
}

fn database_kind(db: &dyn sqlx::error::DatabaseError) -> AdapterErrorKind {
    match db.kind() {
        sqlx::error::ErrorKind::UniqueViolation => return AdapterErrorKind::Conflict,
        // Only raised where the schema has foreign keys: the user row is missing.
        sqlx::error::ErrorKind::ForeignKeyViolation => return AdapterErrorKind::NotFound,
        _ => {}
    }
    #[cfg(feature = "mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // 1205 lock wait timeout, 1213 deadlock, 1040 too many connections,
        // 1053 server shutdown, 2006/2013 connection lost: retrying later may work.
        if matches!(my.number(), 1205 | 1213 | 1040 | 1053 | 2006 | 2013) {
            return AdapterErrorKind::Unavailable;
        }
    }
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
        let primary = db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff);
        if matches!(primary, Some(5 | 6)) {
            return AdapterErrorKind::Unavailable;
        }
    }
    let code = db.code();
    match code.as_deref() {
        // Serialization failure, deadlock, connection exceptions, insufficient resources,
        // operator intervention (shutdown): transient.
        Some(code)
            if code == "40001"
                || code == "40P01"
                || code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P") =>
        {
            AdapterErrorKind::Unavailable
        }
        _ => AdapterErrorKind::Other,
    }
}

/// A row that could not be read back.
pub(crate) fn invalid(what: impl Into<String>) -> AdapterError {
    AdapterError::new(AdapterErrorKind::InvalidData, what)
}

/// A column that could not be decoded, keeping the decode error as source.
pub(crate) fn decode_err(column: &str, e: sqlx::Error) -> AdapterError {
    AdapterError::with_source(
        AdapterErrorKind::InvalidData,
        format!("cannot read column {column}"),
        e,
    )
}

/// How long the first connection may take before the database is reported unavailable.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens and closes one connection. A pool that cannot connect only says "pool timed out"
/// after its acquire timeout; this fails at once with the database's own error (refused,
/// access denied, unknown database) as source.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn probe<C: sqlx::Connection>(
    options: &C::Options,
    op: &'static str,
) -> Result<(), AdapterError> {
    match tokio::time::timeout(PROBE_TIMEOUT, C::connect_with(options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(db_err(op, e)),
        Err(elapsed) => Err(AdapterError::with_source(
            AdapterErrorKind::Unavailable,
            format!("{op} failed: no answer within {PROBE_TIMEOUT:?}"),
            elapsed,
        )),
    }
}
