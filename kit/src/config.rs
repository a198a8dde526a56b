//! The HTTP serving settings every service reads the same way (`TV_HTTP_…`), flattened into its
//! own configuration with `#[command(flatten)] pub http: tv_kit::HttpConfig`.

use crate::deadlines::Deadlines;
use crate::serve::ServeSettings;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct HttpConfig {
    /// Seconds a client has to send a request's head (request line and headers), counted from
    /// the connection's opening or its previous answer; then the connection is closed. Also how
    /// long an idle keep-alive connection stays open.
    #[arg(long, env = "TV_HTTP_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub http_header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body after its head; then `408
    /// request_timeout` and the connection closes.
    #[arg(long, env = "TV_HTTP_BODY_TIMEOUT_SECS", default_value_t = 10)]
    pub http_body_timeout_secs: u64,
    /// Seconds a request may take to be answered (stream routes excepted); then `503 timeout`.
    #[arg(long, env = "TV_HTTP_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub http_request_timeout_secs: u64,
    /// Connections open at once (event streams included); more wait unaccepted until one closes.
    #[arg(long, env = "TV_HTTP_MAX_CONNECTIONS", default_value_t = 16_384)]
    pub http_max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let serve = ServeSettings::default();
        let deadlines = Deadlines::default();
        Self {
            http_header_timeout_secs: serve.header_timeout.as_secs(),
            http_body_timeout_secs: deadlines.body.as_secs(),
            http_request_timeout_secs: deadlines.request.as_secs(),
            http_max_connections: serve.max_connections,
        }
    }
}

impl HttpConfig {
    /// How connections are served (a timeout of 0 is taken as 1 s).
    pub fn serve(&self) -> ServeSettings {
        ServeSettings {
            header_timeout: seconds(self.http_header_timeout_secs),
            max_connections: self.http_max_connections.max(1),
        }
    }

    /// The deadlines of the bounded routes (a timeout of 0 is taken as 1 s).
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            body: seconds(self.http_body_timeout_secs),
            request: seconds(self.http_request_timeout_secs),
        }
    }
}

fn seconds(secs: u64) -> Duration {
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Service {
        #[command(flatten)]
        http: HttpConfig,
    }

    #[test]
    fn the_defaults_are_the_documented_ones_and_flags_override_them() {
        let parsed = Service::try_parse_from(["svc"]).unwrap().http;
        assert_eq!(parsed, HttpConfig::default());
        assert_eq!(parsed.serve().header_timeout, Duration::from_secs(30));
        assert_eq!(parsed.serve().max_connections, 16_384);
        let parsed = Service::try_parse_from(["svc", "--http-header-timeout-secs", "5"])
            .unwrap()
            .http;
        assert_eq!(parsed.serve().header_timeout, Duration::from_secs(5));
    }
}
