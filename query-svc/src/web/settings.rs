//! The web pages' settings: where their files are (`TV_WEB_DIR`), where the pages find the
//! services (`TV_WEB_…_URL`, answered as `/app/config.json`), which origins may call query-svc
//! from a browser (`TV_WEB_ORIGINS`) and the demo sign-in (`TV_DEMO_SIGNIN`).

use axum::http::HeaderMap;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The port command-svc listens on by default; the pages call it on the host they came from.
const COMMAND_PORT: u16 = 8080;
/// The port the waiting room listens on by default.
const WAITING_ROOM_PORT: u16 = 8084;
/// Demo sign-ins per second from one address, by default.
const DEMO_SIGNINS_PER_ADDRESS: u32 = 5;

#[derive(Debug, Clone, clap::Args)]
pub struct WebConfig {
    /// The pages' directory, served under `/app/`. Unset: `web` in the working directory when it
    /// holds an `index.html`, else the `web` directory of the source tree this binary was built
    /// from when it still exists (a development build); else no pages (`/app/` answers `404`).
    /// The container image sets it to `/usr/share/ticketview/web`.
    #[arg(long, env = "TV_WEB_DIR", value_name = "PATH")]
    pub web_dir: Option<PathBuf>,
    /// command-svc's URL as the pages call it. Unset: the host the page was loaded from, port
    /// 8080.
    #[arg(long, env = "TV_WEB_COMMAND_URL", value_name = "URL")]
    pub web_command_url: Option<String>,
    /// query-svc's URL as the pages call it. Unset: the origin the page was loaded from.
    #[arg(long, env = "TV_WEB_QUERY_URL", value_name = "URL")]
    pub web_query_url: Option<String>,
    /// The waiting room's URL as the pages call it. Unset: the host the page was loaded from,
    /// port 8084.
    #[arg(long, env = "TV_WEB_WAITING_ROOM_URL", value_name = "URL")]
    pub web_waiting_room_url: Option<String>,
    /// Origins whose pages may call query-svc from a browser (`TV_WEB_ORIGINS`, comma list).
    /// Unset: its own origin, `http://127.0.0.1:<port>` and `http://localhost:<port>`.
    #[command(flatten)]
    pub origins: tv_kit::WebOrigins,
    /// The demo sign-in, `POST /signin/demo`: mints a 15-minute customer token for a name, with
    /// the issuer key (`TV_JWT_PRIVATE_KEY_FILE`). For demonstrations only; off by default.
    #[arg(
        long,
        env = "TV_DEMO_SIGNIN",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub demo_signin: bool,
    /// Demo sign-ins one client address may make per second (bursts of twice that).
    #[arg(long, env = "TV_DEMO_SIGNINS_PER_ADDRESS", default_value_t = DEMO_SIGNINS_PER_ADDRESS)]
    pub demo_signins_per_address: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            web_dir: None,
            web_command_url: None,
            web_query_url: None,
            web_waiting_room_url: None,
            origins: tv_kit::WebOrigins::default(),
            demo_signin: false,
            demo_signins_per_address: DEMO_SIGNINS_PER_ADDRESS,
        }
    }
}

impl WebConfig {
    /// The pages' directory: the configured one, or the first default that holds an
    /// `index.html`; `None` when there are no pages to serve.
    pub fn pages_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = self.web_dir.as_ref().filter(|d| !d.as_os_str().is_empty()) {
            return Some(dir.clone());
        }
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        [PathBuf::from("web"), built_from]
            .into_iter()
            .find(|dir| dir.join("index.html").is_file())
    }

    /// The origins allowed to call query-svc from a browser: by default its own, on this machine
    /// at its port and at its public URL (`TV_WEB_QUERY_URL`) when one is set.
    pub fn cors(
        &self,
        bind: SocketAddr,
    ) -> Result<tower_http::cors::CorsLayer, tv_kit::cors::InvalidOrigin> {
        let mut own = tv_kit::cors::loopback_origins(bind.port());
        if let Some(url) = &self.web_query_url {
            own.push(origin_of(url));
        }
        self.origins.layer(&own)
    }

    /// What `/app/config.json` answers to a page loaded with these request headers.
    pub fn page_config(&self, headers: &HeaderMap, bind: SocketAddr) -> PageConfig {
        let origin = RequestOrigin::of(headers, bind);
        PageConfig {
            command_url: self
                .web_command_url
                .clone()
                .unwrap_or_else(|| origin.with_port(COMMAND_PORT)),
            query_url: self
                .web_query_url
                .clone()
                .unwrap_or_else(|| origin.itself()),
            waiting_room_url: self
                .web_waiting_room_url
                .clone()
                .unwrap_or_else(|| origin.with_port(WAITING_ROOM_PORT)),
            demo_signin: self.demo_signin,
        }
    }
}

