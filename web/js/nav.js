//! Moving between pages without reloading: push the path, then the router (main.js) renders it.

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event('tv:navigate'));
}

/** Sends the reader to sign-in, saying why (`expired`, `invalid` or `needed`), then back here. */
export function toSignin(reason) {
  const back = location.pathname + location.search;
  const query = new URLSearchParams({ reason, back });
  navigate(`/app/signin?${query}`, { replace: true });
}
