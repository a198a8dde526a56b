//! What a notice says to a buyer: a subject, a plain-text body and an HTML body per kind.
//!
//! Each kind is written once, as paragraphs and lists of [`Line`]s; the text and the HTML body are
//! both rendered from them, so the two never say different things. Everything taken from the
//! notice (names an organiser typed, such as the event's name, a section or a seat; a gateway's
//! decline reason) is escaped in the HTML body.

use crate::notice::{NoticeKind, Notification};
use serde_json::Value;

/// A mail ready to send: subject and both bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One block of a mail's body.
enum Line {
    Paragraph(String),
    List(Vec<String>),
}

/// The mail of `notice`.
pub fn render(notice: &Notification) -> Rendered {
    let body = &notice.body;
    let event = event_name(body);
    let order = field(body, "order_id");
    let (subject, lines) = match notice.kind {
        NoticeKind::OrderConfirmed => {
            let tickets: Vec<String> = body["tickets"]
                .as_array()
                .map(|tickets| tickets.iter().map(ticket).collect())
                .unwrap_or_default();
            (
                format!("Your tickets for {event}"),
                vec![
                    Line::Paragraph(format!(
                        "Your order {order} is confirmed: {} paid.",
                        amount(body, "total_minor")
                    )),
                    Line::Paragraph(format!("Your tickets for {event}:")),
                    Line::List(tickets),
                    Line::Paragraph(
                        "Show a ticket's code at the entrance; each code lets one person in once."
                            .into(),
                    ),
                ],
            )
        }
        NoticeKind::PaymentFailed => (
            "Your payment did not go through".into(),
            vec![
                Line::Paragraph(format!(
                    "The payment for your order {order} was declined: {}.",
                    field(body, "reason")
                )),
                Line::Paragraph(
                    "Nothing was taken and the seats are back on sale. You may try again with \
                     another card."
                        .into(),
                ),
            ],
        ),
        NoticeKind::OrderExpired => (
            "Your order has expired".into(),
            vec![
                Line::Paragraph(format!(
                    "Your order {order} ran out before it could be completed."
                )),
                Line::Paragraph(if body["refund_due"] == Value::Bool(true) {
                    "The money you paid is being refunded.".into()
                } else {
                    "Nothing was taken.".into()
                }),
            ],
        ),
        NoticeKind::OrderRefunded => (
            "Your refund".into(),
            vec![Line::Paragraph(format!(
                "{} for your order {order} went back to the card you paid with.",
                amount(body, "amount_minor")
            ))],
        ),
        NoticeKind::WaitlistOffer => {
            let seats: Vec<String> = body["seats"]
                .as_array()
                .map(|seats| seats.iter().map(text_of).collect())
                .unwrap_or_default();
            let mut lines = vec![Line::Paragraph(format!(
                "Seats came back for {event}: {} in section {} are held for you until {}.",
                field(body, "quantity"),
                field(body, "section_id"),
                field(body, "expires_at")
            ))];
            if !seats.is_empty() {
                lines.push(Line::List(seats));
            }
            lines.push(Line::Paragraph(format!(
                "Place your order with hold {} before then; after that they go to the next \
                 person waiting.",
                field(body, "hold_id")
            )));
            (format!("Seats are held for you: {event}"), lines)
        }
        NoticeKind::WaitlistOfferExpired => (
            "Your held seats were released".into(),
            vec![Line::Paragraph(format!(
                "The seats held for you (hold {}) were not ordered in time and went to the next \
                 person waiting.",
                field(body, "hold_id")
            ))],
        ),
        NoticeKind::EventCancelled => (
            format!("Cancelled: {event}"),
            vec![
                Line::Paragraph(format!(
                    "The organiser cancelled {event}. Your order {order} is cancelled."
                )),
                Line::Paragraph(if body["refund_due"] == Value::Bool(true) {
                    "Everything you paid is being refunded to the card you paid with; you will \
                     hear from us when it is done."
                        .into()
                } else {
                    "Nothing was taken.".into()
                }),
            ],
        ),
    };
    Rendered {
        text: text_body(&lines),
        html: html_body(&subject, &lines),
        subject,
    }
}

