// The admin API client (docs/dashboard.md). The session cookie is HttpOnly
// and travels by itself; the CSRF token from the session lives only in this
// module's memory and goes into X-CSRF-Token on every call that changes
// something. The admin token itself is sent once, to POST /session, and
// never kept.

export const API = '/_fn0/api/v1';

let csrf = null;
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrf = token || null;
}

// Called on any 401 from a call made with the session: the session is over.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// An error answer, with the node's {error, message, request_id} when it sent one.
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const message =
      (body && body.message) ||
      (status === 0 ? 'The node did not answer. Is it running?' : `The node answered ${status}.`);
    super(message);
    this.status = status;
    this.code = (body && body.error) || (status === 0 ? 'unreachable' : 'http-' + status);
    this.requestId = (body && body.request_id) || null;
    this.retryAfter = retryAfter;
    this.details = body || {};
  }
}

function parseBody(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

function retryAfterOf(header) {
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function isWrite(method) {
  return method !== 'GET' && method !== 'HEAD';
}

export function fnPath(name, ...rest) {
  return ['/functions', encodeURIComponent(name), ...rest.map((r) => encodeURIComponent(r))].join('/');
}

// request('GET', '/status') -> parsed JSON, or throws ApiError.
// `expectAuth: false` for the login call itself, whose 401 means "wrong
// token", not "session over".
export async function request(method, path, { body, signal, expectAuth = true } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (isWrite(method) && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(API + path, { method, headers, body: payload, signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null, null);
  }
  const text = await res.text();
  const data = parseBody(text);
  if (!res.ok) {
    const err = new ApiError(res.status, data, retryAfterOf(res.headers.get('Retry-After')));
    if (res.status === 401 && expectAuth) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => request('GET', path, opts);
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

// Deploys `file` (a .wasm) as a new version of `name`. XMLHttpRequest, not
// fetch, because only it reports upload progress. onProgress(sent, total)
// runs while the body goes out; onUploaded() once it is all sent (the node
// then compiles before it answers). Returns {promise, abort}.
export function uploadVersion(name, file, { onProgress, onUploaded } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', `${API}${fnPath(name, 'versions')}`);
    xhr.setRequestHeader('Content-Type', 'application/wasm');
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.upload.onload = () => onUploaded && onUploaded();
    xhr.onload = () => {
      const data = parseBody(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const err = new ApiError(xhr.status, data, retryAfterOf(xhr.getResponseHeader('Retry-After')));
      if (xhr.status === 401) onUnauthorized(err);
      reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, null, null));
    xhr.onabort = () => reject(Object.assign(new Error('Upload cancelled.'), { name: 'AbortError' }));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
