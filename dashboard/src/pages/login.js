// #/login: trade an admin token for a session cookie. The token goes to
// POST /session once and is dropped from memory with the form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { login, useSession } from '../lib/session.js';

function loginError(e) {
  if (e.status === 401) return 'That token was not accepted. Check it and try again.';
  if (e.status === 429) {
    const wait = e.retryAfter != null ? ` Try again in ${e.retryAfter} s.` : ' Wait a minute and try again.';
    return `Too many failed logins from this address.${wait}`;
  }
  return e.message;
}

// A failed single sign-on comes back as #/login?error=<code>
// (src/admin/oidc_views.cc). Only known codes are shown, in our words: a
// link cannot make this page say something else.
const SSO_ERRORS = {
  'oidc-unmapped': 'You signed in, but this node gives your account no role. Ask an admin to add you.',
  'oidc-denied': 'The sign-in was cancelled or refused at the identity provider.',
  'oidc-state': 'That sign-in link was already used, expired, or began in another browser. Try again.',
  'oidc-unavailable': 'The identity provider cannot be reached. Try again later or use a token.',
  'oidc-failed': 'Single sign-on failed: the identity provider’s answer was not accepted.',
  'too-many-logins': 'Too many failed logins from this address. Wait a minute and try again.',
};

function ssoError() {
  const q = location.hash.indexOf('?');
  if (q < 0) return null;
  const code = new URLSearchParams(location.hash.slice(q + 1)).get('error');
  if (!code) return null;
  return SSO_ERRORS[code] || 'Single sign-on failed.';
}

export function LoginPage() {
  const { methods, provider } = useSession();
  const [error, setError] = useState(ssoError);
  const [busy, setBusy] = useState(false);
  const field = useRef(null);
  useEffect(() => field.current && field.current.focus(), []);

  const onSubmit = async (ev) => {
    ev.preventDefault();
    const input = field.current;
    const token = input.value.trim();
    if (!token) {
      setError('Paste the admin token first.');
      input.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(token);
      input.value = '';
    } catch (e) {
      setError(loginError(e));
      input.select();
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="login" id="main">
    <div class="login-card card">
      <div class="login-brand">
        <span class="brand-mark" aria-hidden="true">f0</span>
        <h1>Sign in to fn0</h1>
      </div>
      <form onSubmit=${onSubmit} novalidate>
        <label for="token">Admin token</label>
        <input
          id="token"
          ref=${field}
          type="password"
          name="token"
          autocomplete="current-password"
          spellcheck="false"
          aria-describedby=${error ? 'token-error token-help' : 'token-help'}
          aria-invalid=${error ? 'true' : undefined}
        />
        <p id="token-help" class="help">
          The node prints it at its first start and keeps it in the file <code>admin-token</code> of its data directory.
        </p>
        ${error && html`<p id="token-error" class="error" role="alert">${error}</p>`}
        <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>
          ${busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      ${methods && methods.includes('oidc') &&
      html`<div class="login-alt">
        <span class="muted">or</span>
        <a class="btn btn-secondary btn-block" href="/_fn0/auth/oidc/start">Sign in with ${provider}</a>
      </div>`}
    </div>
  </main>`;
}
