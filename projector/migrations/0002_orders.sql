-- TicketView read models, version 2: the orders projection, and holds checked out into orders.
--
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

INSERT INTO projection_checkpoints (projection, stream) VALUES ('orders', 'orders')
ON CONFLICT (projection) DO NOTHING;

-- A hold checked out into an order being paid is stored as `checked_out` (query-svc shows it as
-- `ordered`): its seats stay held, and like an active hold it stops counting at `expires_at`
-- unless its order pays in time. Lazy expiry (next_expiry, the held correction) therefore looks
-- at both statuses.
DROP INDEX holds_active_expiry_idx;
CREATE INDEX holds_pending_expiry_idx ON holds (event_id, section_id, expires_at)
    WHERE status IN ('active', 'checked_out');

-- Orders (table created by 0001, filled from now on by the orders projection): `status` as the
-- API shows it (an order paid but not yet confirmed is still `pending_payment`); `tickets` are
-- [{code, section_id, seat}] (seat null in general admission), set at confirmation and kept
-- after a cancellation.
CREATE INDEX orders_status_idx ON orders (status, updated_at);
