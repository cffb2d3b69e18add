// History: the user's campaigns, newest first, each reopenable. Hidden
// with a note where the server has no campaign list.
import { call, must, isMissingRoute } from './api.js';
import { $, h, clear } from './dom.js';

let cursor = null;

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export async function loadHistory(open, reset = true) {
  const ul = $('#history-list');
  const note = $('#history-note');
  const more = $('#history-more');
  if (reset) { clear(ul); cursor = null; }
  const r = await call('GET', `/api/campaigns?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  if (isMissingRoute(r)) {
    ul.hidden = true;
    more.hidden = true;
    note.textContent = 'History is not available on this server (it has no campaign list). Campaigns made in this tab stay open until you leave it.';
    return false;
  }
  if (r.status !== 200) {
    note.textContent = `History could not be loaded: ${r.data.error || `HTTP ${r.status}`}`;
    return false;
  }
  ul.hidden = false;
  for (const it of r.data.campaigns || []) {
    const id = it.product_id || it.productId;
    const label = it.product_name || id;
    ul.append(h('li', { class: `card item ${it.status || ''}` },
      h('p', {}, h('strong', {}, label)),
      h('p', { class: 'help' }, [it.status, it.generation_method, when(it.created_at)].filter(Boolean).join(' · ')),
      it.status === 'failed' && it.code ? h('p', { class: 'error' }, `Failed: ${it.code}`) : null,
      h('button', { type: 'button', class: 'small', disabled: it.status && it.status !== 'completed' ? true : null,
        'aria-label': `Open ${label}`, onclick: () => reopen(id, open).catch((err) => { note.textContent = `The campaign could not be opened: ${err.message}`; }) }, 'Open')));
  }
  cursor = r.data.next_cursor || null;
  more.hidden = !cursor;
  note.textContent = ul.children.length ? '' : 'No campaigns yet.';
  return true;
}

async function reopen(id, open) {
  const data = await must('GET', `/api/campaigns/${encodeURIComponent(id)}`);
  open({ product_id: id, ...data });
}

export function initHistory(open) {
  $('#history-more').addEventListener('click', () => loadHistory(open, false));
}
