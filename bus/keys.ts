/**
 * The one place where DeviceHub names its Redis keys.
 *
 * Placement and Redis Cluster slots are decided here, once:
 * - an actor address (`edge/<edgeId>`) hashes to one of `shards` shards (the unit of placement
 *   and leasing);
 * - a shard belongs to one of `tagGroups` hash-tag groups; every key of a shard carries the
 *   group's hash tag, so any script that touches several shards of one group runs in one slot.
 *   One group (the default) suits a single Redis instance: a whole turn is one read and one
 *   commit. On Redis Cluster, more groups spread the load over the masters.
 */
import { fnv1a32 } from './hash.ts';

export const CONSUMER_GROUP = 'hub';

export interface KeyspaceOptions {
  /** Namespace prefix; tests use a random one each. Default `dh`. */
  prefix?: string;
  /** Number of shards actor addresses hash into. Fixed for a cluster's lifetime. Default 1024. */
  shards?: number;
  /** Number of Redis Cluster hash-tag groups the shards are spread over. Default 1. */
  tagGroups?: number;
}

export interface ShardKeys {
  readonly shard: number;
  readonly group: number;
  /** Stream: the shard's mailbox; every entry names the actor it is for. */
  readonly mailbox: string;
  /** Hash: `node`, `epoch` (monotonic fencing token), `until` (ms, Redis clock). */
  readonly lease: string;
  /** Hash: actor address → `{"id": lastAppliedEntryId, "s": state}` as JSON. */
  readonly state: string;
}

/** The Ezviz keys (clips/ezviz): one hash tag, so the budget script touches them in one slot. */
export interface EzvizKeys {
  /** String: the cluster's access token as JSON `{"token","expireTime"}`, expiring with it. */
  readonly token: string;
  /** Hash: the rate budget's token bucket, `tokens` and `at` (ezviz-budget.lua). */
  readonly bucket: string;
  /** Sorted set: the calls granted in the budget's sliding window (ezviz-budget.lua). */
  readonly grants: string;
  /** String: the cooldown after a 10007/10029 answer; its PTTL is what is left (ezviz-cooldown.lua). */
  readonly cooldown: string;
  /** String: rate-limit answers in a row, for the growing cooldown (ezviz-cooldown.lua). */
  readonly strikes: string;
}

