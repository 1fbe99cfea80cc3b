/**
 * Wall screens on live streams for the `screens` bench: N Server-Sent-Event streams
 * (`GET /v1/screens/{scope}/stream`), each on a connection of its own, read to the end of every
 * frame. Every `sampleEvery`-th screen's deltas are parsed: per changed tile, edge → screen is
 * now less the tile's `enteredAt` (when the change entered the hub; one machine, one clock).
 */
import { type IncomingMessage, request } from 'node:http';

export interface ScreenStreams {
  /** Streams that got their first snapshot. */
  readonly open: () => number;
  /** Edge → screen latencies of the sampled screens so far (ms). */
  readonly latencies: number[];
  readonly stats: { snapshots: number; deltas: number; bytes: number; ended: number };
  close(): void;
}

export function openScreenStreams(o: {
  url: string;
  key: string;
  scopes: readonly string[];
  sampleEvery?: number;
}): ScreenStreams {
  const target = new URL(o.url);
  const sampleEvery = o.sampleEvery ?? 10;
  const latencies: number[] = [];
  const stats = { snapshots: 0, deltas: 0, bytes: 0, ended: 0 };
  const opened = new Set<number>();
  const responses: IncomingMessage[] = [];
  const requests = o.scopes.map((scope, i) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `/v1/screens/${scope}/stream`,
        headers: { authorization: `Bearer ${o.key}`, accept: 'text/event-stream' },
        agent: false,
      },
      (res) => {
        responses.push(res);
        const sampled = i % sampleEvery === 0;
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          stats.bytes += chunk.length;
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (frame.startsWith('event: snapshot') || frame.includes('\nevent: snapshot')) {
              stats.snapshots++;
              opened.add(i);
            } else if (frame.includes('event: delta')) {
              stats.deltas++;
              if (sampled) record(frame);
            }
          }
        });
        res.on('end', () => void stats.ended++);
        res.on('error', () => {});
      },
    );
    req.on('error', () => void stats.ended++);
    req.end();
    return req;
  });
  const record = (frame: string) => {
    const now = Date.now();
    const data = frame
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    try {
      const delta = JSON.parse(data) as { tiles?: { enteredAt?: number | null }[] };
      for (const tile of delta.tiles ?? [])
        if (typeof tile.enteredAt === 'number') latencies.push(now - tile.enteredAt);
    } catch {
      // Not JSON: not a delta of the contract; nothing to measure.
    }
  };
  return {
    open: () => opened.size,
    latencies,
    stats,
    close() {
      for (const r of requests) r.destroy();
      for (const r of responses) r.destroy();
    },
  };
}
