// The adsmith web client: sign-in, navigation between the views, and the
// glue between them. Talks only to the documented /api/ routes.
import { call, getKey, setKey, dropKey, whenUnauthorized } from './api.js';
import { $, $$, say } from './dom.js';
import { initNewCampaign, loadMarkets } from './newcampaign.js';
import { renderCampaign } from './campaign.js';
import { initImages, loadGallery, queueImage, usePrompt } from './images.js';
import { initHistory, loadHistory } from './history.js';

const VIEWS = ['signin', 'new', 'campaign', 'images', 'history'];
let current = null;   // the campaign on show

function show(view) {
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  for (const a of $$('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const heading = $(`#view-${view} h2`);
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function route() {
  if (!getKey()) {
    $('#nav').hidden = true;
    show('signin');
    return;
  }
  $('#nav').hidden = false;
  const view = location.hash.replace('#', '') || 'new';
  if (view === 'campaign' && current) {
    show('campaign');
  } else if (view === 'images') {
    show('images');
    loadGallery();
  } else if (view === 'history') {
    show('history');
    loadHistory(openCampaign);
  } else {
    show('new');
    loadMarkets();
  }
}

function markets() {
  return Array.from($('#f-markets').selectedOptions).map((o) => o.value);
}

function openCampaign(res) {
  current = res;
  renderCampaign($('#campaign-body'), res, {
    markets: markets().length ? markets() : Array.from($('#f-markets').options).map((o) => o.value),
    onPrompt: (text) => {
      usePrompt(text);
      location.hash = '#images';
      say('The prompt is in the image form: pick a style and ratio, then Generate image.');
    },
  });
  if (location.hash === '#campaign') show('campaign');
  else location.hash = '#campaign';
}

async function signIn(e) {
  e.preventDefault();
  const input = $('#apikey');
  const err = $('#apikey-error');
  const key = input.value.trim();
  err.textContent = '';
  input.removeAttribute('aria-invalid');
  if (!key) {
    err.textContent = 'Enter your API key';
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  // Probe an authenticated route: the markets list needs a valid key.
  const r = await call('GET', '/api/markets', undefined, key);
  if (r.status === 401) {
    err.textContent = 'This API key is not valid (unknown or revoked).';
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  if (r.status !== 200) {
    err.textContent = `The server answered ${r.status}: ${r.data.error || 'try again'}`;
    return;
  }
  setKey(key);
  input.value = '';
  say('Signed in.');
  location.hash = '#new';
  route();
}

function signOut() {
  dropKey();
  current = null;
  say('Signed out.');
  location.hash = '';
  route();
}

document.addEventListener('DOMContentLoaded', () => {
  $('#signin-form').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', signOut);
  whenUnauthorized(() => {
    dropKey();
    say('Your API key is no longer accepted: sign in again.');
    route();
  });
  initNewCampaign(openCampaign);
  initImages();
  initHistory(openCampaign);
  window.addEventListener('hashchange', route);
  route();
});

export { queueImage };
