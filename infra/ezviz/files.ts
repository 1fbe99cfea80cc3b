/**
 * The stand-in's recorded files: each task's MP4 (rendered once by `renderClip`, a real H.264
 * clip whose burned-in clock covers the asked window, or bytes that are not a video when told
 * to), signed download URLs that expire like Ezviz's OSS links (403 after), and the download
 * itself with Range support — cut off halfway when a fault says so.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Renders the MP4 of a window (clips/media `renderTestClip`'s shape); resolves with its path. */
export type RenderClip = (options: {
  startMs: number;
  endMs: number;
  label: string;
  dest?: string;
}) => Promise<string>;

export interface StoredFile {
  readonly fileId: string;
  /** Resolves with the file's path and size once it is rendered; rejects if rendering failed. */
  readonly ready: Promise<{ path: string; size: number }>;
  /** Set once `ready` settled. */
  settled?: { path: string; size: number } | { error: string };
}

export interface FileStore {
  /** Starts rendering the file of a task (in the background). */
  add(input: {
    fileId: string;
    startMs: number;
    endMs: number;
    label: string;
    notVideo: boolean;
  }): StoredFile;
  get(fileId: string): StoredFile | undefined;
  /** A signed URL for the file, valid until `expiresAt` (ms). */
  signedUrl(baseUrl: string, fileId: string, expiresAt: number): string;
  /** Serves GET /files/<fileId>.mp4?expires=&sig=; true when the request was one. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, options: { cut: () => boolean }): boolean;
  /** Whole-file downloads per fileId. */
  readonly fullDownloads: Map<string, number>;
  readonly counts: { downloads: number; cut: number; expired: number };
}

export function createFileStore(dir: string, renderClip: RenderClip): FileStore {
  const secret = randomBytes(16);
  const files = new Map<string, StoredFile>();
  const fullDownloads = new Map<string, number>();
  const counts = { downloads: 0, cut: 0, expired: 0 };
  const sign = (fileId: string, expiresAt: number) =>
    createHmac('sha256', secret).update(`${fileId}\n${expiresAt}`).digest('hex');

  async function render(input: Parameters<FileStore['add']>[0]): Promise<{ path: string; size: number }> {
    let path: string;
    if (input.notVideo) {
      await mkdir(dir, { recursive: true });
      path = join(dir, `not-a-video-${input.fileId}.mp4`);
      await writeFile(path, `<html><body>502 Bad Gateway ${input.fileId}</body></html>\n`.repeat(64));
    } else {
      path = await renderClip({ startMs: input.startMs, endMs: input.endMs, label: input.label, dest: dir });
    }
    return { path, size: (await stat(path)).size };
  }

  return {
    fullDownloads,
    counts,
    add(input) {
      const ready = render(input);
      const file: StoredFile = { fileId: input.fileId, ready };
      ready.then(
        (value) => {
          file.settled = value;
        },
        (error: unknown) => {
          file.settled = { error: error instanceof Error ? error.message : String(error) };
        },
      );
      files.set(input.fileId, file);
      return file;
    },
    get: (fileId) => files.get(fileId),
    signedUrl(baseUrl, fileId, expiresAt) {
      return `${baseUrl}/files/${fileId}.mp4?expires=${expiresAt}&sig=${sign(fileId, expiresAt)}`;
    },
    serve(req, res, url, { cut }) {
      const m = /^\/files\/([A-Za-z0-9_-]+)\.mp4$/.exec(url.pathname);
      if (!m || req.method !== 'GET') return false;
      const fileId = m[1]!;
      const expiresAt = Number(url.searchParams.get('expires'));
      const sig = Buffer.from(url.searchParams.get('sig') ?? '', 'hex');
      const good = Buffer.from(sign(fileId, expiresAt), 'hex');
      const file = files.get(fileId);
      const settled = file?.settled;
      if (sig.length !== good.length || !timingSafeEqual(sig, good) || !settled || 'error' in settled) {
        res
          .writeHead(403, { 'content-type': 'application/xml' })
          .end('<Error><Code>AccessDenied</Code></Error>');
        return true;
      }
      if (Date.now() > expiresAt) {
        counts.expired++;
        res
          .writeHead(403, { 'content-type': 'application/xml' })
          .end('<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>');
        return true;
      }
      counts.downloads++;
      const { path, size } = settled;
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      let start = 0;
      let end = size - 1;
      if (range) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(end, Number(range[2]));
        if (start > end) {
          res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
          return true;
        }
      }
      const length = end - start + 1;
      const headers = {
        'content-type': 'video/mp4',
        'content-length': String(length),
        'accept-ranges': 'bytes',
        ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      };
      res.writeHead(range ? 206 : 200, headers);
      if (cut()) {
        counts.cut++;
        const half = Math.max(1, Math.floor(length / 2));
        createReadStream(path, { start, end: start + half - 1 })
          .on('end', () => res.socket?.destroy())
          .pipe(res, { end: false });
        return true;
      }
      const stream = createReadStream(path, { start, end });
      stream.pipe(res);
      res.on('finish', () => {
        if (start === 0 && end === size - 1) fullDownloads.set(fileId, (fullDownloads.get(fileId) ?? 0) + 1);
      });
      return true;
    },
  };
}
