/** The fleet in four numbers: edges, online, offline, edges with open alarms. */
import { alarmNames } from '../lib/fleet.js';
import { html } from '../lib/html.js';

export function FleetTiles({ edges }) {
  const online = edges.filter((e) => e.online).length;
  const alarms = edges.filter((e) => alarmNames(e).length > 0).length;
  return html`<div class="tiles">
    <div class="tile">edges<b id="t-edges">${edges.length}</b></div>
    <div class="tile">online<b class="on" id="t-online">${online}</b></div>
    <div class="tile">offline<b class="off" id="t-offline">${edges.length - online}</b></div>
    <div class="tile">open alarms<b class="alarm" id="t-alarms">${alarms}</b></div>
  </div>`;
}
