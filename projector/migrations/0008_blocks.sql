-- TicketView read models, version 8: seats an operator blocked (taken off sale for the press or
-- the production) are counted per section in `availability.blocked`, apart from held and sold, so
-- a reader shows them as not available and the operator's report shows them. A blocked seat of a
-- seat map has the letter `b` (`read_model::seat_map`). Sections of inventories projected before
-- this version had no blocks: 0.
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

ALTER TABLE availability ADD COLUMN blocked integer NOT NULL DEFAULT 0;
ALTER TABLE availability ADD CONSTRAINT availability_blocked_check CHECK (blocked >= 0);
