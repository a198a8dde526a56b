//! Building page elements without HTML strings: every piece of text, and every name an organiser
//! typed, goes in through textContent or an attribute, so nothing a user wrote is parsed as markup.

/**
 * Creates an element. `attrs` may hold attributes, `on<event>` handlers, `class`, `text`, and
 * `dataset`; children are nodes, strings (as text) or null (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link inside the app, followed by the client-side router. */
export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

/** A labelled form field: returns {field (the wrapper), input}. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, label), input);
  if (hint) wrapper.append(h('small', {}, hint));
  return { field: wrapper, input };
}

/** A short message block; `kind` is info, error or ok. */
export function notice(text, kind = 'info') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** A date and time in the reader's locale. */
export function when(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** Hours and minutes (24 h), as a gate shows them. */
export function clock(iso) {
  return new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
}
