// htm bound to Preact's h: tagged templates instead of a JSX build step.
// htm parses templates at run time without eval, so the strict CSP holds.
export { html } from 'htm/preact';
