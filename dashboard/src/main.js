// Entry point: styles (ours after uPlot's, so ours win), theme, render.
import 'uplot/dist/uPlot.min.css';
import './styles/app.css';
import { render } from 'preact';
import { html } from './html.js';
import { App } from './app.js';
import { initTheme } from './lib/theme.js';

initTheme();
render(html`<${App} />`, document.getElementById('app'));
