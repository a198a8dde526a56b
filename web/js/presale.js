//! An event's presales on its page: which window is running now (`opens_at` ≤ now < `closes_at`),
//! the line saying so, the one "Access code" field every hold of the page sends as `access_code`,
//! and the next moment a presale opens or closes, when the page is drawn again.

import { h, when } from './dom.js';

/** The presale running at `now`, or null. */
export function runningPresale(event, now = Date.now()) {
  return (event.presales || []).find((p) => new Date(p.opens_at).getTime() <= now && now < new Date(p.closes_at).getTime()) || null;
}

/** The next presale to open after `now`, or null. */
export function upcomingPresale(event, now = Date.now()) {
  const later = (event.presales || []).filter((p) => new Date(p.opens_at).getTime() > now);
  later.sort((a, b) => new Date(a.opens_at) - new Date(b.opens_at));
  return later[0] || null;
}

/** The next time after `now` a presale opens or closes (in ms since the epoch), or null. */
export function nextPresaleChange(event, now = Date.now()) {
  const times = (event.presales || [])
    .flatMap((p) => [p.opens_at, p.closes_at])
    .map((iso) => new Date(iso).getTime())
    .filter((t) => t > now);
  return times.length ? Math.min(...times) : null;
}

/**
 * The running presale's line and its access-code field: {line, field, code(), ask()}. `code()`
 * is the typed code (trimmed; '' when none), `ask()` moves the focus to the field.
 */
export function presalePanel(presale) {
  const input = h('input', { id: 'access-code', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', 'aria-describedby': 'presale-line' });
  return {
    line: h('p', { class: 'notice info', id: 'presale-line' }, `Presale until ${when(presale.closes_at)}: an access code is needed. `, `Each code buys at most ${presale.max_tickets_per_code} ticket(s).`),
    field: h('div', { class: 'row' }, h('label', { for: input.id }, 'Access code'), input),
    code: () => input.value.trim(),
    ask: () => input.focus(),
  };
}
