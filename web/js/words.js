//! Errors in words: each stable error code of the APIs as a sentence a buyer, an organiser or a
//! door scanner understands. A code missing here falls back to the service's own message.

const WORDS = {
  unauthenticated: 'Please sign in first.',
  forbidden: 'Your sign-in does not allow this.',
  not_owner: 'This belongs to someone else.',
  customer_mismatch: 'This belongs to someone else.',
  seat_unavailable: 'Someone else just took one of those seats. Pick again.',
  sold_out: 'Sold out: not enough seats left in this section.',
  limit_exceeded: 'That is more tickets than one customer may buy for this event.',
  sale_not_open: 'The sale has not opened yet.',
  sale_closed: 'The sale is closed.',
  access_code_invalid: 'That access code is not valid for this presale. Check it and try again.',
  access_code_used_up: 'That access code has already bought all the tickets it allows.',
  unknown_ticket_type: 'That ticket type is not sold in this section any more. Reload the page and pick again.',
  unknown_event: 'There is no such event.',
  unknown_section: 'There is no such section.',
  unknown_hold: 'There is no such hold.',
  unknown_order: 'There is no such order.',
  unknown_ticket: 'unknown — no ticket has this code.',
  ticket_void: 'void — this ticket was refunded or cancelled.',
  hold_expired: 'Your hold expired and the seats went back on sale.',
  invalid_state: 'That cannot be done any more: it has changed in the meantime.',
  payment_refused: 'The payment was refused.',
  not_admitted: 'You have not been admitted from the queue yet.',
  admission_expired: 'Your turn from the queue has run out. Join the queue again.',
  queue_closed: 'The queue is not open.',
  no_waiting_room: 'This event has no waiting room.',
  not_sold_out: 'There are still seats in this section: pick them instead.',
  not_caught_up: 'The latest changes are still on their way. Trying again.',
  too_many_streams: 'Too many people are watching right now. Trying again.',
  rate_limited: 'Busy.',
  idempotency_key_reused: 'That request was already sent with different details.',
  demo_signin_disabled: 'The demo sign-in is not enabled on this platform.',
  read_model_unavailable: 'The service is catching up. Try again in a moment.',
  timeout: 'The service took too long to answer. Try again.',
};

/** The sentence for an error code, or `fallback`. */
export function words(code, fallback) {
  return WORDS[code] || fallback || 'Something went wrong. Try again.';
}
