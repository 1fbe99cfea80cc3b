/** What a view shows when loading its data failed. */
import { html } from '../lib/html.js';

export const Failure = ({ error }) => html`<section><h2>Error</h2><p>${error.message}</p></section>`;
