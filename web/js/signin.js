//! Sign-in (/app/signin): paste a bearer token from the platform's identity provider (or
//! `tv-token`), or, when the platform enables it, the demo sign-in that mints a short-lived
//! customer token for a name. The token is kept in this tab's sessionStorage only.

import { api } from './api.js';
import { config } from './config.js';
import { h, replace, notice } from './dom.js';
import { claimsOf, signIn, signOut, who } from './session.js';
import { navigate } from './nav.js';

const REASONS = {
  expired: 'Your sign-in has expired. Please sign in again.',
  invalid: 'Your sign-in was not accepted: the token is not valid. Please sign in again.',
  needed: 'Please sign in to go on.',
};

function goBack(query) {
  const back = query.get('back');
  const me = who();
  const home = me && me.roles.includes('operator') ? '/app/operator/' : me && me.roles.includes('scanner') ? '/app/scanner/' : '/app/';
  navigate(back && back.startsWith('/app/') && !back.startsWith('/app/signin') ? back : home);
}

export async function render(main, _params, query) {
  document.title = 'Sign in · TicketView';
  main.append(h('h1', {}, 'Sign in'));
  const reason = REASONS[query.get('reason')];
  if (reason) main.append(notice(reason, 'error'));
  const message = h('div', { class: 'messages', 'aria-live': 'assertive' });

  const me = who();
  if (me) {
    const out = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
    out.addEventListener('click', () => {
      signOut();
      navigate('/app/signin');
    });
    main.append(h('p', {}, `Signed in as ${me.subject} (${me.roles.join(', ') || 'no role'}).`), out);
  }

  const pasted = h('textarea', { id: 'token', rows: '4', autocomplete: 'off', spellcheck: 'false' });
  const form = h('form', { class: 'signin', 'aria-label': 'Sign in with a token' },
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'Token'), pasted,
      h('small', {}, 'A bearer token from your organisation’s sign-in; it stays in this tab only.')),
    h('button', { type: 'submit' }, 'Sign in with token'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const claims = claimsOf(pasted.value.trim());
    if (!claims) {
      replace(message, notice('That is not a token. Paste the whole token, three parts separated by dots.', 'error'));
      return;
    }
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
      replace(message, notice(REASONS.expired, 'error'));
      return;
    }
    signIn(pasted.value);
    goBack(query);
  });
  main.append(message, form);

  const settings = await config();
  if (!settings.demoSignin) return;
  const name = h('input', { id: 'demo-name', type: 'text', maxlength: '40', autocomplete: 'name' });
  const demo = h('form', { class: 'signin', 'aria-label': 'Demo sign-in' },
    h('h2', {}, 'Demo sign-in'),
    h('div', { class: 'field' }, h('label', { for: 'demo-name' }, 'Your name'), name,
      h('small', {}, 'Gives you a customer sign-in for 15 minutes on this demo platform.')),
    h('button', { type: 'submit' }, 'Sign in as a buyer'));
  demo.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await api('query', 'POST', '/signin/demo', { body: { name: name.value.trim() }, signedIn: false });
      signIn(answer.token);
      goBack(query);
    } catch (error) {
      replace(message, notice(error.message, 'error'));
    }
  });
  main.append(demo);
}
