// The API client: every call carries the key as a Bearer token; answers are
// {status, data} with data the parsed JSON body (or {} when none).

const KEY = 'adsmith.apiKey';

export function getKey() { return sessionStorage.getItem(KEY) || ''; }
export function setKey(k) { sessionStorage.setItem(KEY, k); }
export function dropKey() { sessionStorage.removeItem(KEY); }

export class ApiError extends Error {
  constructor(status, data) {
    super((data && data.error) || `HTTP ${status}`);
    this.status = status;
    this.data = data || {};
    this.code = this.data.code || '';
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export async function call(method, path, body, key = getKey()) {
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { error: 'The server could not be reached', code: 'network' });
  }
  let data = {};
  try { data = await res.json(); } catch { data = {}; }
  return { status: res.status, data };
}

// Like call, but anything other than 2xx throws an ApiError (401 also
// signs the user out).
export async function must(method, path, body) {
  const r = await call(method, path, body);
  if (r.status === 401) onUnauthorized();
  if (r.status < 200 || r.status > 299) throw new ApiError(r.status, r.data);
  return r.data;
}

// A route the server does not have answers the router's 404 (no
// correlation_id) or 405; a 404 for a missing thing carries one.
export function isMissingRoute(r) {
  return r.status === 405 || (r.status === 404 && !('correlation_id' in r.data) && !('product_id' in r.data));
}

// PUT to a presigned URL with upload progress (fetch cannot report it).
export function putFile(url, file, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new ApiError(xhr.status, { error: `Upload failed (HTTP ${xhr.status})`, code: 'upload_failed' }));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, { error: 'Upload failed: network error', code: 'network' })));
    xhr.send(file);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
