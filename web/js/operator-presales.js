//! The operator's presales on the live sale view: each presale's window and, once the event is on
//! sale (its inventory takes no codes before), a form that loads its access codes (a textarea, one
//! code per line) with `POST /events/{id}/presales/{presale_id}/codes`. The codes typed are sent
//! once and then cleared from the page; the answer says how many distinct codes the request held.

import { api } from './api.js';
import { h, replace, notice, when } from './dom.js';

/** The most codes command-svc takes in one request. */
const MAX_CODES_PER_REQUEST = 1000;

function period(presale) {
  return `${when(presale.opens_at)} to ${when(presale.closes_at)} · at most ${presale.max_tickets_per_code} ticket(s) per code`;
}

function codesForm(eventId, presale, index) {
  const area = h('textarea', { id: `codes-${index}`, rows: '5', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `codes-${index}-hint` });
  const result = h('div', { class: 'messages', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Load codes');
  const form = h('form', { class: 'codes' },
    h('h3', {}, `Presale ${presale.presale_id}`),
    h('p', {}, period(presale)),
    h('div', { class: 'field' },
      h('label', { for: area.id }, 'Access codes'),
      area,
      h('small', { id: `codes-${index}-hint` }, `One code per line, 4 to 64 characters; up to ${MAX_CODES_PER_REQUEST} at a time. Loading a code again changes nothing.`)),
    button, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const codes = area.value.split('\n').map((line) => line.trim()).filter(Boolean);
    if (codes.length === 0 || codes.length > MAX_CODES_PER_REQUEST) {
      replace(result, notice(`Type 1 to ${MAX_CODES_PER_REQUEST} codes, one per line.`, 'error'));
      return;
    }
    button.disabled = true;
    replace(result);
    try {
      const answer = await api('command', 'POST', `/events/${eventId}/presales/${encodeURIComponent(presale.presale_id)}/codes`, { body: { codes } });
      area.value = '';
      replace(result, notice(`${answer.codes} code(s) loaded into presale ${presale.presale_id}.`, 'ok'));
    } catch (error) {
      replace(result, notice(error.message, 'error'));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** A section listing `event`'s presales, each with its codes form; null when there is none to show. */
export function presalesSection(event) {
  const presales = event.presales || [];
  if (!presales.length || event.status === 'cancelled' || event.status === 'closed') return null;
  const eventId = encodeURIComponent(event.event_id);
  const section = h('section', { 'aria-labelledby': 'presales-title' }, h('h2', { id: 'presales-title' }, 'Presales'));
  if (event.status === 'draft') {
    section.append(
      h('ul', { class: 'plain' }, presales.map((presale) => h('li', {}, `Presale ${presale.presale_id}: ${period(presale)}`))),
      h('p', {}, 'Access codes can be loaded once the event is published.'),
    );
  } else {
    section.append(...presales.map((presale, index) => codesForm(eventId, presale, index)));
  }
  return section;
}
