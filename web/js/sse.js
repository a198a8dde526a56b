//! Following a Server-Sent Events stream with fetch (so a bearer token can go in a header), and
//! coming back after a drop: the reconnect sends `Last-Event-ID` with the last position seen, and
//! a message whose position is not newer than the last one applied is skipped, so nothing counts
//! twice. Positions are `<STREAM>:<sequence>`; only the sequence is compared.

import { config } from './config.js';
import { token } from './session.js';

/** Longer than the services' 15 s keep-alive comment, with room for a slow network. */
const SILENCE_MS = 40000;

function sequenceOf(position) {
  const at = String(position || '').lastIndexOf(':');
  const n = Number(String(position).slice(at + 1));
  return Number.isFinite(n) ? n : null;
}

/**
 * Follows `service` + `path`. `onMessage(event, data, id)` gets each message (data parsed as
 * JSON), `onState('live' | 'reconnecting')` the connection's state. Returns `stop()`.
 * Options: signedIn (send the token), after (a position to start from).
 */
export function follow(service, path, onMessage, { onState = () => {}, signedIn = false, after = null } = {}) {
  let lastId = after;
  let lastSequence = sequenceOf(after);
  let stopped = false;
  let controller = null;
  let failures = 0;

  const accept = (event, data, id) => {
    const sequence = sequenceOf(id);
    if (sequence !== null && lastSequence !== null && sequence <= lastSequence && event !== 'seat_map') return;
    if (id) {
      lastId = id;
      if (sequence !== null) lastSequence = sequence;
    }
    let parsed = null;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    onMessage(event, parsed, id);
  };

  const run = async () => {
    const urls = await config();
    while (!stopped) {
      controller = new AbortController();
      const headers = { Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const bearer = signedIn ? token() : null;
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      let retryAfter = 0;
      try {
        const answer = await fetch(urls[service] + path, { headers, signal: controller.signal, cache: 'no-store' });
        if (!answer.ok || !answer.body) {
          retryAfter = Number(answer.headers.get('Retry-After')) || 0;
          throw new Error(`stream answered ${answer.status}`);
        }
        onState('live');
        failures = 0;
        await readEvents(answer.body, accept, () => controller.abort());
      } catch (error) {
        if (stopped) return;
      }
      if (stopped) return;
      failures += 1;
      onState('reconnecting');
      const wait = Math.max(retryAfter * 1000, Math.min(10000, 250 * 2 ** Math.min(failures, 6)));
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  run();
  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}

/**
 * Reads `text/event-stream` from a body, calling `accept(event, data, id)` per message. The
 * services send a comment at least every 15 s; a stream silent for longer than SILENCE_MS is
 * taken as dropped (`drop()`), so a connection that died without closing is opened again.
 */
async function readEvents(body, accept, drop) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = 'message';
  let data = [];
  let id = null;
  let watchdog = null;
  const listen = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(drop, SILENCE_MS);
  };
  for (;;) {
    listen();
    let chunk;
    try {
      chunk = await reader.read();
    } finally {
      clearTimeout(watchdog);
    }
    const { value, done } = chunk;
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length) accept(event, data.join('\n'), id);
        event = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') event = text;
      else if (name === 'data') data.push(text);
      else if (name === 'id') id = text;
    }
  }
}
