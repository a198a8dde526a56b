//! The PostgreSQL connection pool every service builds the same way: plain TCP (the database
//! sits next to the services), connections recycled by a cheap check, and bounded waits so a
//! stuck database answers `503` instead of holding requests forever.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::str::FromStr;
use std::time::Duration;

/// How long a caller waits for a free connection, and for a new one to be opened.
pub const POOL_WAIT: Duration = Duration::from_secs(5);

/// Why a pool could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The URL does not parse; the message names what to fix.
    #[error("DATABASE_URL is not a valid PostgreSQL URL ({0}); expected postgres://user:password@host:port/database")]
    Url(#[from] tokio_postgres::Error),
    #[error("building the PostgreSQL pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
}

/// A pool of at most `max_size` connections to `database_url` (connections open lazily).
pub fn pool(database_url: &str, max_size: usize) -> Result<Pool, PoolError> {
    let config = tokio_postgres::Config::from_str(database_url)?;
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(max_size.max(1))
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .runtime(Runtime::Tokio1)
        .build()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_malformed_url_is_refused_with_what_to_fix() {
        let err = super::pool("postgres://x@y:notaport/z", 2).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[tokio::test]
    async fn a_well_formed_url_builds_a_lazy_pool_of_the_given_size() {
        let pool = super::pool("postgres://u:p@127.0.0.1:1/db", 3).unwrap();
        assert_eq!(pool.status().max_size, 3);
        assert_eq!(
            pool.status().size,
            0,
            "no connection is opened before it is asked for"
        );
    }
}
