//! Every HTTP request loadgen sends goes through [`Api`]: commands to command-svc, reads from
//! query-svc. A request made on a customer's behalf carries that customer's bearer token; any
//! other (creating and publishing the event, public reads) an operator's. Tokens are signed here,
//! in one place, with the private key whose public half the services hold
//! (`TV_JWT_PRIVATE_KEY_FILE`), or with the services' shared secret (`TV_JWT_SECRET_FILE`).
//!
//! Several command-svc instances may be named (`--command-url a,b,c`): setup and the audits use
//! the first, and sale client `n` sends its commands to instance `n mod count` ([`Api::for_client`]),
//! as a load balancer spreading connections would.

use anyhow::Context;
use auth::{AuthConfig, Issuer, Role};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How long a token loadgen signs is valid: longer than a request, short enough not to matter if
/// one leaked. Tokens are signed per request (microseconds), so a long run never outlives one.
const TOKEN_TTL: Duration = Duration::from_secs(600);

/// The subject of loadgen's operator tokens.
const OPERATOR: &str = "loadgen";

/// An answer: its status and its JSON body (`Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The API's stable error code, or "" for a success.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The instance this handle sends commands to: one of `command_urls`.
    command_url: String,
    command_urls: Arc<Vec<String>>,
    query_url: String,
    tokens: Issuer,
}

impl Api {
    /// `command_url` is one base URL or several, separated by commas.
    pub fn new(command_url: &str, query_url: &str, connections: usize) -> anyhow::Result<Self> {
        let command_urls: Vec<String> = command_url
            .split(',')
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .collect();
        anyhow::ensure!(
            !command_urls.is_empty(),
            "--command-url names no command-svc instance"
        );
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        let tokens = AuthConfig::from_env()
            .and_then(|config| config.issuer())
            .context("loadgen signs its customers' tokens (TV_JWT_PRIVATE_KEY_FILE)")?;
        Ok(Self {
            http,
            tokens,
            command_url: command_urls[0].clone(),
            command_urls: Arc::new(command_urls),
            query_url: query_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn command_url(&self) -> &str {
        &self.command_url
    }

    /// How many command-svc instances the commands are spread over.
    pub fn instances(&self) -> usize {
        self.command_urls.len()
    }

    /// The handle sale client `n` uses: its commands go to instance `n mod instances`.
    pub fn for_client(&self, n: usize) -> Self {
        Self {
            command_url: self.command_urls[n % self.command_urls.len()].clone(),
            ..self.clone()
        }
    }

    /// A customer's bearer token, for a client that sends many requests as one customer.
    pub fn customer_token(&self, customer: &str) -> String {
        self.tokens.mint(customer, &[Role::Customer], TOKEN_TTL)
    }

    /// A hold for an event sold through a waiting room: `POST <path>` as `customer`, with the
    /// admission token the waiting room gave them in the `Admission` header.
    pub async fn admitted_command(
        &self,
        path: &str,
        customer: &str,
        key: &str,
        admission: &str,
        body: &Value,
    ) -> reqwest::Result<Answer> {
        let request = self
            .on_behalf_of(
                self.http.post(format!("{}{path}", self.command_url)),
                Some(customer),
            )
            .header("idempotency-key", key)
            .header("admission", admission)
            .json(body);
        answer(request).await
    }

    /// A command to command-svc: `POST <path>` with a JSON body, on `customer`'s behalf if named,
    /// with an `Idempotency-Key` if given.
    pub async fn command(
        &self,
        path: &str,
        customer: Option<&str>,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Result<Answer> {
        let mut request = self
            .on_behalf_of(
                self.http.post(format!("{}{path}", self.command_url)),
                customer,
            )
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        answer(request).await
    }

    /// A read from query-svc: `GET <path>`, answered once the read model has reached `after`
    /// (`<STREAM>:<sequence>`) if given.
    pub async fn query(
        &self,
        path: &str,
        customer: Option<&str>,
        after: Option<&str>,
    ) -> reqwest::Result<Answer> {
        let mut request =
            self.on_behalf_of(self.http.get(format!("{}{path}", self.query_url)), customer);
        if let Some(after) = after {
            request = request.query(&[("after", after)]);
        }
        answer(request).await
    }

    /// The bearer token of the customer a request is sent for, or an operator's.
    fn on_behalf_of(
        &self,
        request: reqwest::RequestBuilder,
        customer: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let token = match customer {
            Some(customer) => self.tokens.mint(customer, &[Role::Customer], TOKEN_TTL),
            None => self.tokens.mint(OPERATOR, &[Role::Operator], TOKEN_TTL),
        };
        request.bearer_auth(token)
    }
}

async fn answer(request: reqwest::RequestBuilder) -> reqwest::Result<Answer> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok(Answer { status, body })
}
