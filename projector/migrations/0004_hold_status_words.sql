-- TicketView read models, version 4: one meaning for every hold status word, the domain's
-- (read-model contract, `read_model::status::HoldStatus`). A hold checked out into an order being
-- paid is `ordered` (was `checked_out`), one sold to its order `sold` (was `ordered`), and one whose
-- seats were returned with its order's refund `returned` (from now on; a rebuild marks the older
-- ones too). Pending holds, which lazy expiry looks at, are `active` and `ordered`.

UPDATE holds SET status = CASE status WHEN 'ordered' THEN 'sold' ELSE 'ordered' END
WHERE status IN ('ordered', 'checked_out');

DROP INDEX holds_pending_expiry_idx;
CREATE INDEX holds_pending_expiry_idx ON holds (event_id, section_id, expires_at)
    WHERE status IN ('active', 'ordered');
