//! One trace id follows a hold from the HTTP request into the commit that stores it: the request's
//! span is a child of the caller's `traceparent`, and the commit carries that trace in its headers,
//! where the projector and reactors pick it up for their own spans.

use e2e::{scenario, CommandSvc, EventSpec, HoldBody, TestEnv, GA_SECTION};
use reqwest::StatusCode;
use tv_nats::Stream;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_s_commit_carries_the_trace_of_its_request() {
    let _telemetry = telemetry::init("trace-test", tv_kit::LogFormat::Text);
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("traced", &EventSpec::ga(100).to_json())
            .await;
        let hold = HoldBody::quantity("tracy", GA_SECTION, 2);
        let path = format!("/events/{event}/holds");
        let answer = api
            .http()
            .post(format!("{}{path}", api.base_url()))
            .header(
                "authorization",
                e2e::client::authorization_for(&path, &hold),
            )
            .header("idempotency-key", "traced-hold")
            .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
            .json(&hold)
            .send()
            .await
            .expect("the hold request");
        assert_eq!(answer.status(), StatusCode::CREATED);
        let position: serde_json::Value = answer.json().await.expect("a JSON answer");
        let sequence: u64 = position["position"]
            .as_str()
            .and_then(|p| p.rsplit(':').next())
            .and_then(|s| s.parse().ok())
            .expect("a position");

        let mut replay = env
            .store
            .replay(Stream::Inventory, sequence - 1)
            .await
            .expect("replay");
        let commit = replay
            .next()
            .await
            .expect("the hold's commit")
            .expect("readable");
        assert_eq!(commit.sequence, sequence);
        let traceparent = commit
            .traceparent()
            .expect("the commit carries a traceparent");
        assert_eq!(
            telemetry::propagation::trace_id_of(traceparent),
            Some(TRACE_ID),
            "the commit's trace is the request's: {traceparent}"
        );
        svc.shutdown().await;
    })
    .await;
}
