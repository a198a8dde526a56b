//! `tv-scanner-key` run as an operator runs it: the key it prints verifies the event's ticket
//! codes and no other event's; without a ticket key it says which setting is missing.

use domain::ids::{EventId, OrderId, SectionId};
use domain::ordering::{ScannerKey, TicketKey};
use std::process::Command;

const SECRET: &str = "3f9c1a7e52d84b06a1e9c37d5f20b84e6a1d93c7f05e28b4";

fn scanner_key(event: EventId, secret_file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tv-scanner-key"))
        .args(["--event", &event.to_string()])
        .env_remove("TV_TICKET_SECRET")
        .env("TV_TICKET_SECRET_FILE", secret_file)
        .output()
        .expect("running tv-scanner-key")
}

#[test]
fn the_printed_key_verifies_the_event_s_codes_and_no_other_event_s() {
    let dir = std::env::temp_dir().join(format!("tv-scanner-key-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("ticket-secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let (event, other) = (EventId::new_random(), EventId::new_random());

    let output = scanner_key(event, &secret_file);
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let key = ScannerKey::from_hex(printed.trim()).expect("64 hexadecimal digits");

    let issuer = TicketKey::new(SECRET.as_bytes());
    let order = OrderId::new_random();
    let section = SectionId::parse("stalls").unwrap();
    let codes = |event| issuer.tickets_for(event, order, &section, &[], 3);
    for (index, ticket) in codes(event).iter().enumerate() {
        let verified = key.verify(&ticket.code).expect("the event's code verifies");
        assert_eq!((verified.order_id, verified.index), (order, index as u32));
    }
    for ticket in codes(other) {
        assert!(key.verify(&ticket.code).is_none(), "another event's code");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_a_ticket_key_it_names_the_setting() {
    let missing = std::env::temp_dir().join("tv-scanner-key-no-such-file");
    let output = Command::new(env!("CARGO_BIN_EXE_tv-scanner-key"))
        .args(["--event", &EventId::new_random().to_string()])
        .env_remove("TV_TICKET_SECRET")
        .env_remove("TV_TICKET_SECRET_FILE")
        .output()
        .expect("running tv-scanner-key");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TV_TICKET_SECRET_FILE"), "{stderr}");
    let output = scanner_key(EventId::new_random(), &missing);
    assert!(!output.status.success());
}
