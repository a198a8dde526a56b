//! Checkout of a hold: the payment form (the test gateway's card tokens: one that pays, one that
//! is declined, one that answers late) and the order it places. One idempotency key per hold and
//! card, kept in this tab, so a retried click places the same order, never a second one.

import { api } from './api.js';
import { h, replace, notice } from './dom.js';
import { remember, recall } from './session.js';
import { navigate } from './nav.js';

const CARDS = [
  ['tok_ok', 'Test card that pays'],
  ['tok_decline', 'Test card that is declined'],
  ['tok_slow', 'Test card that answers slowly'],
];

/**
 * The payment form of hold `holdId`. `message` shows errors; `onExpired()` runs when the hold ran
 * out before the order was placed; `busy(flag)` while the order is being placed. On success the
 * reader goes to the order's page.
 */
export function checkoutForm(holdId, { message, onExpired, busy = () => {} }) {
  const card = h('select', { id: 'card', name: 'card' }, CARDS.map(([token, text]) => h('option', { value: token }, text)));
  const pay = h('button', { type: 'submit' }, 'Pay');
  const form = h('form', { class: 'checkout', 'aria-label': 'Payment' },
    h('h2', {}, 'Payment'),
    h('div', { class: 'field' }, h('label', { for: 'card' }, 'Card'), card),
    h('div', { class: 'row' }, pay));
  form.addEventListener('submit', async (submitEvent) => {
    submitEvent.preventDefault();
    pay.disabled = true;
    busy(true);
    replace(message, h('p', {}, 'Paying…'));
    const keys = recall('order-keys', {});
    const key = `${holdId}:${card.value}`;
    keys[key] = keys[key] || crypto.randomUUID();
    remember('order-keys', keys);
    try {
      const order = await api('command', 'POST', '/orders', {
        body: { hold_id: holdId, payment: { token: card.value } },
        idempotencyKey: keys[key],
      });
      navigate(`/app/orders/${encodeURIComponent(order.order_id)}?after=${encodeURIComponent(order.position)}`);
    } catch (error) {
      if (error.code === 'hold_expired') {
        onExpired();
        return;
      }
      pay.disabled = false;
      busy(false);
      replace(message, notice(error.message, 'error'));
    }
  });
  return { form, disable: (flag) => { pay.disabled = flag; } };
}
