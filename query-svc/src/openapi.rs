//! The OpenAPI 3.1 document of query-svc, written by hand (it is small and changes rarely).

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// Who may read an operation's answer.
#[derive(Clone, Copy, PartialEq)]
enum Readers {
    /// Anyone, without a token.
    Everyone,
    /// The customer it belongs to (the bearer token's `sub`) or an operator.
    OwnerOrOperator,
    /// An operator only.
    Operator,
}

fn query(
    path_params: &[&str],
    summary: &str,
    success: Value,
    not_found: bool,
    readers: Readers,
) -> Value {
    let mut parameters: Vec<Value> = path_params
        .iter()
        .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.push(json!({"$ref": "#/components/parameters/After"}));
    let mut responses = json!({
        "200": success,
        "400": error_response("malformed id or position (invalid_*), or position_ahead (the ?after= sequence is beyond the end of its stream)"),
        "503": json!({"description": "not_caught_up (the ?after= position was not reached in time, or too many queries are waiting), read_model_unavailable, or timeout (not answered within TV_HTTP_REQUEST_TIMEOUT_SECS, 30 s by default)", "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
    });
    if not_found {
        responses["404"] = error_response(
            "unknown_event, unknown_section, unknown_hold, unknown_order or unknown_ticket",
        );
    }
    if readers == Readers::Everyone {
        return json!({"get": {"summary": summary, "parameters": parameters, "responses": responses}});
    }
    responses["401"] = json!({
        "description": "unauthenticated: no bearer token, or one that is malformed, expired or not signed with the service's secret",
        "headers": {"WWW-Authenticate": {"description": "`Bearer realm=\"ticketview\"`, with `error=\"invalid_token\"` for a token that is expired or not valid", "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    if readers == Readers::Operator {
        responses["403"] = error_response("forbidden: the token lacks the operator role");
        return json!({"get": {
            "summary": format!("{summary}; operators only"),
            "security": [{"bearer": []}],
            "x-roles": ["operator"],
            "parameters": parameters,
            "responses": responses
        }});
    }
    responses["403"] = error_response(
        "forbidden: the token has neither the customer nor the operator role, or (a customer's orders) names another customer. Another customer's hold or order is 404, exactly as one that does not exist",
    );
    json!({"get": {
        "summary": format!("{summary}; only its customer or an operator may read it"),
        "security": [{"bearer": []}],
        "x-roles": ["customer", "operator"],
        "parameters": parameters,
        "responses": responses
    }})
}

/// `GET /events`: published events by start time, in pages; drafts for an operator only.
fn listing() -> Value {
    let mut operation = query(&[], "Published events (on sale, closed, cancelled) by start time, in pages; `?status=draft` lists drafts to an operator only", ok("a page of events; when more follow, `Link: </events?limit=…&cursor=…>; rel=\"next\"` gives the next page", json!({"type": "array", "items": {"$ref": "#/components/schemas/EventSummary"}})), false, Readers::Everyone);
    let get = &mut operation["get"];
    if let Some(parameters) = get["parameters"].as_array_mut() {
        parameters.extend([
            json!({"name": "limit", "in": "query", "required": false, "description": "Events per page (default 100).", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}),
            json!({"name": "cursor", "in": "query", "required": false, "description": "Opaque: the one in the previous page's `Link` header.", "schema": {"type": "string", "pattern": "^[0-9a-f]{48}$"}}),
            json!({"name": "status", "in": "query", "required": false, "description": "Only events of this status; `draft` needs an operator's bearer token.", "schema": {"enum": ["draft", "on_sale", "closed", "cancelled"]}}),
        ]);
    }
    get["responses"]["200"]["headers"] = json!({"Link": {"description": "`<…>; rel=\"next\"` when a next page exists", "schema": {"type": "string"}}});
    get["responses"]["400"] = error_response("invalid_limit, invalid_cursor, invalid_status, or a malformed position (invalid_position, position_ahead)");
    get["responses"]["401"] =
        error_response("unauthenticated: `?status=draft` without a valid bearer token");
    get["responses"]["403"] =
        error_response("forbidden: `?status=draft` with a token that is not an operator's");
    operation
}

/// `GET /events/{event_id}/availability/stream`: Server-Sent Events of the availability answer.
fn availability_stream() -> Value {
    json!({"get": {
        "summary": "The event's availability as Server-Sent Events: the current state at once, then one message per change (changes within 100 ms merged into the newest), `id:` its position, `event: availability`, and a `:` comment every 15 s. A reconnect whose `Last-Event-ID` already names the newest position waits for the next change.",
        "parameters": [
            {"name": "event_id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "Last-Event-ID", "in": "header", "required": false, "description": "The `id` of the last message received (`<STREAM>:<sequence>`)", "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {"description": "an event stream", "content": {"text/event-stream": {"schema": {
                "type": "object", "required": ["event", "data"],
                "properties": {
                    "event": {"const": "availability"},
                    "id": {"type": "string"},
                    "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"$ref": "#/components/schemas/LiveAvailability"}}
                }}}}},
            "400": error_response("invalid_event_id"),
            "404": error_response("unknown_event"),
            "503": json!({"description": "too_many_streams (more than TV_QUERY_MAX_STREAMS streams are open on this instance) or read_model_unavailable", "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        }
    }})
}

/// `GET /events/{event_id}/sections/{section_id}/seats/stream`: the seat map, then its changes.
fn seats_stream() -> Value {
    let seats = json!({"type": "array", "items": {"$ref": "#/components/schemas/Seat"}});
    json!({"get": {
        "summary": "A section's seat map as Server-Sent Events: `event: seat_map` with every seat at once, then `event: seat_changes` with only the seats whose status changed (at most ten messages a second), `id:` the position, and a `:` comment every 15 s.",
        "parameters": [
            {"name": "event_id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "section_id", "in": "path", "required": true, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {"description": "an event stream", "content": {"text/event-stream": {"schema": {
                "type": "object", "required": ["event", "data"],
                "properties": {
                    "event": {"enum": ["seat_map", "seat_changes"]},
                    "id": {"type": "string"},
                    "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": seats}
                }}}}},
            "400": error_response("invalid_event_id or invalid_section_id"),
            "404": error_response("unknown_event or unknown_section"),
            "503": json!({"description": "too_many_streams (more than TV_QUERY_MAX_STREAMS streams are open on this instance) or read_model_unavailable", "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        }
    }})
}

pub fn document() -> Value {
    let mut document = reads_document();
    if let Some(paths) = document["paths"].as_object_mut() {
        paths.extend(web_paths());
    }
    document
}

/// The web pages' routes: the files under `/app/`, their configuration and the demo sign-in.
fn web_paths() -> serde_json::Map<String, Value> {
    let page = json!({"get": {
        "summary": "The web pages (`web/`): a file is answered as itself; any other path under /app/ answers index.html (200 text/html) so links to pages work; a missing file with a short extension (.js, .css, …) is 404. HTML is `Cache-Control: no-cache`, a file named `name.<8+ hex>.ext` `public, max-age=31536000, immutable`, other files `public, max-age=60`; text is gzip-compressed when the client accepts it. `/app` redirects to `/app/`.",
        "responses": {
            "200": {"description": "the file, or the page (text/html)"},
            "308": {"description": "`/app` → `/app/`"},
            "404": error_response("not_found (a missing asset) or pages_not_installed (no TV_WEB_DIR and no web/ found)")
        }
    }});
    let config = json!({"get": {
        "summary": "Where the pages find the services: TV_WEB_COMMAND_URL, TV_WEB_QUERY_URL and TV_WEB_WAITING_ROOM_URL, by default the page's own host with ports 8080 and 8084 and query-svc's own origin; and whether the demo sign-in is on. `Cache-Control: no-cache`.",
        "responses": {"200": {"description": "the pages' configuration", "content": {"application/json": {"schema": {
            "type": "object", "required": ["command_url", "query_url", "waiting_room_url", "demo_signin"],
            "properties": {"command_url": {"type": "string"}, "query_url": {"type": "string"}, "waiting_room_url": {"type": "string"}, "demo_signin": {"type": "boolean"}}
        }}}}}
    }});
    let signin = json!({"post": {
        "summary": "Demo sign-in, only with TV_DEMO_SIGNIN=1: a token for the role customer (never another, whatever the body asks), living 15 minutes, for the subject `demo-<the name as a slug>`, signed with the issuer key. Rate-limited per client address (TV_DEMO_SIGNINS_PER_ADDRESS a second).",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 40}}}}}},
        "responses": {
            "200": {"description": "the token", "content": {"application/json": {"schema": {"type": "object", "required": ["token", "subject", "expires_at"], "properties": {"token": {"type": "string"}, "subject": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}}}}},
            "400": error_response("invalid_name (1 to 40 characters, no control characters) or invalid_body (not JSON)"),
            "404": error_response("demo_signin_disabled: the demo sign-in is off (TV_DEMO_SIGNIN unset)"),
            "429": error_response("rate_limited, with Retry-After")
        }
    }});
    let mut paths = serde_json::Map::new();
    paths.insert("/app/".into(), page.clone());
    paths.insert("/app/{path}".into(), page);
    paths.insert("/app/config.json".into(), config);
    paths.insert("/signin/demo".into(), signin);
    paths
}

/// The document of the read routes.
fn reads_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "TicketView query-svc",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Read side of TicketView. Answers come from caches kept coherent with the projector's read models. Published events, availability and seat maps are public (GET /events lists no drafts, except `?status=draft` to an operator, and is paged: `?limit=` default 100, at most 1000, and an opaque `?cursor=` from the previous page's `Link: <…>; rel=\"next\"` header; the answer is still the array of API.md); a hold, an order and a customer's orders are answered only to that customer or to an operator, with `Authorization: Bearer <token>` (a JWT signed with HS256 carrying `sub`, `roles`, `aud`, `iat`, `exp`, living at most a day), else 401 unauthenticated or 403 forbidden; another customer's hold or order is answered 404 exactly as an id that does not exist (it reveals nothing). Additions to API.md: every section of an availability answer carries `version` (the stream sequence of its last change; a later answer never shows a lower one), and a hold carries event_id, section_id, customer_id, order_id and version. A request head must be complete within 30 s (`TV_HTTP_HEADER_TIMEOUT_SECS`), else the connection is closed; an answer not ready within 30 s is `503 timeout` with `Retry-After`."
        },
        "paths": {
            "/events": listing(),
            "/events/{event_id}": query(&["event_id"], "One event with its sections and prices", ok("the event", json!({"$ref": "#/components/schemas/EventDetail"})), true, Readers::Everyone),
            "/events/{event_id}/availability": query(&["event_id"], "Capacity, available, held and sold per section; holds past expires_at no longer count as held", ok("availability", json!({"$ref": "#/components/schemas/Availability"})), true, Readers::Everyone),
            "/events/{event_id}/availability/stream": availability_stream(),
            "/events/{event_id}/report": query(&["event_id"], "Where the sale stands, per section and in total: capacity, available, held, sold and blocked seats; confirmed orders with their tickets and revenue, refunded orders and the amount, orders awaiting payment", ok("the report", json!({"$ref": "#/components/schemas/Report"})), true, Readers::Operator),
            "/events/{event_id}/sections/{section_id}/seats/stream": seats_stream(),
            "/events/{event_id}/sections/{section_id}/seats": query(&["event_id", "section_id"], "The seat map of a section (empty for general admission)", ok("seats", json!({"type": "array", "items": {"$ref": "#/components/schemas/Seat"}})), true, Readers::Everyone),
            "/holds/{hold_id}": query(&["hold_id"], "A hold; an active hold past expires_at is reported expired", ok("the hold", json!({"$ref": "#/components/schemas/Hold"})), true, Readers::OwnerOrOperator),
            "/waitlist/{waitlist_id}": query(&["waitlist_id"], "A waiting-list entry, with its place in its section's line while it waits", ok("the entry", json!({"$ref": "#/components/schemas/WaitlistEntry"})), true, Readers::OwnerOrOperator),
            "/orders/{order_id}": query(&["order_id"], "An order", ok("the order", json!({"$ref": "#/components/schemas/Order"})), true, Readers::OwnerOrOperator),
            "/tickets/{code}": query(&["code"], "A ticket by its code, for its customer, a scanner or an operator (another customer's is 404 unknown_ticket)", ok("the ticket", json!({"$ref": "#/components/schemas/Ticket"})), true, Readers::OwnerOrOperator),
            "/customers/{customer_id}/orders": query(&["customer_id"], "A customer's orders, newest first", ok("orders", json!({"type": "array", "items": {"$ref": "#/components/schemas/Order"}})), false, Readers::OwnerOrOperator),
            "/customers/{customer_id}/holds": query(&["customer_id"], "A customer's holds, newest first (at most 200), each as GET /holds/{hold_id} answers it", ok("holds", json!({"type": "array", "items": {"$ref": "#/components/schemas/Hold"}})), true, Readers::OwnerOrOperator),
            "/healthz": {"get": {"summary": "Alive", "responses": {"200": {"description": "alive"}}}},
            "/readyz": {"get": {"summary": "PostgreSQL reachable with read models, NATS connected", "responses": {"200": {"description": "ready"}, "503": error_response("not_ready")}}},
            "/metrics": {"get": {"summary": "Prometheus text", "responses": {"200": {"description": "metrics", "content": {"text/plain": {}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A JWT signed with HS256: `{sub, roles: [\"customer\"|\"operator\"], iat, exp, iss?}`. Mint one with `tv-token --subject <id> --role customer`."}
            },
            "parameters": {
                "After": {"name": "after", "in": "query", "required": false, "description": "A command's position `<STREAM>:<sequence>` (e.g. TV_INVENTORY:42): answer only once the projection of that stream has reached it (waits up to 2 s, then 503 not_caught_up). A sequence beyond the end of its stream is 400 position_ahead at once; more waiting queries than TV_QUERY_MAX_WAITERS is 503 not_caught_up with Retry-After at once.", "schema": {"type": "string", "pattern": "^[A-Z0-9_]+:[0-9]+$"}}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "EventSummary": {"type": "object", "properties": {"event_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "venue": {"type": "string"}, "starts_at": {"type": "string", "format": "date-time"}, "status": {"enum": ["draft", "on_sale", "closed", "cancelled"]}}},
                "EventDetail": {"type": "object", "properties": {
                    "event_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "venue": {"type": "string"},
                    "starts_at": {"type": "string", "format": "date-time"}, "status": {"enum": ["draft", "on_sale", "closed", "cancelled"]},
                    "currency": {"type": "string"}, "sale_opens_at": {"type": ["string", "null"], "format": "date-time"}, "sale_closes_at": {"type": ["string", "null"], "format": "date-time"},
                    "hold_ttl_seconds": {"type": "integer"}, "max_tickets_per_customer": {"type": "integer"},
                    "sections": {"type": "array", "items": {"type": "object", "properties": {
                        "section_id": {"type": "string"}, "name": {"type": "string"}, "price_minor": {"type": "integer"},
                        "kind": {"enum": ["seated", "general_admission"]}, "capacity": {"type": "integer"},
                        "rows": {"type": "array", "items": {"type": "object", "properties": {"row": {"type": "string"}, "seats": {"type": "integer"}}}},
                        "ticket_types": {"type": "array", "description": "the types the section sells, the first being a hold's default (`standard` at `price_minor` when the organiser listed none)", "items": {"type": "object", "properties": {"type_id": {"type": "string"}, "name": {"type": "string"}, "price_minor": {"type": "integer"}}}}}}},
                    "presales": {"type": "array", "description": "windows before `sale_opens_at` in which a hold needs an access code of that presale (`access_code`); empty when the event has none", "items": {"type": "object", "properties": {
                        "presale_id": {"type": "string"}, "opens_at": {"type": "string", "format": "date-time"}, "closes_at": {"type": "string", "format": "date-time"}, "max_tickets_per_code": {"type": "integer"}}}}}},
                "Availability": {"type": "object", "properties": {"event_id": {"type": "string", "format": "uuid"}, "sections": {"type": "array", "items": {"type": "object", "properties": {
                    "section_id": {"type": "string"}, "capacity": {"type": "integer"}, "available": {"type": "integer"}, "held": {"type": "integer"}, "sold": {"type": "integer"}, "blocked": {"type": "integer", "description": "seats an operator took off sale (not available, neither held nor sold)"}, "version": {"type": "integer"}}}}}},
                "LiveAvailability": {"allOf": [{"$ref": "#/components/schemas/Availability"}, {"type": "object", "required": ["position"], "properties": {"position": {"type": "string", "description": "`<STREAM>:<sequence>`: the numbers are exact as of this position"}}}]},
                "Seat": {"type": "object", "properties": {"seat": {"type": "string"}, "status": {"enum": ["available", "held", "sold", "blocked"]}}},
                "Report": {"type": "object", "required": ["event_id", "name", "status", "currency", "sections", "totals"], "properties": {
                    "event_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                    "status": {"type": "string", "enum": ["draft", "on_sale", "closed", "cancelled"]},
                    "currency": {"type": "string"},
                    "sections": {"type": "array", "items": {"allOf": [{"type": "object", "required": ["section_id", "types"], "properties": {"section_id": {"type": "string"}, "types": {"type": "array", "description": "confirmed tickets and revenue per ticket type of the section (an order is of one type)", "items": {"type": "object", "required": ["type_id", "tickets_confirmed", "revenue_minor"], "properties": {"type_id": {"type": "string"}, "tickets_confirmed": {"type": "integer"}, "revenue_minor": {"type": "integer"}}}}}}, {"$ref": "#/components/schemas/ReportFigures"}]}},
                    "totals": {"$ref": "#/components/schemas/ReportFigures"}
                }},
                "ReportFigures": {"type": "object", "required": ["capacity", "available", "held", "sold", "blocked", "orders_confirmed", "tickets_confirmed", "revenue_minor", "orders_refunded", "refunded_minor", "orders_pending", "checked_in"], "properties": {
                    "capacity": {"type": "integer"}, "available": {"type": "integer"}, "held": {"type": "integer"}, "sold": {"type": "integer"}, "blocked": {"type": "integer"},
                    "orders_confirmed": {"type": "integer"}, "tickets_confirmed": {"type": "integer"}, "revenue_minor": {"type": "integer"},
                    "orders_refunded": {"type": "integer"}, "refunded_minor": {"type": "integer"}, "orders_pending": {"type": "integer"},
                    "checked_in": {"type": "integer"}
                }},
                "WaitlistEntry": {"type": "object", "required": ["waitlist_id", "event_id", "section_id", "customer_id", "quantity", "adjacent", "status", "version"], "properties": {
                    "waitlist_id": {"type": "string"}, "event_id": {"type": "string", "format": "uuid"},
                    "section_id": {"type": "string"}, "customer_id": {"type": "string"},
                    "quantity": {"type": "integer"}, "adjacent": {"type": "boolean"},
                    "status": {"type": "string", "enum": ["waiting", "offered", "left", "expired"]},
                    "position": {"type": "integer", "minimum": 1, "description": "while waiting: 1 for the next entry to be offered seats"},
                    "hold_id": {"type": "string", "description": "the offered hold, once offered"},
                    "version": {"type": "integer"}
                }},
                "Hold": {"type": "object", "properties": {
                    "hold_id": {"type": "string"}, "event_id": {"type": "string", "format": "uuid"}, "section_id": {"type": "string"}, "customer_id": {"type": "string"},
                    "status": {"enum": read_model::status::HoldStatus::API_WORDS}, "seats": {"type": "array", "items": {"type": "string"}},
                    "quantity": {"type": "integer"}, "expires_at": {"type": "string", "format": "date-time"}, "order_id": {"type": ["string", "null"]}, "version": {"type": "integer"}}},
                "OrderTicket": {"type": "object", "required": ["ticket_id", "code", "section_id", "seat", "qr"], "properties": {
                    "ticket_id": {"type": "string", "format": "uuid"}, "code": {"type": "string"}, "section_id": {"type": "string"}, "seat": {"type": ["string", "null"]},
                    "qr": {"type": "string", "description": "The QR code's payload: the ticket's code, which a scanner verifies offline with its event's scanner key (docs/TICKETS.md)"}}},
                "Ticket": {"type": "object", "required": ["ticket_id", "order_id", "event_id", "section_id", "seat", "status", "checked_in_at"], "properties": {
                    "ticket_id": {"type": "string", "format": "uuid"}, "order_id": {"type": "string", "format": "uuid"}, "event_id": {"type": ["string", "null"], "format": "uuid"},
                    "section_id": {"type": "string"}, "seat": {"type": ["string", "null"]}, "status": {"enum": ["valid", "checked_in", "void"]},
                    "checked_in_at": {"type": ["string", "null"], "format": "date-time"}}},
                "Order": {"type": "object", "properties": {
                    "order_id": {"type": "string", "format": "uuid"}, "customer_id": {"type": "string"}, "event_id": {"type": ["string", "null"]}, "hold_id": {"type": ["string", "null"]},
                    "status": {"enum": ["pending_payment", "confirmed", "payment_failed", "expired", "cancelled", "refunded"]},
                    "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/OrderTicket"}}, "total_minor": {"type": "integer"}, "currency": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}}
            }
        }
    })
}
