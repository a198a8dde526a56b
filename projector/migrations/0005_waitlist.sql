-- Waiting lists of sold-out sections, part of the inventory projection (its stream, its
-- checkpoints, rebuilt with it). One row per entry; its place in the line is counted when read:
-- the waiting entries of its section that joined before it. `joined_order` orders entries as the
-- stream does: the commit's sequence, then the fact's index in the commit.
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

CREATE TABLE waitlist (
    waitlist_id   text PRIMARY KEY,          -- `<event uuid>.<entry uuid>`
    event_id      uuid NOT NULL,
    section_id    text NOT NULL,
    customer_id   text NOT NULL,
    quantity      integer NOT NULL,
    adjacent      boolean NOT NULL,
    status        text NOT NULL,             -- waiting | offered | left | expired
    hold_id       text,                      -- the offered hold, once offered
    joined_order  bigint NOT NULL,
    version       bigint NOT NULL
);

-- Positions: the waiting entries of one section, in joining order.
CREATE INDEX waitlist_waiting_idx ON waitlist (event_id, section_id, joined_order)
    WHERE status = 'waiting';
