//! "My orders" (/app/me): the signed-in customer's orders with cancel, and their holds (from
//! query-svc when it lists them, else the holds this tab made).

import { api } from './api.js';
import { h, replace, link, when } from './dom.js';
import { money } from './money.js';
import { who, recall } from './session.js';
import { toSignin } from './nav.js';
import { cancelButton } from './order.js';

const STATUS = {
  pending_payment: 'waiting for payment',
  confirmed: 'paid',
  payment_failed: 'payment failed',
  expired: 'expired',
  cancelled: 'cancelled',
  refunded: 'refunded',
};

async function holdsOf(subject) {
  try {
    return await api('query', 'GET', `/customers/${encodeURIComponent(subject)}/holds`);
  } catch (error) {
    if (error.status !== 404 && error.status !== 405) throw error;
    return recall('holds', []);
  }
}

/** The names of the events of orders or holds, by id (an event that cannot be read is left out). */
async function eventNames(items) {
  const ids = [...new Set(items.map((item) => item.event_id).filter(Boolean))];
  const names = new Map();
  await Promise.all(ids.map(async (id) => {
    try {
      const event = await api('query', 'GET', `/events/${encodeURIComponent(id)}`, { signedIn: false });
      names.set(id, event.name);
    } catch {
      // shown without its name
    }
  }));
  return names;
}

export async function render(main) {
  document.title = 'My orders · TicketView';
  const me = who();
  if (!me) {
    toSignin('needed');
    return;
  }
  const subject = encodeURIComponent(me.subject);
  main.append(h('h1', {}, 'My orders'));
  const message = h('div', { class: 'messages' });
  const list = h('ul', { class: 'cards', 'aria-label': 'Orders' });
  main.append(message, list);
  // `after`: a cancellation's position, so the list shows it once the read model has it.
  const load = async (after) => {
    const orders = await api('query', 'GET', `/customers/${subject}/orders`, { after });
    const names = await eventNames(orders);
    replace(list);
    if (!orders.length) list.append(h('li', {}, 'No orders yet.'));
    for (const order of orders) {
      const item = h('li', { class: 'card' },
        h('h2', {}, link(`/app/orders/${encodeURIComponent(order.order_id)}`, `${names.get(order.event_id) || 'Order'}, ordered ${when(order.created_at)}`)),
        h('p', {}, `${money(order.total_minor, order.currency)} · ${STATUS[order.status] || order.status} · ${order.tickets.length} ticket(s)`));
      if (order.status === 'confirmed' || order.status === 'pending_payment') item.append(cancelButton(order, message, (answer) => load(answer.position)));
      list.append(item);
    }
  };
  await load();

  const holds = (await holdsOf(me.subject)).filter((hold) => !hold.status || hold.status === 'active');
  const holdNames = await eventNames(holds.filter((hold) => !hold.name));
  main.append(h('h2', {}, 'My holds'));
  const holdList = h('ul', { class: 'plain', 'aria-label': 'Holds' });
  if (!holds.length) holdList.append(h('li', {}, 'No live holds.'));
  for (const hold of holds) {
    const name = hold.name || holdNames.get(hold.event_id);
    const seats = hold.seats && hold.seats.length ? ` (${hold.seats.join(', ')})` : '';
    const until = hold.expires_at && new Date(hold.expires_at) > new Date() ? `, held until ${when(hold.expires_at)}` : '';
    holdList.append(h('li', {}, link(`/app/holds/${encodeURIComponent(hold.hold_id)}`, `Hold${name ? ` for ${name}` : ''}${seats}${until}`)));
  }
  main.append(holdList);
}
