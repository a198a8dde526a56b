//! `tv-hello ADDR`: the ceiling a read can reach on this machine. An axum handler answering a
//! fixed body, served by plain `axum::serve` with nothing else in the stack; `scripts/bench`
//! builds it in the same run as the services and reports each cached read as a share of it.

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:19090".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("binding {addr}: {e} (pass a free ADDR)"))
    })?;
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    axum::serve(listener, app)
        .with_graceful_shutdown(tv_kit::shutdown_signal())
        .await
}