export interface Keyspace {
  readonly prefix: string;
  readonly shards: number;
  readonly tagGroups: number;
  shardOf(address: string): number;
  groupOf(shard: number): number;
  shard(shard: number): ShardKeys;
  /** Stream: effects actors hand to the outside world (alarms, online/offline), per tag group. */
  outbox(group: number): string;
  /** String: a server alert's state already in the group's outbox (alert-event.lua); `key` is a hex hash. */
  alertSeen(group: number, key: string): string;
  /**
   * Stream: the latest-value events actors `publish` (wall-screen tiles), per tag group, one entry
   * per commit: `n` (the group's live number, liveSeq) and `e` (the commit's events, a JSON
   * array); kept for LIVE_RETENTION_MS (Redis clock). A reader that finds a gap in `n` fell
   * behind the trim (bus/live.ts).
   */
  live(group: number): string;
  /** String: the number of the group's last live entry. */
  liveSeq(group: number): string;
  /** Sorted set: durable timers of the group, member `<shard>|<address>|<name>`, scored by due time (ms). */
  timers(group: number): string;
  /** Hash: timer member → JSON `{"name","data"}`, for timers set with data only (decision 060). */
  timerData(group: number): string;
  /** Hash: `<shard>:<entryId>` → attempts at an entry that keeps coming back after node deaths. */
  attempts(group: number): string;
  /** Set: shard numbers of the tag group whose mailbox has undelivered entries. */
  ready(group: number): string;
  /** The group's mailbox key with `%d` in place of the shard number (for read-ready.lua). */
  mailboxTemplate(group: number): string;
  /** The group's lease key with `%d` in place of the shard number (for read-ready.lua). */
  leaseTemplate(group: number): string;
  /** Sorted set: live hub nodes scored by heartbeat expiry (ms, Redis clock). */
  readonly members: string;
  /** Hash: node id → JSON stats, refreshed by each node every second. */
  readonly nodeStats: string;
  /** Hash: the cluster's fixed layout (`shards`, `tagGroups`); nodes refuse a mismatch. */
  readonly layout: string;
  /** Stream: messages no actor could take, each with the reason. */
  readonly deadLetters: string;
  /**
   * String: bytes of dead letters stored for an edge (`-`: messages that name no edge of the fleet)
   * in the current budget window; expires with the window. Same slot as the stream.
   */
  deadLetterBudget(edge: string): string;
  /** Sorted set: edge (or `-`) → device messages the links dead-lettered for it, stored or not. */
  readonly deadLetterEdges: string;
  /** Hash: error code → device messages dead-lettered with it; `unstored` → counted over budget. */
  readonly deadLetterTotals: string;
  /**
   * Hash: outcome (`accepted`, `dropped_rate`, `dropped_bytes`, `malformed`, `no_store`) → edges'
   * log lines the links counted with it (edge/link/log-intake.ts), added to by every link process.
   */
  readonly edgeLogLines: string;
  /** Hash: per-edge first-handled times after a takeover (benchmarks only). */
  readonly traceResume: string;
  /** Set: the ids of the fleet's provisioned edges (links refuse others when they check it). */
  readonly fleet: string;
  /** Moved with every change of `fleet` (fleetChange): a link reloads its copy only when it moved. */
  readonly fleetVersion: string;
  /** Pub/sub channel: the gateway's configuration, edges or brokers changed (payload: what). */
  readonly configChanges: string;
  /** Hash: remote port → the tunnel holding it (the pool shared by every gateway and node). */
  readonly ports: string;
  /** Hash: claim (`<edgeId>|<service>`) → the tunnel holding it: one open tunnel per edge and service. */
  readonly portClaims: string;
  /** String: the holder of a named lease (named-lease.ts), e.g. `sink-0`, `webhook-3`. */
  lease(name: string): string;
  /** Prefix of the BullMQ queues (the outbox to the web backend). */
  readonly bullPrefix: string;
  /** String: the effective alarm-clip policy as JSON, written by the gateways, read by the hub nodes. */
  readonly clipPolicy: string;
  /** String: the effective recognition policy as JSON, written by the gateways, read by the hub nodes. */
  readonly recognitionPolicy: string;
  /**
   * Hash: edge id → `1` (online) or `0` (offline), written by the gateway's outbox sink from
   * edge.online/edge.offline (gateway/fleet-signals); edges never seen have no field.
   */
  readonly presence: string;
  /** String: the fleet's edges online/offline/never seen per building as JSON, recounted under a lease. */
  readonly fleetSignals: string;
  /**
   * String: a caller's read-your-writes token, the primary's WAL position after its last write as
   * 16 hex digits (read-after.lua); expires when the replica must have caught up. No hash tag: one key per command.
   */
  readAfter(caller: string): string;
  /** The Ezviz Open Platform state every clip worker shares (one slot: hash tag `{ezviz}`). */
  readonly ezviz: EzvizKeys;
}

