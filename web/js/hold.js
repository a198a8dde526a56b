//! A hold (/app/holds/{id}): the held seats, their ticket type and price, a countdown to
//! `expires_at`, a release button, and the checkout form (checkout.js). An expired hold says so
//! and leads back to the seats. query-svc's hold carries no ticket type: the type is the one
//! command-svc answered when this tab placed the hold (kept with the tab's holds).

import { api } from './api.js';
import { h, replace, notice, link } from './dom.js';
import { money } from './money.js';
import { who, recall } from './session.js';
import { toSignin } from './nav.js';
import { checkoutForm } from './checkout.js';

function left(expiresAt) {
  return Math.max(0, Math.floor((new Date(expiresAt).getTime() - Date.now()) / 1000));
}

export async function render(main, [holdId], query) {
  document.title = 'Your hold · TicketView';
  if (!who()) {
    toSignin('needed');
    return undefined;
  }
  const id = encodeURIComponent(holdId);
  const hold = await api('query', 'GET', `/holds/${id}`, { after: query.get('after') });
  const event = await api('query', 'GET', `/events/${encodeURIComponent(hold.event_id)}`, { signedIn: false });
  const section = event.sections.find((s) => s.section_id === hold.section_id) || { name: hold.section_id, price_minor: 0 };
  const backToSeats = link(`/app/events/${encodeURIComponent(hold.event_id)}`, 'Back to the seats');
  main.append(h('h1', {}, 'Your hold'), h('p', { class: 'meta' }, event.name, ' · ', section.name));
  const seats = hold.seats && hold.seats.length ? hold.seats.join(', ') : `${hold.quantity} ticket(s), general admission`;
  const types = section.ticket_types || [];
  const placed = recall('holds', []).find((kept) => kept.hold_id === hold.hold_id) || {};
  const type = types.find((t) => t.type_id === placed.type_id) || (types.length > 1 ? null : types[0]);
  const price = placed.price_minor ?? (type ? type.price_minor : section.price_minor);
  const facts = h('dl', { class: 'facts' }, h('dt', {}, 'Seats'), h('dd', {}, seats));
  if (types.length > 1) facts.append(h('dt', {}, 'Ticket type'), h('dd', {}, type ? type.name : 'as picked when holding'));
  // Without the type, a section of several types has no one price to show.
  const total = types.length > 1 && !type && placed.price_minor == null ? 'the picked type\'s price, shown on the order' : money(price * hold.quantity, event.currency);
  facts.append(h('dt', {}, 'Total'), h('dd', {}, total));
  main.append(facts);
  const countdown = h('p', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
  const message = h('div', { class: 'messages', 'aria-live': 'assertive' });
  main.append(countdown, message);

  if (hold.status !== 'active') {
    const words = {
      expired: 'This hold expired and its seats went back on sale.',
      released: 'This hold was released.',
      ordered: 'This hold has been paid for.',
    }[hold.status] || `This hold is ${hold.status}.`;
    main.append(notice(words, hold.status === 'ordered' ? 'ok' : 'info'), h('p', {}, backToSeats));
    if (hold.status === 'ordered' && hold.order_id) main.append(h('p', {}, link(`/app/orders/${encodeURIComponent(hold.order_id)}`, 'See the order')));
    return undefined;
  }

  const release = h('button', { type: 'button', class: 'secondary' }, 'Release seats');
  let timer = null;
  const expire = () => {
    clearInterval(timer);
    form.remove();
    release.remove();
    replace(countdown);
    replace(message, notice('Your hold expired and the seats went back on sale. Pick again.', 'error'), h('p', {}, backToSeats));
  };
  const checkout = checkoutForm(holdId, { message, onExpired: expire, busy: (flag) => { release.disabled = flag; } });
  const form = checkout.form;
  main.append(form, h('div', { class: 'row' }, release));
  const tick = () => {
    const seconds = left(hold.expires_at);
    if (seconds <= 0) {
      expire();
      return;
    }
    countdown.textContent = `Held for you for ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} more`;
  };
  tick();
  timer = setInterval(tick, 1000);

  release.addEventListener('click', async () => {
    release.disabled = true;
    checkout.disable(true);
    try {
      await api('command', 'POST', `/holds/${id}/release`, { body: {} });
      clearInterval(timer);
      form.remove();
      release.remove();
      replace(countdown);
      replace(message, notice('The seats are released.', 'ok'), h('p', {}, backToSeats));
    } catch (error) {
      release.disabled = false;
      checkout.disable(false);
      replace(message, notice(error.message, 'error'));
    }
  });
  return () => clearInterval(timer);
}
