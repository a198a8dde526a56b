//! The one way pages talk to the services: JSON in and out, the bearer token from this tab's
//! session, `Idempotency-Key` and `Admission` headers when asked for, and the APIs' error codes
//! turned into words. `429` and `503` answers with Retry-After are retried after a visible
//! "busy, retrying in N s" with growing back-off; a refused token sends the reader to sign-in.

import { config } from './config.js';
import { token, signOut, expired } from './session.js';
import { toSignin } from './nav.js';
import { words } from './words.js';
import { waitBusy } from './busy.js';

/** A refusal or failure, with the API's stable `code` and a sentence for people. */
export class ApiError extends Error {
  constructor(status, code, message, detail = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const RETRIED = new Set(['rate_limited', 'not_caught_up', 'too_many_streams', 'read_model_unavailable', 'timeout']);
const MAX_ATTEMPTS = 6;

/** A fresh key for one intended action (kept by the caller to retry the same action). */
export function newKey() {
  return crypto.randomUUID();
}

/**
 * Calls `service` ('command', 'query' or 'waitingRoom'). Options: body, idempotencyKey,
 * admission, after (a command's position), signedIn (default true: send the token if any).
 */
export async function api(service, method, path, options = {}) {
  const { body, idempotencyKey, admission, after, signedIn = true } = options;
  const urls = await config();
  let url = urls[service] + path;
  if (after) url += (url.includes('?') ? '&' : '?') + `after=${encodeURIComponent(after)}`;
  const headers = { Accept: 'application/json' };
  const bearer = signedIn ? token() : null;
  if (bearer) {
    if (expired()) {
      signOut();
      toSignin('expired');
      throw new ApiError(401, 'unauthenticated', 'Your sign-in has expired. Please sign in again.');
    }
    headers.Authorization = `Bearer ${bearer}`;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (admission) headers.Admission = admission;

  for (let attempt = 1; ; attempt += 1) {
    let answer;
    try {
      answer = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'unreachable', 'The service cannot be reached. Check your connection and try again.');
    }
    const text = await answer.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (answer.ok) return json;
    const error = (json && json.error) || {};
    const code = error.code || `http_${answer.status}`;
    const retryAfter = Number(answer.headers.get('Retry-After'));
    if ((answer.status === 429 || (answer.status === 503 && RETRIED.has(code))) && attempt < MAX_ATTEMPTS) {
      const backoff = Math.min(30, Math.max(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1, 2 ** (attempt - 1)));
      await waitBusy(backoff);
      continue;
    }
    if (answer.status === 401 && bearer) {
      const reason = expired() ? 'expired' : 'invalid';
      signOut();
      toSignin(reason);
    }
    throw new ApiError(answer.status, code, words(code, error.message), error);
  }
}
