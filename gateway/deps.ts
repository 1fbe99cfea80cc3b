/** What the gateway's routes work with: one object, built once per gateway process. */
import type { Logger } from '../actors/mod.ts';
import type { Keyspace, Redis } from '../bus/mod.ts';
import type { Authenticator } from './auth.ts';
import type { Db } from './db/database.ts';
import type { FleetView } from './fleet-view.ts';

export interface GatewayDeps {
  readonly db: Db;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly view: FleetView;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Longest long-poll a client may ask for, seconds (default 60). */
  readonly maxWaitSeconds?: number;
}