/// The origin of a URL: its scheme and authority, without a path.
fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

/// `GET /app/config.json`: where the pages find the services, and whether the demo sign-in is
/// on. The pages learn the services' URLs from nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageConfig {
    pub command_url: String,
    pub query_url: String,
    pub waiting_room_url: String,
    pub demo_signin: bool,
}

/// The scheme and host a page was loaded from (the request's `Host`, or the bound address).
struct RequestOrigin {
    scheme: &'static str,
    host: String,
    port: Option<String>,
}

impl RequestOrigin {
    fn of(headers: &HeaderMap, bind: SocketAddr) -> Self {
        // Behind a TLS-terminating proxy the page was loaded over https.
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
        {
            Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let authority = headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.parse::<axum::http::uri::Authority>().ok());
        match authority {
            Some(authority) => Self {
                scheme,
                host: authority.host().to_owned(),
                port: authority.port_u16().map(|p| p.to_string()),
            },
            None => Self {
                scheme,
                host: match bind.ip() {
                    ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
                    std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                    ip => ip.to_string(),
                },
                port: Some(bind.port().to_string()),
            },
        }
    }

    fn itself(&self) -> String {
        match &self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    fn with_port(&self, port: u16) -> String {
        format!("{}://{}:{port}", self.scheme, self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn bind() -> SocketAddr {
        "0.0.0.0:8081".parse().unwrap()
    }

    #[test]
    fn unset_urls_are_the_page_s_own_host_with_the_services_ports() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("tickets.local:9081"));
        let config = WebConfig::default().page_config(&headers, bind());
        assert_eq!(
            config,
            PageConfig {
                command_url: "http://tickets.local:8080".into(),
                query_url: "http://tickets.local:9081".into(),
                waiting_room_url: "http://tickets.local:8084".into(),
                demo_signin: false,
            }
        );
    }

    #[test]
    fn configured_urls_win_and_a_forwarded_https_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("tickets.example.com"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let web = WebConfig {
            web_command_url: Some("https://api.example.com".into()),
            demo_signin: true,
            ..WebConfig::default()
        };
        let config = web.page_config(&headers, bind());
        assert_eq!(config.command_url, "https://api.example.com");
        assert_eq!(config.query_url, "https://tickets.example.com");
        assert_eq!(config.waiting_room_url, "https://tickets.example.com:8084");
        assert!(config.demo_signin);
    }

    #[test]
    fn without_a_host_header_the_bound_address_is_used() {
        let config = WebConfig::default().page_config(&HeaderMap::new(), bind());
        assert_eq!(config.query_url, "http://127.0.0.1:8081");
        assert_eq!(config.command_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn query_svc_s_public_url_is_one_of_its_default_origins() {
        assert_eq!(
            origin_of("https://tickets.example.com/app/"),
            "https://tickets.example.com"
        );
        assert_eq!(origin_of("http://127.0.0.1:9081"), "http://127.0.0.1:9081");
    }

    #[test]
    fn the_defaults_in_code_are_the_documented_ones() {
        #[derive(clap::Parser)]
        struct Service {
            #[command(flatten)]
            web: WebConfig,
        }
        let parsed = <Service as clap::Parser>::try_parse_from(["query-svc"])
            .unwrap()
            .web;
        let default = WebConfig::default();
        assert_eq!(parsed.demo_signin, default.demo_signin);
        assert_eq!(
            parsed.demo_signins_per_address,
            default.demo_signins_per_address
        );
        assert!(parsed.web_dir.is_none() && parsed.origins.web_origins.is_empty());
        let on = <Service as clap::Parser>::try_parse_from(["query-svc", "--demo-signin", "1"])
            .unwrap()
            .web;
        assert!(on.demo_signin, "TV_DEMO_SIGNIN=1 turns it on");
    }

    #[test]
    fn a_configured_directory_is_taken_as_it_is() {
        let web = WebConfig {
            web_dir: Some("/srv/pages".into()),
            ..WebConfig::default()
        };
        assert_eq!(web.pages_dir(), Some(PathBuf::from("/srv/pages")));
    }
}
