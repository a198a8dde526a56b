//! What the CORS layer adds to a request, in-process: an axum route answering a fixed body is
//! called through tower (no sockets, no HTTP parsing) with and without [`tv_kit::cors`] around
//! it, in alternating rounds, and the medians are printed in nanoseconds per request. The
//! difference is what every read of query-svc pays for CORS, to set against a cached read's cost
//! (docs/BENCHMARKS.md, "Cached reads").
//!
//! ```text
//! cargo run --release -p tv-kit --example cors_cost [-- REQUESTS_PER_ROUND ROUNDS]
//! ```

use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use axum::routing::get;
use axum::Router;
use std::time::Instant;
use tower::{Service, ServiceExt};

const BODY: &str = r#"{"event_id":"9f1c2d3e-0000-4000-8000-000000000001","sections":[]}"#;

fn app(with_cors: bool) -> Router {
    let router = Router::new().route("/events/{event_id}/availability", get(|| async { BODY }));
    if with_cors {
        router.layer(tv_kit::cors::layer(vec![HeaderValue::from_static(
            "http://127.0.0.1:8081",
        )]))
    } else {
        router
    }
}

/// Nanoseconds per request over `requests` calls of `app`, each with `origin` when given.
async fn round(app: &mut Router, requests: u32, origin: Option<&'static str>) -> f64 {
    let started = Instant::now();
    for _ in 0..requests {
        let mut request = Request::get("/events/9f1c2d3e-0000-4000-8000-000000000001/availability");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let request = request.body(Body::empty()).expect("a request");
        let ready = ServiceExt::<Request<Body>>::ready(app)
            .await
            .expect("a router is always ready");
        let response = ready.call(request).await.expect("infallible");
        assert!(response.status().is_success());
    }
    started.elapsed().as_nanos() as f64 / f64::from(requests)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let requests: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let mut plain = app(false);
    let mut cors = app(true);
    // Warm up both.
    round(&mut plain, requests / 10, None).await;
    round(&mut cors, requests / 10, None).await;
    let (mut without, mut with, mut with_origin) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        without.push(round(&mut plain, requests, None).await);
        with.push(round(&mut cors, requests, None).await);
        with_origin.push(round(&mut cors, requests, Some("http://127.0.0.1:8081")).await);
    }
    let (without, with, with_origin) = (median(without), median(with), median(with_origin));
    println!("requests per round: {requests}, rounds: {rounds} (medians, ns per request)");
    println!("without CORS:                      {without:8.0}");
    println!(
        "with CORS, no Origin (curl, wrk):  {with:8.0}  (+{:.0})",
        with - without
    );
    println!(
        "with CORS, an allowed Origin:      {with_origin:8.0}  (+{:.0})",
        with_origin - without
    );
}
