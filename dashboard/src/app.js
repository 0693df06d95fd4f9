// The application shell: finds out whether a session exists, sends a
// logged-out visitor to #/login (and back where they were going after),
// and picks the page for the route.
import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';
import { Layout } from './components/layout.js';
import { Loading } from './components/ui.js';
import { get } from './lib/api.js';
import { usePoll } from './lib/poll.js';
import { navigate, useRoute } from './lib/router.js';
import { loadSession, useSession } from './lib/session.js';
import { ClusterPage } from './pages/cluster.js';
import { FunctionPage } from './pages/function/index.js';
import { FunctionsPage } from './pages/functions.js';
import { LoginPage } from './pages/login.js';
import { NotFoundPage } from './pages/not_found.js';
import { OverviewPage } from './pages/overview.js';

const TITLES = { overview: 'Overview', functions: 'Functions', cluster: 'Cluster', login: 'Sign in' };

function Page({ route }) {
  switch (route.page) {
    case 'overview':
      return html`<${OverviewPage} />`;
    case 'functions':
      return html`<${FunctionsPage} />`;
    case 'function':
      return html`<${FunctionPage} key=${route.name} name=${route.name} tab=${route.tab} />`;
    case 'cluster':
      return html`<${ClusterPage} />`;
    default:
      return html`<${NotFoundPage} path=${route.path} />`;
  }
}

function Authenticated({ route }) {
  // The Cluster link shows only on a clustered node.
  const cluster = usePoll(() => get('/cluster'), 60000);
  const clustered = !!(cluster.data && cluster.data.clustered);
  // Focus moves to the new page's content, so keyboard and screen-reader
  // users start there after following a link.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const m = document.getElementById('main');
    if (m) m.focus({ preventScroll: true });
  }, [route.page, route.name]);
  return html`<${Layout} route=${route} clustered=${clustered}>
    <${Page} route=${route} />
  <//>`;
}

export function App() {
  const route = useRoute();
  const { status } = useSession();
  const returnTo = useRef(null);

  useEffect(() => {
    loadSession();
  }, []);

  useEffect(() => {
    if (status === 'anonymous' && route.page !== 'login') {
      returnTo.current = location.hash && location.hash !== '#/login' ? location.hash : null;
      navigate('#/login', { replace: true });
    } else if (status === 'authenticated' && route.page === 'login') {
      const back = returnTo.current || '#/';
      returnTo.current = null;
      navigate(back, { replace: true });
    }
  }, [status, route.page]);

  useEffect(() => {
    const t = route.page === 'function' ? route.name : TITLES[route.page] || 'Not found';
    document.title = `${t} · fn0`;
  }, [route.page, route.name]);

  if (status === 'loading') return html`<div class="splash"><${Loading} label="Connecting to the node…" /></div>`;
  if (status === 'anonymous' || route.page === 'login') return html`<${LoginPage} />`;
  return html`<${Authenticated} route=${route} />`;
}
