/**
 * Watches the `clips` bench's filesystem object store for clips stored twice. The store writes an
 * object to a temporary file and renames it into place, so every put is a new inode: a clip's
 * video whose inode changes between two looks (once a second) was stored again. Two puts within
 * the same second before the first look would go unseen; a second put by another worker comes
 * after a stalled-job hand-off, seconds later.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ObjectWatch extends AsyncDisposable {
  /** Clip ids whose video was replaced after it was first seen. */
  readonly storedTwice: ReadonlySet<string>;
  /** Clip ids with a video in the store. */
  readonly videos: ReadonlySet<string>;
  /** Looks once more (the last look at the end of a run). */
  look(): Promise<void>;
}

export function watchClipObjects(objectsDir: string, o: { everyMs?: number } = {}): ObjectWatch {
  const inodes = new Map<string, number>();
  const storedTwice = new Set<string>();
  const root = join(objectsDir, 'clips');
  let looking: Promise<void> = Promise.resolve();
  const lookOnce = async () => {
    const ids = await readdir(root).catch(() => [] as string[]);
    await Promise.all(
      ids.map(async (id) => {
        const info = await stat(join(root, id, 'video.mp4')).catch(() => undefined);
        if (info === undefined) return;
        const seen = inodes.get(id);
        if (seen !== undefined && seen !== info.ino) storedTwice.add(id);
        inodes.set(id, info.ino);
      }),
    );
  };
  const look = () => {
    looking = looking.then(lookOnce);
    return looking;
  };
  const timer = setInterval(() => void look(), o.everyMs ?? 1000);
  return {
    storedTwice,
    get videos() {
      return new Set(inodes.keys());
    },
    look,
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await looking;
    },
  };
}
