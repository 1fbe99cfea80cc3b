/**
 * The dynamic-security plugin's configuration file, written before mosquitto starts (the demo's
 * and the tests' fleets, the first start of a deployment): clients with their passwords hashed as
 * dynsec hashes them (PBKDF2-HMAC-SHA512, a 12-byte salt, base64; mosquitto 2.0's
 * `plugins/dynamic-security/auth.c`), one role per edge, the links' and the admin's roles, and
 * every default access denied. Loading a file is how thousands of edges start at once: each
 * control command rewrites the whole file (docs/decisions/015).
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  type Acl,
  ADMIN_ACLS,
  ADMIN_ROLE,
  ADMIN_USER,
  edgeAcls,
  edgeRoleName,
  isEdgeUser,
  LINK_ACLS,
  LINK_ROLE,
} from './identities.ts';

/** dynsec's own choice for new passwords (PW_DEFAULT_ITERATIONS in mosquitto 2.0). */
const ITERATIONS = 101;
const SALT_BYTES = 12;

export interface DynsecPassword {
  readonly password: string;
  readonly salt: string;
  readonly iterations: number;
}

/** A password as dynsec stores it. */
export function hashDynsecPassword(password: string, salt: Buffer = randomBytes(SALT_BYTES)): DynsecPassword {
  if (salt.length !== SALT_BYTES)
    throw new RangeError(`dynsec salts are ${SALT_BYTES} bytes, got ${salt.length}`);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 64, 'sha512');
  return { password: hash.toString('base64'), salt: salt.toString('base64'), iterations: ITERATIONS };
}

export interface DynsecConfigOptions {
  /** Edges: user name (the edge id) → password. */
  readonly edges: Readonly<Record<string, string>>;
  /** The hub's link users → password (names no edge id can be: see LINK_USER). */
  readonly links: Readonly<Record<string, string>>;
  /** The admin's password (user ADMIN_USER). */
  readonly adminPassword: string;
}

const role = (rolename: string, acls: readonly Acl[]) => ({
  rolename,
  acls: acls.map((a) => ({ ...a, priority: a.priority ?? 0 })),
});

const client = (username: string, password: string, rolename: string) => ({
  username,
  ...hashDynsecPassword(password),
  roles: [{ rolename, priority: -1 }],
});

export function dynsecConfig(options: DynsecConfigOptions): object {
  const edges = Object.entries(options.edges);
  for (const [id] of edges) {
    if (!isEdgeUser(id)) throw new RangeError(`Not an edge id: ${JSON.stringify(id)}`);
  }
  return {
    defaultACLAccess: {
      publishClientSend: false,
      publishClientReceive: false,
      subscribe: false,
      unsubscribe: false,
    },
    clients: [
      client(ADMIN_USER, options.adminPassword, ADMIN_ROLE),
      ...Object.entries(options.links).map(([name, password]) => client(name, password, LINK_ROLE)),
      ...edges.map(([id, password]) => client(id, password, edgeRoleName(id))),
    ],
    groups: [],
    roles: [
      role(ADMIN_ROLE, ADMIN_ACLS),
      role(LINK_ROLE, LINK_ACLS),
      ...edges.map(([id]) => role(edgeRoleName(id), edgeAcls(id))),
    ],
  };
}
