-- The outbox, version 2: notices about a waiting-list entry (an offer of returned seats, and its
-- expiry) come from the INVENTORY stream and belong to no order. `id` is `<waitlist id>:<kind>`
-- for them; `stream` names the stream `stream_sequence` is on.

ALTER TABLE notifications ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS stream text NOT NULL DEFAULT 'orders';
