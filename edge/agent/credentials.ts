/**
 * The edge's own secret, as it changes: the one it was provisioned with, or the newest a rotation
 * delivered through its configuration (`credentials.secret`), kept in `<dataDir>/credentials.json`
 * (mode 0600, written atomically) so a restart uses the newest. A rotation is adopted in two steps:
 * the configuration service first (the edge's first request with the new secret confirms it, and
 * the hub moves the broker's password), then the broker connection.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from './logger.ts';

/** What a configuration carries after a rotation (`gateway/credentials/`). */
export interface DeliveredCredentials {
  readonly version: number;
  /** Only while the rotation waits for this edge, and only to the edge itself. */
  readonly secret?: string;
}

const FILE = 'credentials.json';

/** The `Authorization` header an edge sends the gateway with its own credentials (`Basic <edgeId:secret>`). */
export function edgeAuthorization(edgeId: string, password: string): string {
  return `Basic ${Buffer.from(`${edgeId}:${password}`).toString('base64')}`;
}

export class AgentCredentials {
  readonly #file: string;
  readonly #log: Logger;
  #password: string;
  #version: number;
  /** Adopted at the configuration service, not yet on the broker connection. */
  #brokerBehind = false;

  constructor(options: { dataDir: string; password: string; log: Logger }) {
    this.#file = join(options.dataDir, FILE);
    this.#log = options.log;
    this.#password = options.password;
    this.#version = 0;
    const saved = readSaved(this.#file);
    if (saved !== undefined) {
      this.#password = saved.password;
      this.#version = saved.version;
    }
  }

  get password(): string {
    return this.#password;
  }

  get version(): number {
    return this.#version;
  }

  /** Takes a delivered secret (saved before use); true when it is new. */
  adopt(delivered: DeliveredCredentials | undefined): boolean {
    if (delivered?.secret === undefined || delivered.secret === this.#password) return false;
    const temporary = `${this.#file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ version: delivered.version, password: delivered.secret }), {
      mode: 0o600,
    });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.#file);
    this.#password = delivered.secret;
    this.#version = delivered.version;
    this.#brokerBehind = true;
    this.#log.info({ credentialsVersion: delivered.version }, 'new credentials adopted');
    return true;
  }

  /** Whether the broker connection still uses the secret before; clears the flag. */
  takeBrokerSwitch(): boolean {
    const behind = this.#brokerBehind;
    this.#brokerBehind = false;
    return behind;
  }
}

function readSaved(file: string): { version: number; password: string } | undefined {
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; password?: unknown };
    if (typeof saved.password === 'string' && typeof saved.version === 'number')
      return { version: saved.version, password: saved.password };
  } catch {
    // No file yet (or a torn one, which rename makes impossible): the provisioned secret.
  }
  return undefined;
}
