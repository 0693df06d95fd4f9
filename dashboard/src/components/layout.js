// The frame around every page once logged in: brand, navigation, who is
// logged in, theme switch and logout.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { logout, useSession } from '../lib/session.js';
import { setTheme, themeChoice, useTheme } from '../lib/theme.js';

function NavLink({ href, current, children }) {
  return html`<a href=${href} class="nav-link" aria-current=${current ? 'page' : undefined}>${children}</a>`;
}

function ThemeToggle() {
  const theme = useTheme();
  const next = theme === 'dark' ? 'light' : 'dark';
  return html`<button
    type="button"
    class="btn btn-ghost icon-btn"
    aria-label=${`Switch to ${next} theme`}
    title=${`Switch to ${next} theme (now ${themeChoice() === 'system' ? 'following the system' : theme})`}
    onClick=${() => setTheme(next)}
  >
    ${theme === 'dark' ? '☀' : '☾'}
  </button>`;
}

// The routes live in the fragment, so the skip link moves focus itself
// instead of navigating to #main.
function skipToMain(e) {
  e.preventDefault();
  const main = document.getElementById('main');
  if (main) main.focus();
}

export function Layout({ route, clustered, children }) {
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const onLogout = async () => {
    setBusy(true);
    try {
      await logout();
    } finally {
      setBusy(false);
    }
  };
  const page = route.page === 'function' ? 'functions' : route.page;
  return html`<div class="app">
    <a class="skip-link" href="#main" onClick=${skipToMain}>Skip to content</a>
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href="#/" title="Overview">
          <span class="brand-mark" aria-hidden="true">f0</span><span class="brand-name">fn0</span>
        </a>
        <nav class="nav" aria-label="Main">
          <${NavLink} href="#/" current=${page === 'overview'}>Overview<//>
          <${NavLink} href="#/functions" current=${page === 'functions'}>Functions<//>
          ${clustered && html`<${NavLink} href="#/cluster" current=${page === 'cluster'}>Cluster<//>`}
        </nav>
        <div class="topbar-user">
          ${session &&
          html`<span class="who" title=${`Signed in as ${session.subject} (${session.role})`}>
            <span class="who-name">${session.subject}</span>
            <span class="badge badge-neutral">${session.role}</span>
          </span>`}
          <${ThemeToggle} />
          <button type="button" class="btn btn-secondary" onClick=${onLogout} disabled=${busy}>Log out</button>
        </div>
      </div>
    </header>
    <main id="main" class="main" tabindex="-1">${children}</main>
  </div>`;
}

// The page title row: heading, optional subtitle and actions.
export function PageHead({ title, subtitle, actions, children }) {
  return html`<div class="page-head">
    <div class="page-head-text">
      <h1>${title}</h1>
      ${subtitle && html`<p class="page-sub">${subtitle}</p>`}
      ${children}
    </div>
    ${actions && html`<div class="page-actions">${actions}</div>`}
  </div>`;
}
