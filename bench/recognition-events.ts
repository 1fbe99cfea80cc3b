/**
 * The `recognition` bench's vision events: a seeded plan (a steady rate over the fleet plus a burst
 * — an area's power cut, `trapped` alarms within 10 s), the frames (the provisioned test
 * photographs, JPEG-encoded with sharp as an edge would send them), and the sender: for each event
 * the frame is uploaded through the gateway's frames route with the edge's own credentials, then
 * the alarm start naming it (eventId, frames) goes to the edge actor through the bus, as a link
 * enqueues it; its end follows a few seconds later.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { mulberry32 } from '../edge/mod.ts';
import { testPhotos } from '../infra/models.ts';

export type Photo = 'person' | 'motorcycle' | 'rocket' | 'coffee';

/** The verdict a photograph should get for a kind (person-targeted kinds vs the e-bike's targets). */
export function expectedVerdict(alarm: string, photo: Photo): 'confirmed' | 'dismissed' {
  if (alarm === 'ebike') return photo === 'motorcycle' ? 'confirmed' : 'dismissed';
  return photo === 'person' ? 'confirmed' : 'dismissed';
}

export interface PlannedEvent {
  readonly edge: number;
  readonly alarm: 'trapped' | 'person_down' | 'ebike';
  readonly photo: Photo;
  /** Offset from the run's start (ms). */
  readonly atMs: number;
  readonly burst: boolean;
}

/**
 * `steadyPerSecond` events spread evenly over `seconds` (30 % trapped, 30 % person down — a third
 * of them on an empty car's frame — 40 % e-bike, half of them a motorcycle), plus `burst` trapped
 * events with a person in the frame within `burstSpreadS` from `burstAtS`. Every event on an edge
 * of its own.
 */
export function planVisionEvents(o: {
  edges: number;
  seconds: number;
  steadyPerSecond: number;
  burst: number;
  burstAtS: number;
  burstSpreadS?: number;
  seed?: number;
}): PlannedEvent[] {
  const next = mulberry32(o.seed ?? 17);
  const used = new Set<number>();
  const edge = () => {
    if (used.size >= o.edges) throw new RangeError(`More vision events than the ${o.edges} edges`);
    let e = Math.floor(next() * o.edges);
    while (used.has(e)) e = (e + 1) % o.edges;
    used.add(e);
    return e;
  };
  const events: PlannedEvent[] = [];
  const spreadMs = (o.burstSpreadS ?? 10) * 1000;
  for (let k = 0; k < o.burst; k++)
    events.push({
      edge: edge(),
      alarm: 'trapped',
      photo: 'person',
      atMs: Math.round(o.burstAtS * 1000 + next() * spreadMs),
      burst: true,
    });
  const steady = Math.floor(o.seconds * o.steadyPerSecond);
  for (let k = 0; k < steady; k++) {
    const atMs = Math.round(((k + next()) / o.steadyPerSecond) * 1000);
    const r = next();
    const [alarm, photo]: [PlannedEvent['alarm'], Photo] =
      r < 0.3
        ? ['trapped', 'person']
        : r < 0.6
          ? ['person_down', next() < 1 / 3 ? 'rocket' : 'person']
          : ['ebike', next() < 0.5 ? 'motorcycle' : 'coffee'];
    events.push({ edge: edge(), alarm, photo, atMs, burst: false });
  }
  return events.sort((a, b) => a.atMs - b.atMs);
}

/** The test photographs as an agent uploads them: JPEG, quality 90. */
export async function jpegPhotos(): Promise<Record<Photo, Buffer>> {
  const p = testPhotos();
  const jpeg = async (path: string) =>
    await sharp(await readFile(path))
      .jpeg({ quality: 90 })
      .toBuffer();
  const [person, motorcycle, rocket, coffee] = await Promise.all(
    [p.person, p.motorcycle, p.none[0]!, p.none[1]!].map(jpeg),
  );
  return { person: person!, motorcycle: motorcycle!, rocket: rocket!, coffee: coffee! };
}

/** An event as sent: its id, when its upload began and ended (ms, wall clock) and the answer. */
export interface SentEvent extends PlannedEvent {
  readonly edgeId: string;
  readonly eventId: string;
  uploadStartAt?: number;
  uploadedAt?: number;
  uploadStatus?: number;
}

type AlarmMessage = {
  alarm: string;
  phase: 'start' | 'end';
  ts: number;
  data?: Record<string, unknown>;
};

/** How long after its start an event's alarm ends (ms). */
const ALARM_LASTS_MS = 5000;

/**
 * Sends the plan at its times: upload (PUT …/frames/{eventId}?index=0), then the alarm start;
 * the end ALARM_LASTS_MS later. `done` resolves once every end is sent.
 */
export function sendVisionEvents(
  plan: readonly PlannedEvent[],
  o: {
    run: string;
    gatewayUrl: string;
    photos: Record<Photo, Buffer>;
    edgeId: (i: number) => string;
    secretOf: (edgeId: string) => string;
    send: (edgeId: string, message: AlarmMessage) => Promise<unknown>;
  },
) {
  const events: SentEvent[] = plan.map((p, k) => ({
    ...p,
    edgeId: o.edgeId(p.edge),
    eventId: `${o.run}-${k}`,
  }));
  let sent = 0;
  const started = Date.now();
  const one = async (e: SentEvent) => {
    e.uploadStartAt = Date.now();
    const basic = Buffer.from(`${e.edgeId}:${o.secretOf(e.edgeId)}`).toString('base64');
    try {
      const answer = await fetch(
        `${o.gatewayUrl}/v1/edges/${encodeURIComponent(e.edgeId)}/frames/${e.eventId}?index=0`,
        {
          method: 'PUT',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'image/jpeg' },
          body: o.photos[e.photo],
        },
      );
      await answer.arrayBuffer();
      e.uploadStatus = answer.status;
    } catch {
      e.uploadStatus = 0;
    }
    e.uploadedAt = Date.now();
    await o.send(e.edgeId, {
      alarm: e.alarm,
      phase: 'start',
      ts: e.uploadStartAt,
      data: { eventId: e.eventId, frames: 1 },
    });
    sent++;
    await new Promise((resolve) => setTimeout(resolve, ALARM_LASTS_MS));
    await o.send(e.edgeId, { alarm: e.alarm, phase: 'end', ts: Date.now() });
  };
  const done = (async () => {
    const all: Promise<void>[] = [];
    for (const e of events) {
      const wait = started + e.atMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      all.push(one(e));
    }
    await Promise.all(all);
  })();
  return { events, started, done, sent: () => sent };
}
