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

export function LoginPage() {
  const { methods } = useSession();
  const [error, setError] = useState(null);
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
        <a class="btn btn-secondary btn-block" href="/_fn0/auth/oidc/start">Sign in with SSO</a>
      </div>`}
    </div>
  </main>`;
}
