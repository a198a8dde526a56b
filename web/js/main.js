//! The single-page entry: matches the path under /app/ to a page module, loads it on demand and
//! lets it render into <main>. Links inside /app/ are followed without a reload; a page may return
//! a cleanup function (to close its streams and timers) that runs when the reader leaves it.

import { replace, notice } from './dom.js';
import { who } from './session.js';

const ROUTES = [
  [/^\/app\/?$/, () => import('./catalog.js')],
  [/^\/app\/events\/([^/]+)\/?$/, () => import('./event.js')],
  [/^\/app\/holds\/([^/]+)\/?$/, () => import('./hold.js')],
  [/^\/app\/orders\/([^/]+)\/?$/, () => import('./order.js')],
  [/^\/app\/me\/?$/, () => import('./me.js')],
  [/^\/app\/signin\/?$/, () => import('./signin.js')],
  [/^\/app\/operator\/?$/, () => import('./operator-list.js')],
  [/^\/app\/operator\/events\/([^/]+)\/?$/, () => import('./operator-event.js')],
  [/^\/app\/scanner\/?$/, () => import('./scanner.js')],
];

let cleanup = null;
let generation = 0;

function showWho() {
  const linkEl = document.getElementById('signin-link');
  if (!linkEl) return;
  const me = who();
  linkEl.textContent = me ? `Signed in: ${me.subject}` : 'Sign in';
}

async function render() {
  const mine = ++generation;
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  showWho();
  const main = document.getElementById('main');
  const path = location.pathname;
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) {
    document.title = 'Not found · TicketView';
    replace(main, notice('There is no page here.', 'error'));
    return;
  }
  const params = path.match(route[0]).slice(1).map(decodeURIComponent);
  const page = await route[1]();
  if (mine !== generation) return;
  replace(main);
  const query = new URLSearchParams(location.search);
  try {
    cleanup = await page.render(main, params, query);
  } catch (error) {
    if (mine !== generation) return;
    main.append(notice(error.message || 'Something went wrong.', 'error'));
  }
}

document.addEventListener('click', (event) => {
  const anchor = event.target.closest && event.target.closest('a[href]');
  if (!anchor || event.defaultPrevented || event.button !== 0) return;
  if (anchor.getAttribute('href').startsWith('#')) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || anchor.target) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/app/') || url.pathname.endsWith('.json')) return;
  event.preventDefault();
  history.pushState(null, '', url.pathname + url.search);
  render();
});

window.addEventListener('popstate', render);
window.addEventListener('tv:navigate', render);
render();
