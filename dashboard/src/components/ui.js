// Small building blocks shared by the pages: cards, empty states, errors
// shown where they happen, stat tiles, badges.
import { html } from '../html.js';

// A titled section. `actions` sit on the title's right.
export function Card({ title, id, actions, children, class: cls = '' }) {
  const headingId = id ? `${id}-title` : undefined;
  return html`<section class="card ${cls}" aria-labelledby=${headingId}>
    ${(title || actions) &&
    html`<header class="card-head">
      ${title && html`<h2 id=${headingId}>${title}</h2>`}
      ${actions && html`<div class="card-actions">${actions}</div>`}
    </header>`}
    ${children}
  </section>`;
}

// What a list would hold, and what to do to fill it.
export function Empty({ title, children }) {
  return html`<div class="empty">
    <p class="empty-title">${title}</p>
    ${children && html`<div class="empty-body">${children}</div>`}
  </div>`;
}

// The node's message for a failed call, with its request id for the logs.
export function ErrorText({ error, prefix }) {
  if (!error) return null;
  const message = error.message || String(error);
  return html`<p class="error" role="alert">
    ${prefix ? `${prefix}: ` : ''}${message}
    ${error.requestId && html` <span class="muted mono small">(request ${error.requestId})</span>`}
  </p>`;
}

export function Loading({ label = 'Loading…' }) {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${label}</p>`;
}

// One number with its label, e.g. "Requests/s  3.4".
export function Stat({ label, value, hint, tone }) {
  return html`<div class="stat ${tone ? `stat-${tone}` : ''}">
    <div class="stat-label">${label}</div>
    <div class="stat-value">${value}</div>
    ${hint && html`<div class="stat-hint">${hint}</div>`}
  </div>`;
}

export function Badge({ tone = 'neutral', children, title }) {
  return html`<span class="badge badge-${tone}" title=${title}>${children}</span>`;
}

// A short-lived confirmation next to a form ("Saved.").
export function Notice({ children }) {
  if (!children) return null;
  return html`<p class="notice" role="status">${children}</p>`;
}

// Wraps a table so a narrow screen scrolls it sideways instead of the page.
// A focusable region, so the keyboard can scroll it too; named apart from
// the card around it (landmarks need distinct names).
export function TableWrap({ label, children }) {
  return html`<div class="table-wrap" role="region" aria-label=${`${label} table`} tabindex="0">${children}</div>`;
}
