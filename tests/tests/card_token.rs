//! The card token never outlives the request that brought it: after purchases through the HTTPS
//! gateway adapter (one confirmed and refunded, one whose token the gateway refused) and through
//! the test gateway, no message on any stream of the deployment, payload or header, contains a
//! token, and neither does any log line or span command-svc wrote meanwhile (captured at `trace`
//! for TicketView's crates, `debug` for the rest).

use domain::ordering::OrderStatus;
use e2e::fake_gateway::{self, FakeGateway};
use e2e::leak_audit::{captured_logs, every_message, logged};
use e2e::orders::{order_id, wait_for_order};
use e2e::{scenario, CommandSvc, EventSpec, HoldBody, TestEnv, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tv_nats::Stream;

const SETTLED: Duration = Duration::from_secs(20);

fn assert_nowhere(messages: &[(Stream, u64, String)], token: &str) {
    for (stream, sequence, text) in messages {
        assert!(
            !text.contains(token),
            "{stream:?} message {sequence} holds the card token: {text}"
        );
    }
}

/// An event on sale and a hold of `seats` by `customer`: the event and the hold id.
async fn held(svc: &CommandSvc, customer: &str, seats: &[&str]) -> (String, String) {
    let event = svc
        .api()
        .create_on_sale(customer, &EventSpec::seated().to_json())
        .await;
    let body = HoldBody::seats(customer, SEATED_SECTION, seats);
    let (status, hold) = svc
        .api()
        .hold(&event, &format!("{customer}-h"), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    (event, hold["hold_id"].as_str().unwrap().to_owned())
}

fn order_of(answer: &Value) -> domain::ids::OrderId {
    order_id(answer["order_id"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_stream_message_log_line_or_span_holds_the_card_token_after_a_purchase() {
    captured_logs();
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let config = command_svc::Config {
            gateway: command_svc::payments::GatewayConfig::http(
                &fake.base_url,
                fake_gateway::API_KEY,
                fake_gateway::WEBHOOK_SECRET,
            ),
            ..command_svc::Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_configured(config, e2e::client::http_client()).await;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        // A token the fake charges, and one it never issued, both seen nowhere else.
        let token = format!("{}_{unique}", fake_gateway::CAPTURE);
        let refused_token = format!("pm_card_stolen_{unique}");

        let (_, hold) = held(&svc, "olga", &["A-1", "A-2"]).await;
        let (status, placed) = svc.api().place_order("buy", &hold, "olga", &token).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = order_of(&placed);
        wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        let (status, cancelled) = svc.api().cancel_order(&order.to_string(), "olga").await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Refunded).await;
        assert_eq!(fake.charges(&order.to_string()), 1);

        let (_, hold) = held(&svc, "piet", &["B-1"]).await;
        let (status, refused) = svc
            .api()
            .place_order("buy", &hold, "piet", &refused_token)
            .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{refused}");
        tokio::time::sleep(Duration::from_millis(300)).await;

        let messages = every_message(&env.store).await;
        let orders = messages.iter().filter(|(s, _, _)| *s == Stream::Orders);
        assert!(orders.count() >= 5, "the orders were read back");
        assert!(
            messages
                .iter()
                .any(|(s, _, t)| *s == Stream::Payments && t.contains("RefundSent")),
            "the payments were read back"
        );
        assert_nowhere(&messages, &token);
        assert_nowhere(&messages, &refused_token);
        svc.shutdown().await;

        let logs = logged();
        assert!(logs.contains(&order.to_string()), "the logs were captured");
        assert!(!logs.contains(&token), "a log line holds the card token");
        assert!(
            !logs.contains(&refused_token),
            "a log line holds the refused token"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_stream_message_holds_a_test_gateway_token_after_purchases() {
    captured_logs();
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let (_, hold) = held(&svc, "quinn", &["C-1"]).await;
        let (status, placed) = svc.api().place_order("buy", &hold, "quinn", "tok_ok").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        wait_for_order(&env.store, order_of(&placed), SETTLED, |s| {
            s == OrderStatus::Confirmed
        })
        .await;
        let (_, hold) = held(&svc, "rosa", &["D-1"]).await;
        let (status, placed) = svc
            .api()
            .place_order("buy", &hold, "rosa", "tok_decline")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        wait_for_order(&env.store, order_of(&placed), SETTLED, |s| {
            s == OrderStatus::PaymentFailed
        })
        .await;
        let messages = every_message(&env.store).await;
        assert_nowhere(&messages, "tok_ok");
        assert_nowhere(&messages, "tok_decline");
        svc.shutdown().await;
    })
    .await;
}
