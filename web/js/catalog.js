//! The catalog (/app/): published events with name, venue and date, each linking to its page.

import { api } from './api.js';
import { h, link, notice, when } from './dom.js';

const STATUS = { on_sale: 'On sale', closed: 'Sale closed', cancelled: 'Cancelled', draft: 'Draft' };

export async function render(main) {
  document.title = 'Events · TicketView';
  main.append(h('h1', {}, 'Events'));
  const events = await api('query', 'GET', '/events?limit=200', { signedIn: false });
  if (!events.length) {
    main.append(notice('No events are on sale yet.'));
    return;
  }
  const list = h('ul', { class: 'cards', 'aria-label': 'Events' });
  for (const event of events) {
    list.append(
      h(
        'li',
        { class: 'card' },
        h('h2', {}, link(`/app/events/${encodeURIComponent(event.event_id)}`, event.name)),
        h('p', {}, event.venue),
        h('p', {}, h('time', { datetime: event.starts_at }, when(event.starts_at))),
        h('p', { class: `status ${event.status}` }, STATUS[event.status] || event.status),
      ),
    );
  }
  main.append(list);
}
