// Images: queue jobs (from a campaign's prompts or a free prompt), watch
// them fill in, retry failures, and page through the user's gallery.
import { call, must, sleep, ApiError } from './api.js';
import { $, h, clear, localUrl, say } from './dom.js';
import { validate, showApiError, clearErrors } from './form.js';

const tiles = new Map();   // request_id -> tile element
let galleryCursor = null;

function fileName(job) {
  const base = (job.s3_key || '').split('/').pop();
  return base || `${job.request_id}.png`;
}

function fillTile(li, job, retry) {
  clear(li);
  li.className = `tile ${job.status}`;
  li.dataset.status = job.status;
  const caption = h('p', { class: 'prompt' }, job.prompt || '');
  const meta = h('p', { class: 'help' }, `${job.style || ''} · ${job.aspect_ratio || ''}`);
  if (job.status === 'completed') {
    const url = localUrl(job.s3_url);
    li.append(h('img', { src: url, alt: `Generated image: ${job.prompt || ''}`, loading: 'lazy' }), caption, meta,
      h('a', { href: url, download: fileName(job), class: 'button small' }, 'Download'));
  } else if (job.status === 'failed') {
    li.append(h('p', { class: 'error' }, `Failed: ${job.error || 'no reason given'}`), caption, meta,
      retry ? h('button', { type: 'button', class: 'small', onclick: retry }, 'Retry') : null);
  } else {
    li.append(h('div', { class: 'placeholder' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, 'Generating…')), caption, meta);
  }
}

// Polls one job with growing pauses until it is completed or failed.
async function watch(id, li, retry) {
  let delay = 500;
  for (let i = 0; i < 200; i++) {
    await sleep(delay);
    const r = await call('GET', `/api/assets/${encodeURIComponent(id)}`);
    if (r.status === 200) {
      fillTile(li, r.data, retry);
      if (r.data.status !== 'pending') return r.data;
    } else if (r.status === 429) {
      delay = Math.max(delay, 5000);
    } else if (r.status !== 503 && r.status !== 502) {
      fillTile(li, { request_id: id, status: 'failed', error: r.data.error || `HTTP ${r.status}` }, retry);
      return null;
    }
    delay = Math.min(delay * 1.6, 8000);
  }
  return null;
}

export async function queueImage(prompt, style, ratio) {
  const body = { prompt, style, aspect_ratio: ratio, request_id: crypto.randomUUID() };
  const li = h('li', { class: 'tile pending' });
  const retry = () => {
    li.remove();
    queueImage(prompt, style, ratio).catch((err) => say(`The image could not be queued: ${err.message}`));
  };
  fillTile(li, { ...body, status: 'pending' }, retry);
  $('#jobs').prepend(li);
  tiles.set(body.request_id, li);
  try {
    await must('POST', '/api/assets', body);
  } catch (err) {
    fillTile(li, { ...body, status: 'failed', error: err.message }, retry);
    throw err;
  }
  say('Image queued.');
  watch(body.request_id, li, retry);
  return body.request_id;
}

export async function loadGallery(reset = true) {
  const ul = $('#gallery');
  const more = $('#gallery-more');
  if (reset) { clear(ul); galleryCursor = null; }
  const q = `/api/assets?limit=12${galleryCursor ? `&cursor=${encodeURIComponent(galleryCursor)}` : ''}`;
  try {
    const data = await must('GET', q);
    for (const job of data.items || []) {
      const li = h('li', {});
      fillTile(li, job, null);
      ul.append(li);
    }
    galleryCursor = data.next_cursor || null;
    more.hidden = !galleryCursor;
    $('#gallery-note').textContent = ul.children.length ? '' : 'No images yet.';
  } catch (err) {
    $('#gallery-note').textContent = `The gallery could not be loaded: ${err.message}`;
    more.hidden = true;
  }
}

export function initImages() {
  const f = $('#image-form');
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!validate(f)) return;
    try {
      await queueImage($('#i-prompt').value.trim(), $('#i-style').value, $('#i-ratio').value);
      clearErrors(f);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) showApiError(f, err.message, 'image-form');
      else showApiError(f, err.message, 'image-form');
    }
  });
  $('#gallery-more').addEventListener('click', () => loadGallery(false));
}

// Fills the image form with a campaign prompt (cut to the API's 1000).
export function usePrompt(text) {
  $('#i-prompt').value = [...text].slice(0, 1000).join('');
}
