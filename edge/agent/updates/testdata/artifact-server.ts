/**
 * A small real origin for the updater's tests: serves artifacts by SHA-256 at
 * `/v1/artifacts/<sha256>/content` with Range (206), records each request's range, and can hold a
 * response after its first `stallAfter` bytes until released (to cut a download in the middle).
 */
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpdateTarget } from '../../../protocol/mod.ts';

export interface ArtifactServer extends AsyncDisposable {
  readonly url: string;
  /** `Range` header of each request (`-` for none). */
  readonly ranges: string[];
  /** Bytes written to responses so far. */
  readonly sent: () => number;
  /** Adds an artifact; its target for an `update` command. */
  add(kind: string, name: string, version: string, fileName: string, bytes: Uint8Array): UpdateTarget;
  /** Responses stop after this many bytes of the file until `release()` (undefined: never). */
  stallAfter: number | undefined;
  release(): void;
  close(): Promise<void>;
}

export async function startArtifactServer(): Promise<ArtifactServer> {
  const files = new Map<string, Uint8Array>();
  const ranges: string[] = [];
  const held: ServerResponse[] = [];
  let sent = 0;
  const server = createServer((req, res) => {
    const sha = /^\/v1\/artifacts\/([0-9a-f]{64})\/content$/.exec(req.url ?? '')?.[1];
    const file = sha === undefined ? undefined : files.get(sha);
    if (file === undefined) return void res.writeHead(404).end();
    ranges.push(req.headers.range ?? '-');
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const body = file.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': body.byteLength,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${file.byteLength - 1}/${file.byteLength}` } : {}),
    });
    const cut = s.stallAfter === undefined ? body.byteLength : Math.max(0, s.stallAfter - start);
    if (cut >= body.byteLength) {
      sent += body.byteLength;
      return void res.end(body);
    }
    sent += cut;
    res.write(body.subarray(0, cut));
    held.push(res);
    res.on('close', () => held.splice(held.indexOf(res), 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    for (const res of held.splice(0)) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const s: ArtifactServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ranges,
    sent: () => sent,
    stallAfter: undefined,
    add(kind, name, version, fileName, bytes) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      files.set(sha256, bytes);
      return {
        path: `${kind}/${name}/${version}/${fileName}`,
        name,
        version,
        kind,
        sha256,
        length: bytes.byteLength,
      };
    },
    release() {
      s.stallAfter = undefined;
      for (const res of held.splice(0)) res.destroy();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return s;
}
