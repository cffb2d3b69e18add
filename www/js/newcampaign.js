// The new-campaign form: photo checked and uploaded through a presigned URL,
// the brief checked like the API checks it, then the asynchronous campaign
// route (live status), or the synchronous tier-1 route where the server has
// no asynchronous one.
import { call, must, putFile, isMissingRoute, sleep, ApiError } from './api.js';
import { $, h, clear, say } from './dom.js';
import { validate, clearErrors, showError, showApiError, lines } from './form.js';

const TYPES = ['image/jpeg', 'image/jpg', 'image/png', 'image/webp'];
const MAX_BYTES = 10485760;
const PLATFORMS = ['Instagram', 'TikTok', 'YouTube', 'Facebook', 'Pinterest', 'LinkedIn', 'X'];

let photo = null;        // the File chosen
let upload = null;       // {s3_bucket, s3_key, upload_id, file} once uploaded
let previewUrl = '';
let marketsLoaded = false;

export const photos = new Map();   // product_id -> blob URL of its photo (this tab)

function form() { return $('#campaign-form'); }

function setProgress(text) {
  const p = $('#progress');
  p.hidden = !text;
  $('#progress-text').textContent = text || '';
}

function checkPhoto(file) {
  if (!TYPES.includes(file.type)) return `${file.name}: only JPEG, PNG or WebP photos (this is ${file.type || 'an unknown type'})`;
  if (file.size > MAX_BYTES) return `${file.name}: ${(file.size / 1048576).toFixed(1)} MiB is over the 10 MiB limit`;
  if (file.size === 0) return `${file.name} is empty`;
  return '';
}

function pickPhoto(file) {
  const f = form();
  showError(f, 'photo', '');
  $('#photo').removeAttribute('aria-invalid');
  const msg = checkPhoto(file);
  if (msg) {
    showError(f, 'photo', msg);
    $('#photo').setAttribute('aria-invalid', 'true');
    return;
  }
  photo = file;
  upload = null;
  // A photo shown with a campaign of this tab stays; others are let go.
  if (previewUrl && !Array.from(photos.values()).includes(previewUrl)) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  const img = $('#photo-preview');
  img.src = previewUrl;
  img.alt = `Preview of ${file.name}`;
  img.hidden = false;
  $('#photo-name').textContent = `${file.name}, ${Math.ceil(file.size / 1024)} KiB`;
  $('#upload-progress').hidden = true;
}

async function uploadPhoto() {
  if (upload && upload.file === photo) return upload;
  const pre = await must('POST', '/api/upload/presigned-url', {
    file_name: photo.name.slice(0, 255) || 'photo', file_type: photo.type, file_size: photo.size,
  });
  const bar = $('#upload-progress');
  bar.hidden = false;
  bar.value = 0;
  setProgress('Uploading the photo…');
  await putFile(pre.upload_url, photo, pre.required_headers, (pct) => { bar.value = pct; });
  bar.value = 100;
  upload = { s3_bucket: pre.s3_bucket, s3_key: pre.s3_key, upload_id: pre.upload_id, file: photo };
  return upload;
}

function brief(up) {
  const v = (id) => $(id).value.trim();
  const opt = (o, k, val) => { if (val !== '' && !(Array.isArray(val) && val.length === 0)) o[k] = val; };
  const product = { name: v('#f-name'), description: v('#f-description'), category: v('#f-category') };
  opt(product, 'price', v('#f-price'));
  opt(product, 'key_features', lines($('#f-features').value));
  const objectives = {
    target_audience: v('#f-audience'), campaign_duration: v('#f-duration'), primary_goal: v('#f-goal'),
  };
  opt(objectives, 'budget', v('#f-budget'));
  opt(objectives, 'target_age_range', v('#f-age'));
  opt(objectives, 'income_level', v('#f-income'));
  opt(objectives, 'geographic_focus', v('#f-geo'));
  opt(objectives, 'platform_preferences', Array.from(form().querySelectorAll('#f-platforms input:checked')).map((c) => c.value));
  opt(objectives, 'secondary_goals', lines($('#f-secondary').value));
  return {
    product_info: product,
    s3_info: { bucket: up.s3_bucket, key: up.s3_key },
    target_markets: { markets: Array.from($('#f-markets').selectedOptions).map((o) => o.value) },
    campaign_objectives: objectives,
  };
}

const STATUS_TEXT = {
  pending: 'Queued: waiting for a worker…',
  running: 'Generating the campaign…',
};

