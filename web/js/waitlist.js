//! The waiting list of a sold-out section: join with a quantity, then watch the entry (polled)
//! until seats are offered, which shows a link to the offered hold.

import { api } from './api.js';
import { h, replace, notice, link } from './dom.js';
import { who, remember, recall } from './session.js';

const POLL_MS = 1500;

/** The waiting-list panel of one section. Returns {element, stop}. */
export function waitlistPanel(eventId, section, maxTickets) {
  const key = `waitlist.${eventId}.${section.section_id}`;
  const status = h('div', { class: 'waitlist-status', role: 'status', 'aria-live': 'polite' });
  const element = h('div', { class: 'waitlist' }, status);
  let timer = null;
  let stopped = false;

  const watch = async (waitlistId) => {
    try {
      const entry = await api('query', 'GET', `/waitlist/${encodeURIComponent(waitlistId)}`);
      if (entry.status === 'offered' && entry.hold_id) {
        replace(status, notice('Seats came free and are offered to you.', 'ok'), h('p', {}, link(`/app/holds/${encodeURIComponent(entry.hold_id)}`, 'See the offered seats and pay')));
        return;
      }
      if (entry.status === 'waiting') {
        replace(status, h('p', {}, `You are on the waiting list: number ${entry.position ?? '…'} in line.`));
      } else {
        replace(status, h('p', {}, entry.status === 'expired' ? 'The offer ran out.' : 'You left the waiting list.'));
        remember(key, null);
        return;
      }
    } catch (error) {
      if (error.code !== 'unknown_waitlist' && error.status !== 404) replace(status, notice(error.message, 'error'));
    }
    if (!stopped) timer = setTimeout(() => watch(waitlistId), POLL_MS);
  };

  const join = () => {
    if (!who()) {
      replace(status, h('p', {}, 'Sold out. ', link(`/app/signin?reason=needed&back=${encodeURIComponent(location.pathname)}`, 'Sign in to join the waiting list')));
      return;
    }
    const quantity = h('select', { id: `wl-${section.section_id}` });
    for (let n = 1; n <= Math.max(1, maxTickets); n += 1) quantity.append(h('option', { value: String(n) }, String(n)));
    const button = h('button', { type: 'button' }, 'Join the waiting list');
    const idempotencyKey = crypto.randomUUID();
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const answer = await api('command', 'POST', `/events/${eventId}/waitlist`, {
          body: { section_id: section.section_id, quantity: Number(quantity.value) },
          idempotencyKey,
        });
        remember(key, answer.waitlist_id);
        replace(status, h('p', {}, 'You are on the waiting list.'));
        watch(answer.waitlist_id);
      } catch (error) {
        button.disabled = false;
        status.append(notice(error.message, 'error'));
      }
    });
    replace(
      status,
      h('p', {}, 'Sold out. Join the waiting list and seats that come free are offered to you first.'),
      h('div', { class: 'row' }, h('label', { for: quantity.id }, 'Tickets'), quantity, button),
    );
  };

  const kept = recall(key);
  if (kept) watch(kept);
  else join();
  return {
    element,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
