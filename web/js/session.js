//! The signed-in person: the bearer token lives in this tab's sessionStorage and nowhere else
//! (no cookie, no localStorage), so closing the tab signs out. The token's claims are read only to
//! show who is signed in and to send the customer id; the services verify the signature.

const TOKEN_KEY = 'tv.token';

/** The claims of a JWT (not verified here), or null when it is not one. */
export function claimsOf(token) {
  const parts = String(token || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(newToken) {
  sessionStorage.setItem(TOKEN_KEY, newToken.trim());
}

/** Forgets the token and everything this tab kept for it. */
export function signOut() {
  sessionStorage.clear();
}

/** {subject, roles, expiresAt} of the current token, or null. */
export function who() {
  const claims = claimsOf(token());
  if (!claims) return null;
  return {
    subject: String(claims.sub || ''),
    roles: Array.isArray(claims.roles) ? claims.roles : [],
    expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : null,
  };
}

/** True when the token's own expiry has passed (the services would refuse it). */
export function expired() {
  const me = who();
  return Boolean(me && me.expiresAt && me.expiresAt.getTime() <= Date.now());
}

export function hasRole(role) {
  const me = who();
  return Boolean(me && me.roles.includes(role));
}

/** A value this tab keeps for the session (JSON), e.g. the holds it created. */
export function remember(key, value) {
  sessionStorage.setItem(`tv.${key}`, JSON.stringify(value));
}

export function recall(key, fallback = null) {
  const raw = sessionStorage.getItem(`tv.${key}`);
  if (raw === null) return fallback;
  try {
    return JSON.parse(raw);
  } catch {
    return fallback;
  }
}
