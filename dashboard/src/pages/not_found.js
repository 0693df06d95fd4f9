import { html } from '../html.js';
import { Empty } from '../components/ui.js';

export function NotFoundPage({ path }) {
  return html`<div class="page">
    <h1 class="sr-only">Page not found</h1>
    <${Empty} title=${`There is no page at ${path}`}>
      <p><a href="#/">Go to the overview</a> or <a href="#/functions">the functions</a>.</p>
    <//>
  </div>`;
}
