//! The one log setting every service reads: `TV_LOG_FORMAT` (`--log-format`), `text` for people
//! or `json` for machines, flattened into each service's configuration with
//! `#[command(flatten)] pub log: tv_kit::LogConfig`. The level is `RUST_LOG`'s.

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines, for a terminal.
    #[default]
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::Args)]
pub struct LogConfig {
    /// Log format: `text` for people, `json` for machines.
    #[arg(long, env = "TV_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Service {
        #[command(flatten)]
        log: LogConfig,
    }

    #[test]
    fn text_by_default_json_on_request_and_anything_else_refused() {
        let parsed = Service::try_parse_from(["svc"]).unwrap().log;
        assert_eq!(parsed.log_format, LogFormat::Text);
        let parsed = Service::try_parse_from(["svc", "--log-format", "json"])
            .unwrap()
            .log;
        assert_eq!(parsed.log_format, LogFormat::Json);
        assert!(Service::try_parse_from(["svc", "--log-format", "yaml"]).is_err());
    }
}
