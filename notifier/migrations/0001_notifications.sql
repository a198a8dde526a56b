-- The notifier's outbox, version 1: one row per notice, written once.
--
-- `id` names the fact the notice is about (`<order id>:<kind>`): each of these facts happens at
-- most once per order, so a redelivered or replayed fact finds its row and adds nothing. A mailer
-- (or any other channel) reads the rows in `created_at` order and marks what it has sent.

CREATE TABLE IF NOT EXISTS notifications (
    id              text PRIMARY KEY,
    order_id        uuid NOT NULL,
    customer_id     text NOT NULL,
    kind            text NOT NULL,   -- order_confirmed | payment_failed | order_expired | order_refunded
    body            jsonb NOT NULL,
    stream_sequence bigint NOT NULL, -- where the fact is on the ORDERS stream
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);

CREATE INDEX IF NOT EXISTS notifications_unsent_idx ON notifications (created_at)
    WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS notifications_customer_idx ON notifications (customer_id, created_at);
