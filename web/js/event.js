//! An event's page (/app/events/{id}): its sections with prices and live availability (pushed by
//! query-svc's availability stream), a seat map per seated section that changes in place from the
//! seat-map stream, pick-your-seats and best-available holds, the waiting room when the event has
//! one, and the waiting list when a section is sold out. During a presale (presale.js) every hold
//! sends the access code typed on the page; a section with several ticket types lets the buyer
//! pick one (its price is shown, and the hold names it in `type_id`).

import { api } from './api.js';
import { h, replace, notice, when, link } from './dom.js';
import { money } from './money.js';
import { follow } from './sse.js';
import { who, remember, recall } from './session.js';
import { navigate } from './nav.js';
import { SeatMap } from './seatmap.js';
import { queuePanel, admission, forgetAdmission } from './queue.js';
import { waitlistPanel } from './waitlist.js';
import { runningPresale, upcomingPresale, nextPresaleChange, presalePanel } from './presale.js';

/** The longest wait setTimeout keeps (about 24 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const STATUS_WORDS = {
  draft: 'This event is not published yet.',
  closed: 'The sale is closed.',
  cancelled: 'This event was cancelled.',
};

async function waitingRoomOf(eventId) {
  try {
    return await api('waitingRoom', 'GET', `/events/${eventId}/queue`, { signedIn: false });
  } catch {
    return null;
  }
}

export async function render(main, [eventId]) {
  const id = encodeURIComponent(eventId);
  const [event, room] = await Promise.all([api('query', 'GET', `/events/${id}`, { signedIn: false }), waitingRoomOf(id)]);
  document.title = `${event.name} · TicketView`;
  const stops = [];
  const message = h('div', { class: 'messages', 'aria-live': 'assertive' });
  main.append(
    h('h1', {}, event.name),
    h('p', { class: 'meta' }, event.venue, ' · ', h('time', { datetime: event.starts_at }, when(event.starts_at))),
    message,
  );
  const running = STATUS_WORDS[event.status] ? null : runningPresale(event);
  const presale = running ? presalePanel(running) : null;
  const upcoming = STATUS_WORDS[event.status] || running ? null : upcomingPresale(event);
  if (presale) main.append(presale.line);
  else if (upcoming) main.append(notice(`A presale opens ${when(upcoming.opens_at)}: an access code will be needed.`));
  if (STATUS_WORDS[event.status]) main.append(notice(STATUS_WORDS[event.status]));
  else if (event.sale_opens_at && new Date(event.sale_opens_at) > new Date()) {
    const opens = notice(`The ${presale || upcoming ? 'general ' : ''}sale opens ${when(event.sale_opens_at)}.`);
    main.append(opens);
    const opened = setTimeout(() => opens.remove(), new Date(event.sale_opens_at).getTime() - Date.now());
    stops.push(() => clearTimeout(opened));
  }
  if (presale) main.append(presale.field);
  // A presale opening or closing changes what the page asks for: it is drawn again then.
  const change = STATUS_WORDS[event.status] ? null : nextPresaleChange(event);
  if (change !== null && change - Date.now() < MAX_TIMEOUT_MS) {
    const redraw = setTimeout(() => navigate(location.pathname + location.search, { replace: true }), change - Date.now() + 500);
    stops.push(() => clearTimeout(redraw));
  }

  const canBuy = () => event.status === 'on_sale' && (!room || admission(eventId) !== null);
  const panels = event.sections.map((section, index) => sectionPanel(event, section, index, message, canBuy, presale));
  if (room && event.status === 'on_sale' && !admission(eventId)) {
    const queue = queuePanel(id, room, () => panels.forEach((panel) => panel.refresh()));
    stops.push(queue.stop);
    main.append(queue.element);
  }
  main.append(h('div', { class: 'sections' }, panels.map((panel) => panel.element)));
  panels.forEach((panel) => stops.push(panel.stop));

  stops.push(
    follow('query', `/events/${id}/availability/stream`, (kind, data) => {
      if (kind !== 'availability') return;
      for (const figures of data.sections) {
        const panel = panels.find((p) => p.section.section_id === figures.section_id);
        if (panel) panel.figures(figures);
      }
    }),
  );
  return () => stops.forEach((stop) => stop());
}

/** A short hex digest of `text`: an access code in an idempotency key without the code itself. */
async function digest(text) {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

function sectionPanel(event, section, index, message, canBuy, presale) {
  const eventId = encodeURIComponent(event.event_id);
  const seated = section.kind === 'seated' || (section.rows && section.rows.length > 0);
  const headingId = `section-${index}`;
  const figuresLine = h('p', { class: 'figures' }, 'Availability: loading…');
  const controls = h('div', { class: 'controls' });
  // Several ticket types: the buyer picks one, and the price shown is that type's.
  const types = section.ticket_types && section.ticket_types.length > 1 ? section.ticket_types : [];
  let typeId = types.length ? types[0].type_id : null;
  const priceLine = h('p', { class: 'price' });
  const showPrice = () => {
    const type = types.find((t) => t.type_id === typeId);
    if (type) replace(priceLine, `${type.name}: `, money(type.price_minor, event.currency), ' per ticket');
    else replace(priceLine, money(section.price_minor, event.currency), ' per ticket');
  };
  showPrice();
  const element = h(
    'section',
    { class: 'section', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, section.name),
    priceLine,
    figuresLine,
  );
  const stops = [];
  let map = null;
  let available = null;
  let waitlist = null;
  const pickedLine = h('p', { class: 'picked', 'aria-live': 'polite' });
  const holdPicked = h('button', { type: 'button', disabled: true }, 'Hold picked seats');

  if (seated) {
    map = new SeatMap({
      rows: section.rows,
      label: section.name,
      maxPick: event.max_tickets_per_customer || 8,
      onChange: (labels) => {
        pickedLine.textContent = labels.length ? `Picked: ${labels.join(', ')}` : 'No seats picked yet.';
        holdPicked.disabled = labels.length === 0;
      },
    });
    map.onChange([]);
    element.append(map.element);
    stops.push(
      follow('query', `/events/${eventId}/sections/${encodeURIComponent(section.section_id)}/seats/stream`, (kind, data) => {
        if (kind === 'seat_map') map.setAll(data);
        else if (kind === 'seat_changes') map.apply(data);
      }),
    );
  }
  element.append(controls);

  const hold = async (body, button) => {
    if (!who()) {
      navigate(`/app/signin?reason=needed&back=${encodeURIComponent(location.pathname)}`);
      return;
    }
    const code = presale ? presale.code() : '';
    if (presale && !code) {
      replace(message, notice('Type your access code first: the presale needs one.', 'error'));
      presale.ask();
      return;
    }
    button.disabled = true;
    replace(message);
    const sent = { section_id: section.section_id, ...body, ...(typeId ? { type_id: typeId } : {}) };
    // The key names the code by its digest: the code itself is not kept in the tab.
    const key = `${JSON.stringify(sent)}:${code ? await digest(code) : ''}`;
    const pending = recall('pending-hold') || {};
    const idempotencyKey = pending.key === key ? pending.id : crypto.randomUUID();
    remember('pending-hold', { key, id: idempotencyKey });
    try {
      const answer = await api('command', 'POST', `/events/${eventId}/holds`, {
        body: code ? { ...sent, access_code: code } : sent,
        idempotencyKey,
        admission: admission(event.event_id)?.token,
      });
      remember('pending-hold', null);
      const holds = recall('holds', []);
      holds.unshift({
        hold_id: answer.hold_id,
        event_id: event.event_id,
        name: event.name,
        expires_at: answer.expires_at,
        type_id: answer.type_id,
        price_minor: answer.price_minor,
      });
      remember('holds', holds.slice(0, 20));
      navigate(`/app/holds/${encodeURIComponent(answer.hold_id)}?after=${encodeURIComponent(answer.position)}`);
    } catch (error) {
      remember('pending-hold', null);
      button.disabled = false;
      replace(message, notice(`${section.name}: ${error.message}`, 'error'));
      if (error.code === 'seat_unavailable' && map) map.clearPicks();
      if (error.code === 'admission_expired' || error.code === 'not_admitted') {
        forgetAdmission(event.event_id);
        navigate(location.pathname, { replace: true });
      }
    }
  };

  const quantityPicker = (labelText) => {
    const select = h('select', { id: `qty-${index}` });
    const most = Math.max(1, Math.min(event.max_tickets_per_customer || 8, available ?? 8));
    for (let n = 1; n <= most; n += 1) select.append(h('option', { value: String(n) }, String(n)));
    return [h('label', { for: select.id }, labelText), select];
  };

  const refresh = () => {
    if (waitlist) {
      waitlist.stop();
      waitlist = null;
    }
    replace(controls);
    if (event.status !== 'on_sale') return;
    // A waiting-list entry of this tab stays in view until its offer is taken, even when seats
    // come back to the public.
    const onWaitlist = recall(`waitlist.${event.event_id}.${section.section_id}`) !== null;
    if (available === 0 || onWaitlist) {
      waitlist = waitlistPanel(event.event_id, section, event.max_tickets_per_customer || 1);
      controls.append(waitlist.element);
      if (available === 0) return;
    }
    if (!canBuy()) {
      controls.append(h('p', {}, 'Seats can be picked once the waiting room lets you in.'));
      return;
    }
    if (!who()) {
      controls.append(h('p', {}, link(`/app/signin?reason=needed&back=${encodeURIComponent(location.pathname)}`, 'Sign in to buy tickets')));
      return;
    }
    if (types.length) {
      const typeSelect = h('select', { id: `type-${index}` });
      for (const type of types) {
        typeSelect.append(h('option', { value: type.type_id }, `${type.name} · ${money(type.price_minor, event.currency)}`));
      }
      typeSelect.value = typeId;
      typeSelect.addEventListener('change', () => {
        typeId = typeSelect.value;
        showPrice();
      });
      controls.append(h('div', { class: 'row' }, h('label', { for: typeSelect.id }, 'Ticket type'), typeSelect));
    }
    const [label, select] = quantityPicker(seated ? 'Best available seats' : 'Tickets');
    const best = h('button', { type: 'button' }, seated ? 'Find best seats' : 'Hold tickets');
    best.addEventListener('click', () => hold({ quantity: Number(select.value) }, best));
    if (seated) {
      holdPicked.onclick = () => hold({ seats: map.pickedLabels() }, holdPicked);
      controls.append(h('div', { class: 'row' }, pickedLine, holdPicked));
    }
    controls.append(h('div', { class: 'row' }, label, select, best));
  };

  const figures = (f) => {
    figuresLine.textContent = `Available: ${f.available} of ${f.capacity} · held ${f.held} · sold ${f.sold}`;
    const wasSoldOut = available === 0;
    const first = available === null;
    available = f.available;
    if (first || wasSoldOut !== (available === 0)) refresh();
  };

  return { element, section, figures, refresh, stop: () => { stops.forEach((s) => s()); if (waitlist) waitlist.stop(); } };
}
