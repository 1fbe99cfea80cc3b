/**
 * A table from columns and rows: `columns` are `{ title?, cell(row), className?(row) }`; a header
 * row when any column has a title; `empty` is shown as one muted row when there are no rows.
 */
import { html } from './html.js';

export function Table({ id, columns, rows, rowKey, empty }) {
  const header = columns.some((c) => c.title)
    ? html`<tr>${columns.map((c) => html`<th>${c.title}</th>`)}</tr>`
    : null;
  const body =
    rows.length === 0 && empty
      ? html`<tr><td class="muted">${empty}</td></tr>`
      : rows.map(
          (row) =>
            html`<tr key=${rowKey?.(row)}>${columns.map((c) => html`<td class=${c.className?.(row)}>${c.cell(row)}</td>`)}</tr>`,
        );
  return html`<table id=${id}>${header}${body}</table>`;
}
