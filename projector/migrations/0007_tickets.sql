-- TicketView read models, version 7: one row per ticket (orders projection), found by its code
-- for `GET /tickets/{code}` and counted per section for the event's report. The code is the
-- primary key: unique across every order. `ticket_index` is the ticket's place in its order
-- (from 0), from which query-svc derives its `ticket_id`. `status` is `valid`, `checked_in` or
-- `void` (its order cancelled, refunded or expired; kept void once checked in too), as
-- `read_model::status::TicketStatus` names them; `checked_in_at` is the first check-in's time.
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

CREATE TABLE tickets (
    code          text PRIMARY KEY,
    order_id      uuid NOT NULL,
    ticket_index  integer NOT NULL,
    customer_id   text NOT NULL,
    event_id      uuid,
    section_id    text NOT NULL,
    seat          text,
    status        text NOT NULL,
    checked_in_at timestamptz,
    version       bigint NOT NULL   -- the last commit that changed it
);

CREATE INDEX tickets_order_idx ON tickets (order_id);
CREATE INDEX tickets_event_idx ON tickets (event_id, section_id, status);

-- The tickets of orders projected before this table existed (none was checked in then).
INSERT INTO tickets (code, order_id, ticket_index, customer_id, event_id, section_id, seat,
                     status, checked_in_at, version)
SELECT t.ticket->>'code', o.order_id, (t.ordinality - 1)::integer, o.customer_id, o.event_id,
       t.ticket->>'section_id', t.ticket->>'seat',
       CASE WHEN o.status = 'confirmed' THEN 'valid' ELSE 'void' END, NULL, o.version
FROM orders o, jsonb_array_elements(o.tickets) WITH ORDINALITY AS t(ticket, ordinality)
ON CONFLICT (code) DO NOTHING;
