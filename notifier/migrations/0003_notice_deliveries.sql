-- The outbox, version 3: one row per notice and channel it goes out on (`mail`, or
-- `webhook:<url>`), written in the same statement as the notice, for the channels configured then.
--
-- A sender claims a due row by setting `next_attempt_at` past a lease (a claimed row is due again
-- only if its sender died), sends, then records the outcome: `delivered`, `no_address` (mail to a
-- customer whose address is not known), or after the last attempt `dead` (published to the
-- dead-letter stream first). `attempts` counts claims, so a sender killed mid-send counts too.
-- `message_id` is the Message-ID a mail was sent with: derived from the notice id, so a mail sent
-- again after a crash between the server's acceptance and this row's update carries the same one.

CREATE TABLE IF NOT EXISTS notice_deliveries (
    notice_id       text NOT NULL REFERENCES notifications (id),
    channel         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending', -- pending | delivered | no_address | dead
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    message_id      text,
    delivered_at    timestamptz,
    PRIMARY KEY (notice_id, channel)
);

CREATE INDEX IF NOT EXISTS notice_deliveries_due_idx ON notice_deliveries (next_attempt_at)
    WHERE state = 'pending';
