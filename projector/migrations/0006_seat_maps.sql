-- TicketView read models, version 6: a seated section's seat map is one row (`seat_maps`) instead
-- of one row per seat (`seats`, dropped). A batch that takes a thousand seats of a section rewrites
-- one row; opening a 200,000-seat venue writes a row per section. The encoding is the read-model
-- contract's (`read_model::seat_map`): `statuses` has one letter per seat in layout order (a
-- available, h held, s sold), `hold_expiries` eight bytes per seat, the holding hold's expiry in
-- microseconds since the Unix epoch (big-endian), 0 when no hold has it. The hold or order that
-- has a seat is the hold's (`holds.seats`, `holds.order_id`).
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

CREATE TABLE seat_maps (
    event_id      uuid NOT NULL,
    section_id    text NOT NULL,
    row_labels    text[] NOT NULL,       -- the rows, in order
    row_seats     integer[] NOT NULL,    -- seats in each row, numbered from 1
    statuses      text NOT NULL,
    hold_expiries bytea NOT NULL,
    version       bigint NOT NULL,       -- the last commit that changed a seat (or opened it)
    PRIMARY KEY (event_id, section_id)
);

-- Rewritten whole by every batch that changes one of its seats: stored out of line uncompressed,
-- which costs less CPU than compressing it each time.
ALTER TABLE seat_maps ALTER COLUMN statuses SET STORAGE EXTERNAL,
                      ALTER COLUMN hold_expiries SET STORAGE EXTERNAL;

WITH seat_rows AS (
    SELECT event_id, section_id, row_ordinal,
           left(min(seat), length(min(seat)) - length(split_part(min(seat), '-', -1)) - 1) AS row_label,
           count(*)::int AS seats,
           string_agg(left(status, 1), '' ORDER BY number) AS statuses,
           string_agg(int8send(COALESCE(
               CASE WHEN hold_expires_at IS NULL THEN 0
                    ELSE (extract(epoch FROM hold_expires_at) * 1000000)::bigint END, 0)),
               '' ORDER BY number) AS hold_expiries,
           max(version) AS version
    FROM seats
    GROUP BY event_id, section_id, row_ordinal
)
INSERT INTO seat_maps (event_id, section_id, row_labels, row_seats, statuses, hold_expiries, version)
SELECT event_id, section_id,
       array_agg(row_label ORDER BY row_ordinal),
       array_agg(seats ORDER BY row_ordinal),
       string_agg(statuses, '' ORDER BY row_ordinal),
       string_agg(hold_expiries, '' ORDER BY row_ordinal),
       max(version)
FROM seat_rows
GROUP BY event_id, section_id;

DROP TABLE seats;
