// Follows location.hash (see route.js for the routes themselves).
import { useEffect, useState } from 'preact/hooks';
import { parseRoute } from './route.js';

export function currentRoute() {
  return parseRoute(location.hash);
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function navigate(href, { replace = false } = {}) {
  if (replace) {
    history.replaceState(null, '', href);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = href.replace(/^#/, '');
  }
}
