-- TicketView read models, version 1.
--
-- Written by the projector only; read by query-svc. Every row that a projection writes carries
-- `version`: the stream sequence of the last commit that changed it, so a reader can always tell
-- the newer of two copies. Names are unqualified on purpose: `projector rebuild` replays these
-- files with another search_path to build fresh copies of the tables beside the live ones.

-- How far each projection has applied its stream, written in the same transaction as its effects.
CREATE TABLE projection_checkpoints (
    projection    text PRIMARY KEY,
    stream        text NOT NULL,      -- the stream's token (`inventory`), not its prefixed name
    last_sequence bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

INSERT INTO projection_checkpoints (projection, stream) VALUES
    ('catalog', 'catalog'),
    ('inventory', 'inventory')
ON CONFLICT (projection) DO NOTHING;

-- Catalog projection: one row per event (listing and detail).
CREATE TABLE events (
    event_id                 uuid PRIMARY KEY,
    name                     text NOT NULL,
    venue                    text NOT NULL,
    starts_at                timestamptz NOT NULL,
    currency                 text NOT NULL,
    status                   text NOT NULL,   -- draft | on_sale | closed | cancelled
    sale_opens_at            timestamptz,
    sale_closes_at           timestamptz,
    hold_ttl_seconds         integer NOT NULL,
    max_tickets_per_customer integer NOT NULL,
    -- [{section_id, name, price_minor, kind: seated|general_admission, capacity, rows?: [{row, seats}]}]
    sections                 jsonb NOT NULL,
    created_at               timestamptz NOT NULL,
    version                  bigint NOT NULL
);

CREATE INDEX events_listing_idx ON events (starts_at, event_id);

-- Inventory projection: the hot rows. One per section of an opened event.
CREATE TABLE availability (
    event_id    uuid NOT NULL,
    section_id  text NOT NULL,
    ordinal     integer NOT NULL,      -- the section's place in the event
    seated      boolean NOT NULL,
    capacity    integer NOT NULL,
    held        integer NOT NULL,      -- seats in holds not yet released, expired or sold
    sold        integer NOT NULL,
    -- Earliest expires_at of the section's active holds: `held` is exact only before it, because
    -- expiry is lazy (a hold stops counting at expires_at, before its HoldExpired is projected).
    next_expiry timestamptz,
    version     bigint NOT NULL,
    PRIMARY KEY (event_id, section_id),
    CHECK (held >= 0 AND sold >= 0)
);

-- Seat maps of assigned-seat sections.
CREATE TABLE seats (
    event_id        uuid NOT NULL,
    section_id      text NOT NULL,
    seat            text NOT NULL,       -- <row>-<n>
    row_ordinal     integer NOT NULL,
    number          integer NOT NULL,
    status          text NOT NULL,       -- available | held | sold
    hold_id         text,
    order_id        uuid,
    -- The holding hold's expiry, so a reader sees a lazily expired seat as available.
    hold_expires_at timestamptz,
    version         bigint NOT NULL,
    PRIMARY KEY (event_id, section_id, seat)
);

CREATE INDEX seats_map_idx ON seats (event_id, section_id, row_ordinal, number);

-- Holds, by id.
CREATE TABLE holds (
    hold_id     text PRIMARY KEY,        -- <event uuid>.<hold uuid>
    event_id    uuid NOT NULL,
    section_id  text NOT NULL,
    customer_id text NOT NULL,
    seats       text[] NOT NULL,
    quantity    integer NOT NULL,
    expires_at  timestamptz NOT NULL,
    status      text NOT NULL,           -- active | released | expired | ordered
    order_id    uuid,
    created_at  timestamptz NOT NULL,
    version     bigint NOT NULL
);

-- Lazy expiry: the active holds of a section by expiry (next_expiry, and the held correction).
CREATE INDEX holds_active_expiry_idx ON holds (event_id, section_id, expires_at)
    WHERE status = 'active';
CREATE INDEX holds_customer_idx ON holds (customer_id);

-- Orders: filled by the orders projection when the ordering context lands; created now so that
-- query-svc's order endpoints answer (empty) from day one. Shape follows API.md.
CREATE TABLE orders (
    order_id    uuid PRIMARY KEY,
    customer_id text NOT NULL,
    event_id    uuid,
    hold_id     text,
    status      text NOT NULL,   -- pending_payment | confirmed | payment_failed | expired | cancelled | refunded
    tickets     jsonb NOT NULL DEFAULT '[]'::jsonb,   -- [{section_id, seat}] (seat null for GA)
    total_minor bigint NOT NULL,
    currency    text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL
);

CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, order_id);