/// The plain-text body: paragraphs apart by a blank line, list items as `- item`.
fn text_body(lines: &[Line]) -> String {
    let blocks: Vec<String> = lines
        .iter()
        .map(|line| match line {
            Line::Paragraph(text) => text.clone(),
            Line::List(items) => items
                .iter()
                .map(|item| format!("- {item}"))
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect();
    format!("{}\n\n-- \nTicketView\n", blocks.join("\n\n"))
}

/// The HTML body: every piece of text escaped.
fn html_body(subject: &str, lines: &[Line]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n",
        escape_html(subject)
    );
    for line in lines {
        match line {
            Line::Paragraph(text) => html.push_str(&format!("<p>{}</p>\n", escape_html(text))),
            Line::List(items) => {
                html.push_str("<ul>\n");
                for item in items {
                    html.push_str(&format!("<li>{}</li>\n", escape_html(item)));
                }
                html.push_str("</ul>\n");
            }
        }
    }
    html.push_str("<p>TicketView</p>\n</body></html>\n");
    html
}

/// `text` safe in HTML text and in a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The event as a buyer knows it: its name when the notice has it, else its id.
fn event_name(body: &Value) -> String {
    match body["event_name"].as_str() {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => format!("event {}", field(body, "event_id")),
    }
}

/// One ticket: its code, its section and its seat if it has one.
fn ticket(ticket: &Value) -> String {
    let mut line = format!(
        "{} (section {}",
        field(ticket, "code"),
        field(ticket, "section_id")
    );
    if let Some(seat) = ticket["seat"].as_str() {
        line.push_str(&format!(", seat {seat}"));
    }
    line.push(')');
    line
}

/// `EUR 70.00` from minor units and the body's currency.
fn amount(body: &Value, key: &str) -> String {
    let minor = body[key].as_i64().unwrap_or(0);
    let currency = body["currency"].as_str().unwrap_or("");
    format!(
        "{currency} {}{}.{:02}",
        if minor < 0 { "-" } else { "" },
        minor.unsigned_abs() / 100,
        minor.unsigned_abs() % 100
    )
    .trim_start()
    .to_owned()
}

fn field(body: &Value, key: &str) -> String {
    text_of(&body[key])
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "?".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notice(kind: NoticeKind, body: Value) -> Notification {
        Notification {
            id: format!("o-1:{kind}"),
            order_id: None,
            customer_id: "alice".into(),
            kind,
            body,
            stream: "orders",
            stream_sequence: 1,
        }
    }

    #[test]
    fn a_confirmation_lists_every_ticket_code_in_both_bodies() {
        let mail = render(&notice(
            NoticeKind::OrderConfirmed,
            json!({
                "order_id": "o-1", "event_id": "e-1", "event_name": "Summer Night",
                "total_minor": 7000, "currency": "EUR",
                "tickets": [
                    { "code": "TK-AAA", "section_id": "floor", "seat": null },
                    { "code": "TK-BBB", "section_id": "stalls", "seat": "A-7" },
                ],
            }),
        ));
        assert_eq!(mail.subject, "Your tickets for Summer Night");
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("TK-AAA (section floor)"), "{body}");
            assert!(body.contains("TK-BBB (section stalls, seat A-7)"), "{body}");
            assert!(body.contains("EUR 70.00"), "{body}");
        }
        assert!(mail.text.contains("- TK-AAA"), "{}", mail.text);
        assert!(mail.html.contains("<li>TK-AAA"), "{}", mail.html);
    }

    #[test]
    fn names_typed_by_an_organiser_are_escaped_in_html_and_kept_in_text() {
        let name = "<script>alert('x')</script> & \"Friends\"";
        let mail = render(&notice(
            NoticeKind::EventCancelled,
            json!({ "order_id": "o-1", "event_id": "e-1", "event_name": name, "refund_due": true }),
        ));
        assert!(mail.text.contains(name), "{}", mail.text);
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Friends&quot;"
            ),
            "{}",
            mail.html
        );
        // In the title too.
        assert!(mail.html.contains("<title>Cancelled: &lt;script&gt;"));
        assert!(mail.text.contains("being refunded"));
    }

    #[test]
    fn every_kind_has_a_subject_and_two_bodies_saying_the_same() {
        let body = json!({
            "order_id": "o-1", "event_id": "e-1", "reason": "card <declined>",
            "amount_minor": 1234, "currency": "EUR", "refund_due": false,
            "section_id": "balcony", "seats": ["B-1"], "quantity": 1,
            "expires_at": "2030-06-01T18:10:00Z", "hold_id": "h-1", "tickets": [],
        });
        for kind in NoticeKind::ALL {
            let mail = render(&notice(kind, body.clone()));
            assert!(!mail.subject.is_empty(), "{kind}");
            let first_line = mail.text.lines().next().unwrap();
            assert!(
                mail.html.contains(&escape_html(first_line)),
                "{kind}: {first_line} not in {}",
                mail.html
            );
        }
        let declined = render(&notice(NoticeKind::PaymentFailed, body.clone()));
        assert!(declined.text.contains("declined: card <declined>."));
        assert!(declined.html.contains("card &lt;declined&gt;"));
        let refund = render(&notice(NoticeKind::OrderRefunded, body.clone()));
        assert!(refund.text.starts_with("EUR 12.34 for your order o-1"));
        let offer = render(&notice(NoticeKind::WaitlistOffer, body));
        assert!(offer.text.contains("- B-1"), "{}", offer.text);
        assert!(offer.text.contains("until 2030-06-01T18:10:00Z"));
    }
}
