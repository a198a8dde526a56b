//! Every HTTP request loadgen sends goes through [`Api`]: commands to command-svc, reads from
//! query-svc. A request made on a customer's behalf names the customer, so whatever identifies a
//! customer to the services is attached here, in one place.

use serde_json::Value;
use std::time::Duration;

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
    command_url: String,
    query_url: String,
}

impl Api {
    pub fn new(command_url: &str, query_url: &str, connections: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            command_url: command_url.trim_end_matches('/').to_owned(),
            query_url: query_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn command_url(&self) -> &str {
        &self.command_url
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

    /// What a request carries for the customer it is sent for (nothing yet but the id in bodies).
    fn on_behalf_of(
        &self,
        request: reqwest::RequestBuilder,
        _customer: Option<&str>,
    ) -> reqwest::RequestBuilder {
        request
    }
}

async fn answer(request: reqwest::RequestBuilder) -> reqwest::Result<Answer> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok(Answer { status, body })
}
