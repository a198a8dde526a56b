//! The operator console's start (/app/operator/): the events (drafts included) and a form that
//! creates an event with general-admission and seated sections, prices, a sale window, a
//! per-customer limit and, optionally, more ticket types per section, a presale with access codes
//! before the sale opens, and a waiting room.

import { api } from './api.js';
import { h, replace, notice, link, when } from './dom.js';
import { parseMajor } from './money.js';
import { who, hasRole } from './session.js';
import { navigate, toSignin } from './nav.js';

const STATUS = { draft: 'draft', on_sale: 'on sale', closed: 'closed', cancelled: 'cancelled' };

/** Row labels A, B, … Z, AA, AB, … for `count` rows. */
export function rowLabels(count) {
  const labels = [];
  for (let i = 0; i < count; i += 1) {
    let n = i;
    let label = '';
    do {
      label = String.fromCharCode(65 + (n % 26)) + label;
      n = Math.floor(n / 26) - 1;
    } while (n >= 0);
    labels.push(label);
  }
  return labels;
}

function isoOf(local) {
  return local ? new Date(local).toISOString() : undefined;
}

function localInput(id, offsetMinutes) {
  const at = new Date(Date.now() + offsetMinutes * 60000);
  at.setSeconds(0, 0);
  const value = new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  return h('input', { id, type: 'datetime-local', value });
}

/**
 * The ticket types typed for a section, one a line ("VIP: 90"), after its own price as the type
 * "Standard"; [] when none is typed (the section then sells one type at its price).
 */
export function parseTypes(text, standardMinor, currency, where) {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  if (!lines.length) return [];
  const types = [{ type_id: 'standard', name: 'Standard', price_minor: standardMinor }];
  lines.forEach((line, i) => {
    const colon = line.lastIndexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const priceMinor = colon > 0 ? parseMajor(line.slice(colon + 1), currency) : null;
    if (!name || priceMinor === null) throw new Error(`${where}, ticket type line ${i + 1}: write a name, a colon and a price, e.g. "VIP: 90".`);
    types.push({ type_id: `t${i + 2}`, name, price_minor: priceMinor });
  });
  return types;
}

function sectionRow(index) {
  const kind = h('select', { id: `s${index}-kind` }, h('option', { value: 'ga' }, 'General admission'), h('option', { value: 'seated' }, 'Seated'));
  const name = h('input', { id: `s${index}-name`, type: 'text', value: index === 0 ? 'Floor' : `Section ${index + 1}`, maxlength: '200' });
  const price = h('input', { id: `s${index}-price`, type: 'text', inputmode: 'decimal', value: '45.00' });
  const capacity = h('input', { id: `s${index}-capacity`, type: 'number', min: '1', value: '100' });
  const rows = h('input', { id: `s${index}-rows`, type: 'number', min: '1', max: '700', value: '10' });
  const perRow = h('input', { id: `s${index}-per-row`, type: 'number', min: '1', max: '1000', value: '20' });
  const types = h('textarea', { id: `s${index}-types`, rows: '2', 'aria-describedby': `s${index}-types-hint` });
  const gaFields = h('div', { class: 'field' }, h('label', { for: capacity.id }, 'Capacity'), capacity);
  const seatedFields = h('div', { class: 'row', hidden: true },
    h('div', { class: 'field' }, h('label', { for: rows.id }, 'Rows'), rows),
    h('div', { class: 'field' }, h('label', { for: perRow.id }, 'Seats per row'), perRow));
  kind.addEventListener('change', () => {
    gaFields.hidden = kind.value !== 'ga';
    seatedFields.hidden = kind.value === 'ga';
  });
  const element = h('fieldset', { class: 'section-row' },
    h('legend', {}, `Section ${index + 1}`),
    h('div', { class: 'field' }, h('label', { for: name.id }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: kind.id }, 'Kind'), kind),
    h('div', { class: 'field' }, h('label', { for: price.id }, 'Price'), price),
    gaFields, seatedFields,
    h('div', { class: 'field' },
      h('label', { for: types.id }, 'More ticket types (optional)'),
      types,
      h('small', { id: `s${index}-types-hint` }, 'One a line, name and price, e.g. "VIP: 90". The price above is then the type "Standard".')));
  const read = (currency) => {
    const priceMinor = parseMajor(price.value, currency);
    if (priceMinor === null) throw new Error(`Section ${index + 1}: the price is not an amount.`);
    const section = { section_id: `s${index + 1}`, name: name.value.trim(), price_minor: priceMinor };
    const ticketTypes = parseTypes(types.value, priceMinor, currency, `Section ${index + 1}`);
    if (ticketTypes.length) section.ticket_types = ticketTypes;
    if (kind.value === 'ga') section.capacity = Number(capacity.value);
    else section.rows = rowLabels(Number(rows.value)).map((row) => ({ row, seats: Number(perRow.value) }));
    return section;
  };
  return { element, read };
}

