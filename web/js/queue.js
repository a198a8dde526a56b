//! The waiting room view on an event's page: join the queue, then see your place, the people
//! ahead and the estimated wait, pushed by the waiting room's stream (polled at its `poll_after_ms`
//! while the stream is down). Once admitted, the admission token is kept in this tab for the holds
//! (sent as the `Admission` header) and the seats are shown at once.

import { api, ApiError } from './api.js';
import { h, replace, notice, when } from './dom.js';
import { follow } from './sse.js';
import { who, remember, recall } from './session.js';

/** The admission this tab holds for `eventId`, while it is live: {token, until} or null. */
export function admission(eventId) {
  const kept = recall(`admission.${eventId}`);
  if (!kept || !kept.token) return null;
  if (kept.until && new Date(kept.until).getTime() <= Date.now()) return null;
  return kept;
}

export function forgetAdmission(eventId) {
  remember(`admission.${eventId}`, null);
}

function waitText(seconds) {
  if (seconds === null || seconds === undefined) return 'not known yet';
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

/**
 * Renders the queue for `eventId` into a new element; calls `onAdmitted()` once admitted.
 * `room` is the waiting room's public answer. Returns {element, stop}.
 */
export function queuePanel(eventId, room, onAdmitted) {
  const status = h('div', { class: 'queue-status', role: 'status', 'aria-live': 'polite' });
  const element = h('section', { class: 'queue', 'aria-labelledby': 'queue-title' }, h('h2', { id: 'queue-title' }, 'Waiting room'), status);
  let stop = () => {};
  let poll = null;
  let done = false;

  const show = (place) => {
    if (done) return;
    if (place.state === 'admitted' && place.admission_token) {
      done = true;
      remember(`admission.${eventId}`, { token: place.admission_token, until: place.admitted_until });
      replace(status, notice('It is your turn: pick your seats now.', 'ok'));
      stop();
      onAdmitted();
      return;
    }
    const lines = {
      prequeue: ['You are in the queue. When the sale opens, everyone in it gets a place in random order.'],
      waiting: [
        `Your place in line: ${place.position}`,
        `People ahead of you: ${place.ahead}`,
        `Estimated wait: ${waitText(place.estimated_wait_seconds)}`,
      ],
      expired: ['Your turn ran out. Join the queue again to get a new place.'],
      left: ['You left the queue.'],
    }[place.state] || [`Queue: ${place.state}`];
    replace(status, ...lines.map((line) => h('p', {}, line)));
    if (place.state === 'expired' || place.state === 'left') {
      stop();
      element.append(joinButton());
    }
  };

  const watch = (first) => {
    show(first);
    if (done) return;
    let wait = first.poll_after_ms || 1000;
    const pollOnce = async () => {
      try {
        const place = await api('waitingRoom', 'GET', `/events/${eventId}/queue/me`);
        wait = place.poll_after_ms || wait;
        show(place);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return;
      }
      if (!done) poll = setTimeout(pollOnce, wait);
    };
    const streamStop = follow('waitingRoom', `/events/${eventId}/queue/me/stream`, (event, place) => {
      if (event === 'queue') show(place);
    }, {
      signedIn: true,
      onState: (state) => {
        clearTimeout(poll);
        if (state === 'reconnecting' && !done) poll = setTimeout(pollOnce, wait);
      },
    });
    stop = () => {
      streamStop();
      clearTimeout(poll);
    };
  };

  const joinButton = () => {
    const button = h('button', { type: 'button' }, 'Join the queue');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const place = await api('waitingRoom', 'POST', `/events/${eventId}/queue`, { body: {} });
        button.remove();
        watch(place);
      } catch (error) {
        button.disabled = false;
        replace(status, notice(error.message, 'error'));
      }
    });
    return button;
  };

  const start = async () => {
    if (room.state === 'closed') {
      replace(status, h('p', {}, 'The queue is not open. '), room.opens_at ? h('p', {}, `It opens ${when(room.opens_at)}.`) : null);
    } else {
      replace(status, h('p', {}, `This sale runs through a waiting room: ${room.waiting} waiting now.`));
    }
    if (!who()) {
      element.append(h('p', {}, h('a', { href: `/app/signin?reason=needed&back=${encodeURIComponent(location.pathname)}` }, 'Sign in to join the queue')));
      return;
    }
    try {
      const place = await api('waitingRoom', 'GET', `/events/${eventId}/queue/me`);
      if (place.state !== 'left' && place.state !== 'expired') {
        watch(place);
        return;
      }
    } catch {
      // not in the queue yet
    }
    if (room.state !== 'closed') element.append(joinButton());
  };
  start();
  return { element, stop: () => stop() };
}
