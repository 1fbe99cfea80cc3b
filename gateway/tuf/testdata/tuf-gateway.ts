/**
 * For the TUF tests: a real gateway (in-process, PGlite) with a TUF repository whose keys are
 * created in a temporary folder, and a mirror in front of it — a node:http server on loopback that
 * passes `/v1/tuf/metadata/*` through to the gateway's app, or serves what a test's `rewrite`
 * makes of it (a hostile mirror).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { UpdateError } from '../../../edge/agent/updates/mod.ts';
import { type PostgresServer, startPostgres } from '../../../infra/mod.ts';
import type { TestRedis } from '../../../infra/test-redis.ts';
import { FsObjectStore } from '../../../objects/mod.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { createGateway, type Gateway } from '../../gateway.ts';
import { TufError } from '../errors.ts';
import type { TufOptions } from '../start.ts';

export interface TufGateway extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly database: Database;
  readonly keysDir: string;
  /** A folder for agents' data, removed at the end. */
  readonly scratch: string;
}

export interface TufGatewayOptions extends Pick<TufOptions, 'roles' | 'upkeepEveryMs' | 'now'> {
  /** A PostgreSQL database (default: PGlite in memory). */
  readonly databaseUrl?: string;
  /** An existing keys folder (default: created in the scratch folder). */
  readonly keysDir?: string;
  /** Artifacts in a filesystem object store in the scratch folder (uploads become targets). */
  readonly objects?: boolean;
}

/**
 * Call at the top of a test file: a PostgreSQL server started before the file's tests and stopped
 * after; the function returned creates a fresh database on it (its URL) for each gateway pair.
 */
export function useTufDatabases(): () => Promise<string> {
  let pg: PostgresServer;
  let databases = 0;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  return () => pg.createDatabase(`tuf_${process.pid}_${++databases}`);
}

/** A gateway with TUF keys created for `roles` (upkeep off unless `upkeepEveryMs`). */
export async function startTufGateway(t: TestRedis, o: TufGatewayOptions = {}): Promise<TufGateway> {
  const scratch = await mkdtemp(join(tmpdir(), 'dh-tuf-'));
  const keysDir = o.keysDir ?? join(scratch, 'keys');
  const database = await openDatabase(o.databaseUrl === undefined ? {} : { url: o.databaseUrl });
  const { roles, now } = o;
  const objects = o.objects ? await FsObjectStore.open(join(scratch, 'objects')) : undefined;
  const gateway = await createGateway({
    database,
    ...(objects === undefined ? {} : { objects }),
    bus: t.bus(t.keyspace(), t.connect()),
    tuf: {
      keysDir,
      create: true,
      upkeepEveryMs: o.upkeepEveryMs ?? 0,
      ...(roles ? { roles } : {}),
      ...(now ? { now } : {}),
    },
  });
  return {
    gateway,
    database,
    keysDir,
    scratch,
    [Symbol.asyncDispose]: async () => {
      await gateway.stop();
      await database.close();
      await objects?.[Symbol.asyncDispose]();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** What a mirror serves instead of `body` for `file` (undefined: the original). */
export type Rewrite = (file: string, body: string) => string | undefined;

export interface TufMirror extends AsyncDisposable {
  /** The metadata base URL agents use: `http://127.0.0.1:<port>/v1/tuf/metadata`. */
  readonly metadataUrl: string;
  /** Set by a test: how the mirror alters what it serves (undefined: an honest mirror). */
  rewrite: Rewrite | undefined;
  /** The files served, in order. */
  readonly served: string[];
  /** Set by a test: how many of the next requests the mirror cuts off without an answer. */
  drop: number;
}

export async function startTufMirror(gateway: Gateway): Promise<TufMirror> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://mirror').pathname;
    const file = path.replace(/^\/v1\/tuf\/metadata\//, '');
    if (mirror.drop > 0) {
      mirror.drop--;
      req.socket.destroy();
      return;
    }
    void (async () => {
      const answer = await gateway.app.request(path);
      const original = await answer.text();
      const body = answer.status === 200 ? (mirror.rewrite?.(file, original) ?? original) : original;
      mirror.served.push(file);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(body);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const mirror: TufMirror = {
    metadataUrl: `http://127.0.0.1:${port}/v1/tuf/metadata`,
    rewrite: undefined,
    served: [],
    drop: 0,
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return mirror;
}

/** A signed metadata file parsed, changed by `edit` on its `signed` part, serialized again (signatures kept). */
export function tamper(body: string, edit: (signed: Record<string, unknown>) => void): string {
  const parsed = JSON.parse(body) as { signed: Record<string, unknown> };
  edit(parsed.signed);
  return JSON.stringify(parsed);
}

/** An artifact-like target for `addTargets`. */
export function target(name: string, version: string, sha256Char = 'a', length = 1234) {
  return {
    path: `edge-package/${name}/${version}/${name}-${version}.tar.gz`,
    length,
    sha256: sha256Char.repeat(64),
    custom: { kind: 'edge-package', name, version, hardware: ['rv1126'] },
  };
}

/** The code and message of the TufError or UpdateError `promise` is refused with (fails if it is not). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TufError || error instanceof UpdateError, String(error));
  return `${error.code}: ${error.message}`;
}