function createForm(message) {
  const name = h('input', { id: 'ev-name', type: 'text', required: true, maxlength: '200' });
  const venue = h('input', { id: 'ev-venue', type: 'text', required: true, maxlength: '200' });
  const startsAt = localInput('ev-starts', 60 * 24 * 7);
  const currency = h('input', { id: 'ev-currency', type: 'text', value: 'EUR', maxlength: '3', pattern: '[A-Z]{3}' });
  const opensAt = localInput('ev-opens', 0);
  const closesAt = h('input', { id: 'ev-closes', type: 'datetime-local' });
  const limit = h('input', { id: 'ev-limit', type: 'number', min: '1', max: '100', value: '8' });
  const ttl = h('input', { id: 'ev-ttl', type: 'number', min: '5', max: '86400', value: '600' });
  const room = h('input', { id: 'ev-room', type: 'checkbox' });
  const admit = h('input', { id: 'ev-admit', type: 'number', min: '1', value: '600' });
  const presale = h('input', { id: 'ev-presale', type: 'checkbox' });
  const presaleOpens = localInput('ev-presale-opens', 0);
  const perCode = h('input', { id: 'ev-per-code', type: 'number', min: '1', max: '10000', value: '4' });
  const sections = h('div', { class: 'sections-form' });
  const rows = [];
  const addSection = () => {
    const row = sectionRow(rows.length);
    rows.push(row);
    sections.append(row.element);
  };
  addSection();
  const more = h('button', { type: 'button', class: 'secondary' }, 'Add a section');
  more.addEventListener('click', addSection);
  const field = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  const form = h('form', { class: 'create', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create an event'),
    field('Event name', name), field('Venue', venue), field('Starts at', startsAt), field('Currency', currency),
    field('Sale opens at', opensAt), field('Sale closes at (optional)', closesAt),
    field('Tickets per customer', limit), field('Hold time (seconds)', ttl),
    h('div', { class: 'field inline' }, room, h('label', { for: room.id }, 'Sell through a waiting room (opens now)')),
    field('Admissions per minute', admit),
    h('div', { class: 'field inline' }, presale, h('label', { for: presale.id }, 'Presale with access codes until the sale opens (codes are loaded on the event’s page)')),
    field('Presale opens at', presaleOpens), field('Tickets per access code', perCode),
    sections, more,
    h('button', { type: 'submit' }, 'Create event'));
  let idempotencyKey = crypto.randomUUID();
  let lastBody = null;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    let body;
    try {
      const code = currency.value.trim().toUpperCase();
      body = {
        name: name.value.trim(),
        venue: venue.value.trim(),
        starts_at: isoOf(startsAt.value),
        currency: code,
        sections: rows.map((row) => row.read(code)),
        max_tickets_per_customer: Number(limit.value),
        hold_ttl_seconds: Number(ttl.value),
      };
      if (opensAt.value) body.sale_opens_at = isoOf(opensAt.value);
      if (closesAt.value) body.sale_closes_at = isoOf(closesAt.value);
      if (room.checked) {
        if (!body.sale_opens_at || new Date(body.sale_opens_at) <= new Date()) body.sale_opens_at = new Date(Date.now() + 10000).toISOString();
        body.waiting_room = { opens_at: new Date(Date.now() - 1000).toISOString(), admit_per_minute: Number(admit.value) };
      }
      if (presale.checked) {
        if (!body.sale_opens_at) throw new Error('A presale needs the time the sale opens: it ends then.');
        body.presales = [{ presale_id: 'presale', opens_at: isoOf(presaleOpens.value), closes_at: body.sale_opens_at, max_tickets_per_code: Number(perCode.value) }];
      }
    } catch (error) {
      replace(message, notice(error.message, 'error'));
      return;
    }
    if (lastBody !== null && JSON.stringify(body) !== lastBody) idempotencyKey = crypto.randomUUID();
    lastBody = JSON.stringify(body);
    try {
      const answer = await api('command', 'POST', '/events', { body, idempotencyKey });
      navigate(`/app/operator/events/${encodeURIComponent(answer.event_id)}?after=${encodeURIComponent(answer.position)}`);
    } catch (error) {
      replace(message, notice(error.message, 'error'));
    }
  });
  return form;
}

export async function render(main) {
  document.title = 'Operator console · TicketView';
  if (!who()) {
    toSignin('needed');
    return;
  }
  main.append(h('h1', {}, 'Operator console'));
  if (!hasRole('operator')) {
    main.append(notice('This console needs an operator’s sign-in.', 'error'));
    return;
  }
  const message = h('div', { class: 'messages', 'aria-live': 'assertive' });
  const [drafts, published] = await Promise.all([
    api('query', 'GET', '/events?status=draft&limit=200'),
    api('query', 'GET', '/events?limit=200'),
  ]);
  const list = h('ul', { class: 'plain', 'aria-label': 'Events' });
  for (const event of [...drafts, ...published]) {
    list.append(h('li', {}, link(`/app/operator/events/${encodeURIComponent(event.event_id)}`, event.name), ` · ${STATUS[event.status] || event.status} · ${when(event.starts_at)}`));
  }
  if (!list.childElementCount) list.append(h('li', {}, 'No events yet.'));
  main.append(h('h2', {}, 'Events'), list, message, createForm(message));
}
