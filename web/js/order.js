//! An order (/app/orders/{id}): its state while payment runs, then one code per ticket, shown as
//! text and as a QR code, with its ticket type's name when its section sells several; a paid
//! order can be cancelled (and is refunded).

import { api } from './api.js';
import { h, replace, notice, link } from './dom.js';
import { money } from './money.js';
import { who } from './session.js';
import { toSignin } from './nav.js';

const WORDS = {
  pending_payment: 'Waiting for the payment…',
  confirmed: 'Paid. Here are your tickets.',
  payment_failed: 'The payment did not go through; the seats went back on sale.',
  expired: 'The hold ran out before the payment finished.',
  cancelled: 'This order was cancelled.',
  refunded: 'This order was cancelled and refunded.',
};
const POLL_MS = 700;

/** The names of the ticket types of sections selling more than one, by `section_id/type_id`. */
async function typeNames(eventId) {
  const names = new Map();
  if (!eventId) return names;
  try {
    const event = await api('query', 'GET', `/events/${encodeURIComponent(eventId)}`, { signedIn: false });
    for (const section of event.sections) {
      const types = section.ticket_types || [];
      if (types.length > 1) types.forEach((t) => names.set(`${section.section_id}/${t.type_id}`, t.name));
    }
  } catch {
    // Without the event, the tickets are shown without their types' names.
  }
  return names;
}

/** A button that cancels `order` (asking first), then calls `done()`. */
export function cancelButton(order, message, done) {
  const button = h('button', { type: 'button', class: 'secondary' }, 'Cancel order');
  button.addEventListener('click', async () => {
    if (!window.confirm('Cancel this order? A paid order is refunded and its seats go back on sale.')) return;
    button.disabled = true;
    try {
      const answer = await api('command', 'POST', `/orders/${encodeURIComponent(order.order_id)}/cancel`, { body: {} });
      done(answer);
    } catch (error) {
      button.disabled = false;
      replace(message, notice(error.message, 'error'));
    }
  });
  return button;
}

export async function render(main, [orderId], query) {
  document.title = 'Your order · TicketView';
  if (!who()) {
    toSignin('needed');
    return undefined;
  }
  const id = encodeURIComponent(orderId);
  const heading = h('h1', {}, 'Your order');
  const state = h('div', { role: 'status', 'aria-live': 'polite' });
  const body = h('div');
  const message = h('div', { class: 'messages' });
  main.append(heading, state, message, body);
  let timer = null;
  let after = query.get('after');

  const show = async () => {
    const order = await api('query', 'GET', `/orders/${id}`, { after });
    after = null;
    // The QR encoder is loaded before anything is shown, so "paid" and the tickets appear at once.
    const { qrSvg } = order.status === 'confirmed' ? await import('./qr.js') : {};
    replace(state, notice(WORDS[order.status] || order.status, order.status === 'confirmed' ? 'ok' : order.status === 'pending_payment' ? 'info' : 'error'));
    replace(body, h('p', {}, `Total: ${money(order.total_minor, order.currency)}`));
    if (order.event_id) body.append(h('p', {}, link(`/app/events/${encodeURIComponent(order.event_id)}`, 'The event')));
    // Paid, but its tickets not issued yet: asked again shortly.
    if (order.status === 'pending_payment' || (order.status === 'confirmed' && order.tickets.length === 0)) {
      timer = setTimeout(show, POLL_MS);
      return;
    }
    if (order.status === 'confirmed') {
      const names = order.tickets.some((t) => t.type_id) ? await typeNames(order.event_id) : new Map();
      const list = h('ol', { class: 'tickets', 'aria-label': 'Tickets' });
      for (const ticket of order.tickets) {
        const place = ticket.seat ? `Seat ${ticket.seat}` : 'General admission';
        const typeName = names.get(`${ticket.section_id}/${ticket.type_id}`);
        list.append(
          h('li', { class: 'ticket' },
            h('h2', {}, place),
            typeName ? h('p', {}, `Ticket type: ${typeName}`) : null,
            h('p', {}, 'Code: ', h('code', { class: 'code' }, ticket.code)),
            qrSvg(ticket.qr || ticket.code, `QR code of the ticket for ${place}`)),
        );
      }
      body.append(list, cancelButton(order, message, (answer) => {
        after = answer.position;
        show();
      }));
    }
  };
  await show();
  return () => clearTimeout(timer);
}
