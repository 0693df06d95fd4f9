// The dashboard's routes live in the URL fragment (docs/dashboard.md):
//   #/  #/functions  #/functions/<name>?tab=<tab>  #/cluster  #/login
// parseRoute and routeHref are pure; the hook that follows location.hash
// is in router.js.

export const TABS = ['overview', 'versions', 'logs', 'env', 'secrets', 'settings'];

export function parseRoute(hash) {
  let h = (hash || '').replace(/^#/, '');
  if (!h.startsWith('/')) h = '/' + h;
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'login' && parts.length === 1) return { page: 'login' };
  if (parts[0] === 'cluster' && parts.length === 1) return { page: 'cluster' };
  if (parts[0] === 'functions' && parts.length === 1) return { page: 'functions' };
  if (parts[0] === 'functions' && parts.length === 2) {
    const tab = params.get('tab');
    return { page: 'function', name: parts[1], tab: TABS.includes(tab) ? tab : 'overview' };
  }
  return { page: 'not-found', path };
}

export function routeHref(route) {
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'functions':
      return '#/functions';
    case 'cluster':
      return '#/cluster';
    case 'login':
      return '#/login';
    case 'function': {
      const base = `#/functions/${encodeURIComponent(route.name)}`;
      return route.tab && route.tab !== 'overview' ? `${base}?tab=${route.tab}` : base;
    }
    default:
      return '#/';
  }
}