export function createKeyspace(options: KeyspaceOptions = {}): Keyspace {
  const { prefix = 'dh', shards = 1024, tagGroups = 1 } = options;
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) {
    throw new RangeError(`Cannot create keyspace: prefix must match [A-Za-z0-9_.-]{1,32}, got "${prefix}"`);
  }
  if (!Number.isInteger(shards) || shards < 1 || shards > 16384) {
    throw new RangeError(`Cannot create keyspace: shards must be an integer 1..16384, got ${shards}`);
  }
  if (!Number.isInteger(tagGroups) || tagGroups < 1 || tagGroups > shards) {
    throw new RangeError(
      `Cannot create keyspace: tagGroups must be an integer 1..${shards}, got ${tagGroups}`,
    );
  }
  const cache = new Map<number, ShardKeys>();
  const groupOf = (shard: number): number => shard % tagGroups;
  const meta = `${prefix}:{meta}`;
  return {
    prefix,
    shards,
    tagGroups,
    shardOf: (address) => fnv1a32(address) % shards,
    groupOf,
    shard(shard) {
      let keys = cache.get(shard);
      if (keys === undefined) {
        if (!Number.isInteger(shard) || shard < 0 || shard >= shards) {
          throw new RangeError(`Cannot name shard keys: shard must be 0..${shards - 1}, got ${shard}`);
        }
        const group = groupOf(shard);
        const base = `${prefix}:{g${group}}:s${shard}`;
        keys = {
          shard,
          group,
          mailbox: `${base}:mb`,
          lease: `${base}:lease`,
          state: `${base}:state`,
        };
        cache.set(shard, keys);
      }
      return keys;
    },
    outbox: (group) => `${prefix}:{g${group}}:outbox`,
    alertSeen: (group, key) => `${prefix}:{g${group}}:alert-seen:${key}`,
    live: (group) => `${prefix}:{g${group}}:live`,
    liveSeq: (group) => `${prefix}:{g${group}}:live-seq`,
    ready: (group) => `${prefix}:{g${group}}:ready`,
    attempts: (group) => `${prefix}:{g${group}}:attempts`,
    timers: (group) => `${prefix}:{g${group}}:timers`,
    timerData: (group) => `${prefix}:{g${group}}:tdata`,
    mailboxTemplate: (group) => `${prefix}:{g${group}}:s%d:mb`,
    leaseTemplate: (group) => `${prefix}:{g${group}}:s%d:lease`,
    members: `${meta}:members`,
    nodeStats: `${meta}:stats`,
    layout: `${meta}:layout`,
    deadLetters: `${prefix}:{dlq}:deadletters`,
    deadLetterBudget: (edge) => `${prefix}:{dlq}:dl-budget:${edge}`,
    deadLetterEdges: `${prefix}:{dlq}:dl-edges`,
    deadLetterTotals: `${prefix}:{dlq}:dl-totals`,
    edgeLogLines: `${meta}:edge-log-lines`,
    traceResume: `${prefix}:{trace}:resume`,
    fleet: `${meta}:fleet`,
    fleetVersion: `${meta}:fleet-version`,
    configChanges: `${meta}:config-changes`,
    ports: `${meta}:ports`,
    portClaims: `${meta}:port-claims`,
    lease: (name) => `${meta}:lease:${name}`,
    bullPrefix: `${prefix}:bull`,
    clipPolicy: `${meta}:clip-policy`,
    recognitionPolicy: `${meta}:recognition-policy`,
    presence: `${meta}:presence`,
    fleetSignals: `${meta}:fleet-signals`,
    readAfter: (caller) => `${prefix}:read-after:${caller}`,
    ezviz: {
      token: `${prefix}:{ezviz}:token`,
      bucket: `${prefix}:{ezviz}:bucket`,
      grants: `${prefix}:{ezviz}:grants`,
      cooldown: `${prefix}:{ezviz}:cooldown`,
      strikes: `${prefix}:{ezviz}:strikes`,
    },
  };
}

/**
 * Groups items by the hash-tag group of their shard: what one script or one multi-key command
 * may touch together on Redis Cluster.
 */
export function groupByTag<T extends { readonly shard: number }>(
  keyspace: Keyspace,
  items: Iterable<T>,
): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const group = keyspace.groupOf(item.shard);
    const list = groups.get(group);
    if (list) list.push(item);
    else groups.set(group, [item]);
  }
  return groups;
}

/** One character per shard, '1' for the given shards: how scripts learn which shards a node reads. */
export function shardMask(keyspace: Keyspace, shards: ReadonlySet<number>): string {
  let mask = '';
  for (let s = 0; s < keyspace.shards; s++) mask += shards.has(s) ? '1' : '0';
  return mask;
}

/** A durable timer, as its member in the tag group's timers set names it. */
export interface TimerMember {
  readonly shard: number;
  readonly address: string;
  readonly name: string;
}

