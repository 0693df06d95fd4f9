// Who is logged in, shared by every page: a tiny store with subscribers.
// Holds the session answer (role, subject, expiry, methods) and gives its
// CSRF token to the API client; the token never reaches any storage.
import { useEffect, useState } from 'preact/hooks';
import { del, get, post, setCsrf, setUnauthorizedHandler } from './api.js';

// status: 'loading' | 'anonymous' | 'authenticated'
// provider: what to call the OpenID provider ("Sign in with <provider>").
let state = { status: 'loading', session: null, methods: ['token'], provider: 'SSO', error: null };
const subscribers = new Set();

function set(next) {
  state = { ...state, ...next };
  for (const fn of subscribers) fn(state);
}

function adopt(session) {
  if (session && session.authenticated) {
    setCsrf(session.csrf);
    set({ status: 'authenticated', session, methods: session.methods || ['token'],
          provider: session.oidc_provider || state.provider, error: null });
  } else {
    setCsrf(null);
    set({ status: 'anonymous', session: null, methods: (session && session.methods) || state.methods,
          provider: (session && session.oidc_provider) || state.provider });
  }
}

export function getSession() {
  return state;
}

export function canWrite() {
  const role = state.session && state.session.role;
  return role === 'admin' || role === 'deployer';
}

export function useSession() {
  const [s, setS] = useState(state);
  useEffect(() => {
    subscribers.add(setS);
    setS(state);
    return () => subscribers.delete(setS);
  }, []);
  return s;
}

export async function loadSession() {
  try {
    adopt(await get('/session', { expectAuth: false }));
  } catch (e) {
    set({ status: 'anonymous', error: e });
  }
}

// Throws ApiError (401 wrong token, 429 too many attempts) for the form.
export async function login(token) {
  adopt(await post('/session', { token }, { expectAuth: false }));
}

export async function logout() {
  try {
    await del('/session', { expectAuth: false });
  } finally {
    adopt(null);
  }
}

// A 401 anywhere means the session ended (expired, logged out elsewhere).
setUnauthorizedHandler(() => {
  if (state.status === 'authenticated') adopt({ authenticated: false, methods: state.methods });
});
