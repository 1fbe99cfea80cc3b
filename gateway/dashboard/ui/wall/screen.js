/**
 * The wall screen page (`/ui/screen/<scope>`, decision 043): one WebSocket on
 * `/v1/screens/<scope>/socket` (the key as a subprotocol, as the dashboard's), a snapshot and then
 * deltas; the counts, the open alarms with their minutes, and one tile per elevator (floor,
 * direction, door, someone in the car, last seen, its state's colour). Only what a delta names is
 * touched. Sign in as for the dashboard (`#key=…` or the key this browser keeps).
 */
import { api, key, openSocket } from '../lib/api.js';

const MAX_TILES = 400;
const ARROWS = { up: '▲', down: '▼', idle: '•' };
const scope = decodeURIComponent(location.pathname.slice('/ui/screen/'.length));
const $ = (id) => document.getElementById(id);
/** edgeId → tile as last received. */
const tiles = new Map();
/** edgeId → its element, for the tiles shown. */
const shown = new Map();
let alarms = [];
let skew = 0;

function tileElement(t) {
  let el = shown.get(t.edgeId);
  if (el === undefined) {
    el = document.createElement('div');
    el.dataset.edge = t.edgeId;
    el.innerHTML =
      '<div class="id"></div><div class="floor"></div><div class="dir"></div><div class="meta"></div>';
    el.querySelector('.id').textContent = t.edgeId;
    shown.set(t.edgeId, el);
  }
  el.className = `tile ${t.state}`;
  el.dataset.state = t.state;
  el.dataset.floor = t.floor ?? '';
  el.querySelector('.floor').textContent = t.floor ?? '–';
  el.querySelector('.dir').textContent = ARROWS[t.direction] ?? '';
  el.querySelector('.meta').textContent = [
    t.door ? `door ${t.door}` : '',
    t.people ? '● person' : '',
    t.state === 'offline' && t.lastSeen ? `seen ${ago(t.lastSeen)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return el;
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - skew - ms) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
}

/** Lays the tiles out again (a snapshot, or elevators coming and going): sorted by id, at most MAX_TILES. */
function layout() {
  const ids = [...tiles.keys()].sort();
  const visible = ids.slice(0, MAX_TILES);
  for (const id of [...shown.keys()]) if (!tiles.has(id)) shown.delete(id);
  $('tiles').replaceChildren(...visible.map((id) => tileElement(tiles.get(id))));
  $('more').textContent = ids.length > MAX_TILES ? `${ids.length - MAX_TILES} more elevators not shown` : '';
}

function renderCounts(counts) {
  for (const state of ['running', 'idle', 'fault', 'offline'])
    $(`count-${state}`).textContent = counts[state];
}

function renderAlarms() {
  const now = Date.now() - skew;
  $('alarms').replaceChildren(
    ...alarms.map((a) => {
      const li = document.createElement('li');
      const minutes = Math.max(0, Math.floor((now - a.openedAt) / 60_000));
      li.dataset.edge = a.edgeId;
      li.dataset.minutes = String(minutes);
      li.innerHTML = '<span class="what"></span><span class="minutes"></span>';
      li.querySelector('.what').textContent = `${a.edgeId} · ${a.kind}`;
      li.querySelector('.minutes').textContent = `${minutes} min`;
      return li;
    }),
  );
}

function onFrame({ event, id, data }) {
  document.body.dataset.version = id;
  skew = Date.now() - data.at;
  if (event === 'snapshot') {
    tiles.clear();
    for (const t of data.tiles) tiles.set(t.edgeId, t);
    alarms = data.alarms;
    layout();
  } else {
    let added = false;
    for (const t of data.tiles) {
      if (!tiles.has(t.edgeId)) added = true;
      tiles.set(t.edgeId, t);
      if (shown.has(t.edgeId)) tileElement(t);
    }
    for (const gone of data.removed ?? []) tiles.delete(gone);
    if (added || data.removed) layout();
    if (data.alarms) alarms = data.alarms;
  }
  renderCounts(data.counts);
  renderAlarms();
}

function connect() {
  const ws = openSocket(`/v1/screens/${encodeURIComponent(scope)}/socket`);
  let opened = false;
  ws.onopen = () => {
    opened = true;
    $('conn').textContent = 'live';
  };
  ws.onmessage = (m) => onFrame(JSON.parse(m.data));
  ws.onclose = () => {
    $('conn').textContent = 'reconnecting…';
    // Refused (a browser tells a socket nothing of why): the snapshot's answer says.
    if (!opened)
      api(`/v1/screens/${encodeURIComponent(scope)}`).catch((e) => {
        $('conn').textContent = `${e.message}; retrying…`;
      });
    setTimeout(connect, 2000 + Math.random() * 3000);
  };
}

$('scope').textContent = scope;
document.title = `DeviceHub · ${scope}`;
setInterval(() => {
  $('clock').textContent = new Date().toLocaleTimeString();
}, 1000);
setInterval(renderAlarms, 10_000);
if (!key) $('conn').textContent = 'not signed in: open /ui/screen/<scope>#key=<API key>';
else connect();
