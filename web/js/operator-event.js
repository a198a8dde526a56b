//! The live sale view of one event (/app/operator/events/{id}): publish, close and cancel; sold,
//! held and available per section from the availability stream; orders and revenue from the
//! report; holds per second; the waiting room's admission rate and people waiting; and a chart of
//! tickets sold over time that moves while the sale runs; the presales, with a form loading their
//! access codes (operator-presales.js).

import { api } from './api.js';
import { h, replace, notice, when, link } from './dom.js';
import { money } from './money.js';
import { follow } from './sse.js';
import { who, hasRole } from './session.js';
import { navigate, toSignin } from './nav.js';
import { SalesChart } from './chart.js';
import { presalesSection } from './operator-presales.js';

const REPORT_MS = 3000;
const QUEUE_MS = 2000;
const RATE_WINDOW_MS = 5000;

export async function render(main, [eventId], query) {
  document.title = 'Live sale · TicketView';
  if (!who()) {
    toSignin('needed');
    return undefined;
  }
  if (!hasRole('operator')) {
    main.append(h('h1', {}, 'Live sale'), notice('This console needs an operator’s sign-in.', 'error'));
    return undefined;
  }
  const id = encodeURIComponent(eventId);
  const event = await api('query', 'GET', `/events/${id}`, { after: query.get('after') });
  document.title = `${event.name} · live sale · TicketView`;
  const stops = [];
  const message = h('div', { class: 'messages', 'aria-live': 'assertive' });
  const status = h('p', { class: 'status-line', role: 'status' });
  const actions = h('div', { class: 'row actions' });
  main.append(
    h('p', {}, link('/app/operator/', 'All events')),
    h('h1', {}, event.name),
    h('p', { class: 'meta' }, event.venue, ' · ', when(event.starts_at)),
    status, actions, message,
  );

  const act = (label, path, confirmText, cls = '') => {
    const button = h('button', { type: 'button', class: cls }, label);
    button.addEventListener('click', async () => {
      if (confirmText && !window.confirm(confirmText)) return;
      button.disabled = true;
      try {
        const answer = await api('command', 'POST', `/events/${id}/${path}`, { body: {} });
        navigate(`/app/operator/events/${id}${answer && answer.position ? `?after=${encodeURIComponent(answer.position)}` : ''}`, { replace: true });
      } catch (error) {
        button.disabled = false;
        replace(message, notice(error.message, 'error'));
      }
    });
    return button;
  };
  const statusWords = { draft: 'Draft: not on sale yet', on_sale: 'On sale', closed: 'Sale closed', cancelled: 'Cancelled' };
  status.textContent = statusWords[event.status] || event.status;
  if (event.status === 'draft') actions.append(act('Publish', 'publish'));
  if (event.status === 'on_sale') actions.append(act('Close the sale', 'close', 'Close the sale? No new holds; live holds may still check out.'));
  if (event.status === 'on_sale' || event.status === 'closed' || event.status === 'draft') {
    actions.append(act('Cancel the event', 'cancel', 'Cancel the event? Every live hold is released and every paid order refunded.', 'danger'));
  }
  if (event.status !== 'draft') actions.append(link(`/app/events/${id}`, 'Buyer’s page'));

  const table = h('table', { class: 'figures-table' },
    h('caption', {}, 'Seats per section'),
    h('thead', {}, h('tr', {}, ['Section', 'Sold', 'Held', 'Available', 'Capacity'].map((t) => h('th', { scope: 'col' }, t)))));
  const tbody = h('tbody');
  table.append(tbody);
  const cells = new Map();
  for (const section of event.sections) {
    const row = [h('td'), h('td'), h('td'), h('td')];
    cells.set(section.section_id, row);
    tbody.append(h('tr', {}, h('th', { scope: 'row' }, section.name), row));
  }
  const rates = h('dl', { class: 'facts' });
  const report = h('dl', { class: 'facts' });
  const chart = new SalesChart('Tickets sold over time');
  main.append(
    h('section', { 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Live'), h('div', { class: 'scroll' }, table), rates),
    h('section', { 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Sales over time'), chart.svg, chart.caption),
    h('section', { 'aria-labelledby': 'report-title' }, h('h2', { id: 'report-title' }, 'Orders'), report),
  );
  const presales = presalesSection(event);
  if (presales) main.append(presales);

  const taken = [];
  let holdsPerSecond = 0;
  let queueFacts = null;
  const showRates = () => {
    const facts = [['Holds per second', holdsPerSecond.toFixed(1)]];
    if (queueFacts) facts.push(...queueFacts);
    replace(rates, facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
  };
  showRates();

  let lastSold = null;
  stops.push(follow('query', `/events/${id}/availability/stream`, (kind, data) => {
    if (kind !== 'availability') return;
    let sold = 0;
    let takenNow = 0;
    for (const figures of data.sections) {
      const row = cells.get(figures.section_id);
      if (row) [figures.sold, figures.held, figures.available, figures.capacity].forEach((n, i) => { row[i].textContent = String(n); });
      sold += figures.sold;
      takenNow += figures.sold + figures.held;
    }
    const now = Date.now();
    taken.push({ at: now, count: takenNow });
    while (taken.length > 2 && now - taken[0].at > RATE_WINDOW_MS) taken.shift();
    const first = taken[0];
    holdsPerSecond = taken.length > 1 ? Math.max(0, takenNow - first.count) / Math.max(1, (now - first.at) / 1000) : 0;
    showRates();
    lastSold = sold;
    chart.add(now, sold);
  }));
  // The chart moves with time even while nothing sells.
  const tick = setInterval(() => {
    if (lastSold !== null) chart.add(Date.now(), lastSold);
  }, 1000);

  let reportTimer = null;
  const loadReport = async () => {
    try {
      const r = await api('query', 'GET', `/events/${id}/report`);
      const t = r.totals;
      replace(report, [
        ['Tickets sold', t.tickets_confirmed], ['Confirmed orders', t.orders_confirmed], ['Revenue', money(t.revenue_minor, r.currency)],
        ['Orders awaiting payment', t.orders_pending], ['Refunded orders', `${t.orders_refunded} (${money(t.refunded_minor, r.currency)})`],
        ['Checked in', t.checked_in],
      ].flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, String(value))]));
    } catch (error) {
      replace(report, notice(error.message, 'error'));
    }
    reportTimer = setTimeout(loadReport, REPORT_MS);
  };
  loadReport();

  let queueTimer = null;
  let lastAdmitted = null;
  const loadQueue = async () => {
    try {
      const q = await api('waitingRoom', 'GET', `/events/${id}/queue`, { signedIn: false });
      const now = Date.now();
      let measured = '';
      if (lastAdmitted) measured = ` (measured ${Math.round(((q.admitted_total - lastAdmitted.n) * 60000) / Math.max(1, now - lastAdmitted.at))} a minute)`;
      lastAdmitted = { n: q.admitted_total, at: now };
      queueFacts = [
        ['Waiting room', q.state], ['People waiting', String(q.waiting)], ['Admitted so far', String(q.admitted_total)],
        ['Admitted and active', String(q.active)], ['Admission rate', `${q.admit_per_minute} a minute${measured}`],
      ];
      showRates();
      queueTimer = setTimeout(loadQueue, QUEUE_MS);
    } catch {
      queueFacts = null;
    }
  };
  loadQueue();
  return () => {
    stops.forEach((stop) => stop());
    clearTimeout(reportTimer);
    clearTimeout(queueTimer);
    clearInterval(tick);
  };
}