/**
 * The member of a durable timer in its group's timers set: `<shard>|<address>|<name>`
 * (fire-timers.lua reads the shard and address back out of it).
 */
export function timerMember(shard: number, address: string, name: string): string {
  return `${shard}|${address}|${name}`;
}

/** The parts of a timer member (`timerMember`), or undefined when it is not one. */
export function parseTimerMember(member: string): TimerMember | undefined {
  const first = member.indexOf('|');
  const last = member.lastIndexOf('|');
  if (first <= 0 || last === first) return undefined;
  const shard = Number(member.slice(0, first));
  if (!Number.isInteger(shard) || shard < 0) return undefined;
  return { shard, address: member.slice(first + 1, last), name: member.slice(last + 1) };
}

/** A claim in the port pool: `<edgeId>|<service>`, one open tunnel per edge and service. */
export function tunnelClaim(edgeId: string, service: string): string {
  return `${edgeId}|${service}`;
}

/** The edge and service of a tunnel claim (`tunnelClaim`), or undefined when it is not one. */
export function parseTunnelClaim(claim: string): { edgeId: string; service: string } | undefined {
  const bar = claim.lastIndexOf('|');
  if (bar <= 0) return undefined;
  return { edgeId: claim.slice(0, bar), service: claim.slice(bar + 1) };
}

/**
 * A web-backend partition's BullMQ queue (under `bullPrefix`). The braces are a Redis Cluster
 * hash tag: BullMQ's scripts touch several keys of one queue at once, so they must share a slot;
 * each partition has its own tag, so the partitions spread over the cluster's masters.
 */
export function webhookQueue(partition: number): string {
  return `{webhook-${partition}}`;
}

/**
 * The alarm clips' BullMQ queue (under `bullPrefix`): one queue, one hash tag, taken by every clip
 * worker; the job id is the clip id, so a clip is queued once however often it is requested.
 */
export function clipQueue(): string {
  return '{clips}';
}

/**
 * A recognition model's BullMQ queue (under `bullPrefix`): one queue per model, one hash tag each,
 * taken by every `devicehub recognize` worker running that model; the job id is
 * `recognitionJobId(edgeId, eventId)`, so an event is queued once however often it is requested.
 */
export function recognitionQueue(model: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(model)) {
    throw new RangeError(
      `Cannot name the recognition queue: model must match [A-Za-z0-9_.-]{1,64}, got "${model}"`,
    );
  }
  return `{vision-${model}}`;
}

/**
 * The BullMQ job id of a vision event's recognition: `<edgeId>/<eventId>`, one job per event
 * however often it is requested. BullMQ refuses a `:` in a custom id and an edge id may hold one,
 * so the edge id is percent-encoded (`E:1` → `E%3A1`); an event id never holds `/`, `:` or `%`.
 */
export function recognitionJobId(edgeId: string, eventId: string): string {
  return `${encodeURIComponent(edgeId)}/${eventId}`;
}

/** The named lease (`Keyspace.lease`) that makes one worker in the cluster deliver a partition. */
export function webhookLease(partition: number): string {
  return `webhook-${partition}`;
}

/** The named lease of the hub nodes' mail relay for a tag group: one relay per group, so mail keeps its order. */
export function mailLease(group: number): string {
  return `mail-${group}`;
}

/** The named lease of the gateway's outbox sink for a tag group: one sink per group in the cluster. */
export function sinkLease(group: number): string {
  return `sink-${group}`;
}

/** The named lease of the TUF repository's upkeep (re-signing the timestamp, and any role near expiry): one gateway at a time. */
export const TUF_UPKEEP_LEASE = 'tuf-upkeep';

/** The named lease of the clips' retention sweep: one clip worker in the cluster sweeps at a time. */
export const CLIP_RETENTION_LEASE = 'clip-retention';

/** The named lease of an Ezviz access-token refresh: one process fetches a new token at a time. */
export const EZVIZ_TOKEN_LEASE = 'ezviz-token';
