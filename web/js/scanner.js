//! The scanner page (/app/scanner/): type or paste a ticket code and check it in. The answer is
//! said in words: "valid — checked in" the first time, "already checked in at HH:MM" after,
//! "void" for a refunded or cancelled ticket and "unknown" for a code that was never issued.

import { api } from './api.js';
import { h, replace, notice, clock } from './dom.js';
import { who, hasRole } from './session.js';
import { toSignin } from './nav.js';

export async function render(main) {
  document.title = 'Scanner · TicketView';
  if (!who()) {
    toSignin('needed');
    return;
  }
  main.append(h('h1', {}, 'Check in tickets'));
  if (!hasRole('scanner') && !hasRole('operator')) {
    main.append(notice('This page needs a scanner’s or an operator’s sign-in.', 'error'));
    return;
  }
  const code = h('input', { id: 'code', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
  const result = h('div', { class: 'scan-result', role: 'status', 'aria-live': 'assertive' });
  const form = h('form', { class: 'scanner', 'aria-label': 'Check in' },
    h('div', { class: 'field' }, h('label', { for: 'code' }, 'Ticket code'), code),
    h('button', { type: 'submit' }, 'Check in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = code.value.trim();
    if (!text) return;
    replace(result, h('p', {}, 'Checking…'));
    try {
      const answer = await api('command', 'POST', `/tickets/${encodeURIComponent(text)}/check-in`, { body: {} });
      replace(result, notice(`valid — checked in${answer.seat ? ` (seat ${answer.seat})` : ''}`, 'ok'));
    } catch (error) {
      if (error.code === 'already_checked_in' && error.detail.checked_in_at) {
        replace(result, notice(`already checked in at ${clock(error.detail.checked_in_at)}`, 'error'));
      } else {
        replace(result, notice(error.message, 'error'));
      }
    }
    code.select();
  });
  main.append(form, result);
  code.focus();
}
