// Small DOM helpers: elements are built with textContent only, so text
// from the API is never parsed as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function say(msg) {
  $('#status').textContent = msg || '';
}

// Saves text as a file through a Blob URL (nothing leaves the browser).
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A "Copy" button for the text its getter returns.
export function copyButton(label, getText) {
  const b = h('button', { type: 'button', class: 'small', 'aria-label': label }, 'Copy');
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Copy blocked: select the text';
    }
    setTimeout(() => { b.textContent = 'Copy'; }, 2000);
  });
  return b;
}

// Same-origin path for URLs into this server's object store, so the page's
// Content-Security-Policy ('self') admits them whatever host name was used.
export function localUrl(url) {
  try {
    const u = new URL(url, location.href);
    if (u.pathname.startsWith('/objects/')) return u.pathname + u.search;
    return u.href;
  } catch {
    return '';
  }
}

export function asList(v) {
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null || v === '') return [];
  return [v];
}

// Renders a value that may be text, a list or an object as readable text.
export function asText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(asText).join('; ');
  return Object.entries(v).map(([k, x]) => `${k}: ${asText(x)}`).join('; ');
}
