-- TicketView read models, version 9: an event's presales as the API shows them
-- (`[{presale_id, opens_at, closes_at, max_tickets_per_code}]`, never a code), so that a page can
-- ask for an access code while one is open. Events projected before this version had none.
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

ALTER TABLE events ADD COLUMN presales jsonb NOT NULL DEFAULT '[]'::jsonb;