// Polls GET /api/campaigns/{id} until it completes or fails.
async function waitFor(statusUrl) {
  let delay = 700;
  const started = Date.now();
  for (;;) {
    const r = await call('GET', statusUrl);
    if (r.status === 429 || r.status === 502 || r.status === 503) {
      // Busy or briefly unavailable: the campaign goes on server-side.
      await sleep(Math.max(delay, 5000));
      continue;
    }
    if (r.status !== 200) throw new ApiError(r.status, r.data);
    const st = r.data.status;
    if (st === 'completed') return r.data;
    if (st === 'failed') throw new ApiError(200, { error: r.data.error || 'The campaign failed', code: r.data.code || 'failed' });
    const secs = Math.round((Date.now() - started) / 1000);
    setProgress(`${STATUS_TEXT[st] || `Status: ${st}`} (${secs} s)`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 4000);
  }
}

async function submitCampaign(body) {
  setProgress('Submitting the brief…');
  const r = await call('POST', '/api/campaigns', body);
  if (r.status === 202 || (r.status === 200 && r.data.status_url)) {
    const url = r.data.status_url || `/api/campaigns/${encodeURIComponent(r.data.product_id)}`;
    setProgress(STATUS_TEXT.pending);
    const done = await waitFor(new URL(url, location.href).pathname);
    return { product_id: r.data.product_id, ...done };
  }
  if (!isMissingRoute(r)) throw new ApiError(r.status, r.data);
  // No asynchronous route on this server: the synchronous one answers
  // within its 60 s deadline.
  setProgress('Generating the campaign (this can take up to a minute)…');
  return must('POST', '/api/campaign/tier-1', body);
}

async function onSubmit(e, show) {
  e.preventDefault();
  const f = form();
  const okFields = validate(f);
  if (!photo) {
    showError(f, 'photo', 'Choose a product photo first');
    if (okFields) $('#photo').focus();
    return;
  }
  if (!okFields) return;
  const btn = $('#submit');
  btn.disabled = true;
  try {
    const up = await uploadPhoto();
    const res = await submitCampaign(brief(up));
    if (previewUrl && res.product_id) photos.set(res.product_id, previewUrl);
    setProgress('');
    say('Campaign ready.');
    show(res);
  } catch (err) {
    setProgress('');
    const msg = err instanceof ApiError ? err.message : String(err);
    if (err instanceof ApiError && err.status === 400 && err.code === 'invalid_request') {
      showApiError(f, msg);
    } else if (err instanceof ApiError && err.code === 'upload_failed') {
      showError(f, 'photo', msg);
    } else {
      showError(f, 'form', `${msg}${err.code ? ` (${err.code})` : ''}`);
    }
    say('The campaign was not created.');
  } finally {
    btn.disabled = false;
  }
}

export async function loadMarkets() {
  if (marketsLoaded) return;
  const sel = $('#f-markets');
  try {
    const data = await must('GET', '/api/markets');
    clear(sel);
    const groups = new Map();
    for (const m of data.markets || []) {
      const region = m.region || 'Other';
      if (!groups.has(region)) groups.set(region, h('optgroup', { label: region }));
      groups.get(region).append(h('option', { value: m.name }, m.name));
    }
    for (const g of groups.values()) sel.append(g);
    marketsLoaded = true;
  } catch (err) {
    showError(form(), 'target_markets.markets', `Markets could not be loaded: ${err.message}`);
  }
}

export function initNewCampaign(show) {
  const f = form();
  const checks = $('#f-platforms');
  for (const p of PLATFORMS) {
    const id = `plat-${p.toLowerCase()}`;
    checks.append(h('span', { class: 'check' }, h('input', { type: 'checkbox', id, value: p }), h('label', { for: id }, p)));
  }
  $('#photo').addEventListener('change', (e) => { if (e.target.files[0]) pickPhoto(e.target.files[0]); });
  const dz = $('#dropzone');
  dz.addEventListener('dragover', (e) => { e.preventDefault(); dz.classList.add('over'); });
  dz.addEventListener('dragleave', () => dz.classList.remove('over'));
  dz.addEventListener('drop', (e) => {
    e.preventDefault();
    dz.classList.remove('over');
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) pickPhoto(file);
  });
  f.addEventListener('submit', (e) => onSubmit(e, show));
  f.addEventListener('input', (e) => {
    const field = e.target.dataset && e.target.dataset.field;
    if (field) { showError(f, field, ''); e.target.removeAttribute('aria-invalid'); }
  });
  clearErrors(f);
}
