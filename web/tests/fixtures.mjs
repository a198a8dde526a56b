// What the browser specs and the benchmark set up through the APIs (never through the pages):
// events created and published with the operator's token, holds and orders of a second customer.

import { randomUUID } from 'node:crypto';

export const env = {
  base: process.env.TV_WEB_BASE,
  command: process.env.TV_COMMAND_URL,
  waitingRoom: process.env.TV_WAITING_ROOM_URL,
  operator: process.env.TV_OPERATOR_TOKEN,
  scanner: process.env.TV_SCANNER_TOKEN,
  customer: process.env.TV_CUSTOMER_TOKEN,
  expired: process.env.TV_EXPIRED_TOKEN,
};

/** Calls a service; throws with the answer's error code unless it succeeded. */
export async function apiCall(base, method, path, token, body) {
  const headers = { Accept: 'application/json', 'Idempotency-Key': randomUUID() };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const answer = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await answer.text();
  const json = text ? JSON.parse(text) : null;
  if (!answer.ok) {
    const error = new Error(`${method} ${path}: ${answer.status} ${text}`);
    error.code = json && json.error && json.error.code;
    throw error;
  }
  return json;
}

let counter = 0;

/** A unique name for an event of this run. */
export function eventName(what) {
  counter += 1;
  return `${what} ${new Date().toISOString().slice(11, 19)} #${counter}`;
}

/** Creates and publishes an event; `extra` is merged into the body. Returns {event_id, name}. */
export async function publishedEvent(sections, extra = {}) {
  const name = extra.name || eventName('Browser test');
  const body = {
    name,
    venue: 'Test hall',
    starts_at: new Date(Date.now() + 7 * 86400000).toISOString(),
    currency: 'EUR',
    sections,
    max_tickets_per_customer: 8,
    ...extra,
  };
  const created = await apiCall(env.command, 'POST', '/events', env.operator, body);
  await apiCall(env.command, 'POST', `/events/${created.event_id}/publish`, env.operator, {});
  return { event_id: created.event_id, name };
}

/** Row label number `i` (from 0): A … Z, AA, AB, … as the operator console names them. */
export function rowLabel(i) {
  let n = i;
  let label = '';
  do {
    label = String.fromCharCode(65 + (n % 26)) + label;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return label;
}

/** A published event with one seated section `s1` of `rows` × `seatsPerRow` (rows A, B, …). */
export function seatedEvent({ rows = 2, seatsPerRow = 5, limit = 8, price = 4500, extra = {} } = {}) {
  const rowList = Array.from({ length: rows }, (_, i) => ({ row: rowLabel(i), seats: seatsPerRow }));
  return publishedEvent([{ section_id: 's1', name: 'Stalls', price_minor: price, rows: rowList }], { max_tickets_per_customer: limit, ...extra });
}
