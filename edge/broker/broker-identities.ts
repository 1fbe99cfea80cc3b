/**
 * The edges' identities on the broker, kept by the admin client: make an edge able to connect
 * (its client and its role), rotate its password (the old one fails at once and dynsec kicks the
 * sessions logged in with it), remove it (dynsec kicks it), one at a time or in bulk. Every
 * operation is idempotent, so a retry or a reconciler may repeat it.
 */
import {
  BrokerAdminError,
  type DynsecClient,
  type DynsecCommand,
  type DynsecResponse,
} from './dynsec-client.ts';
import { edgeAcls, edgeRoleName, isEdgeUser, LINK_ACLS, LINK_ROLE } from './identities.ts';

export interface EdgeCredentials {
  readonly id: string;
  readonly password: string;
}

const check = (id: string) => {
  if (!isEdgeUser(id)) throw new RangeError(`Not an edge id: ${JSON.stringify(id)}`);
};

/** Fails with COMMAND_FAILED unless every answer is a success or one of the `tolerated` errors. */
function expect(
  answers: readonly DynsecResponse[],
  targets: readonly string[],
  tolerated: readonly string[],
): void {
  answers.forEach((a, i) => {
    if (a.error !== undefined && !tolerated.includes(a.error))
      throw new BrokerAdminError('COMMAND_FAILED', `${a.command} ${targets[i]}: ${a.error}`, a.error);
  });
}

export class BrokerIdentities {
  readonly #dynsec: DynsecClient;

  constructor(dynsec: DynsecClient) {
    this.#dynsec = dynsec;
  }

  get connected(): boolean {
    return this.#dynsec.connected;
  }

  /**
   * The hub's side, on a broker set up with only an admin (`mosquitto_ctrl dynsec init`): every
   * default access denied, the links' role, and the link users created if absent (an existing
   * one keeps its password: changing it would kick the running links).
   */
  async ensureHub(links: Readonly<Record<string, string>>): Promise<void> {
    for (const name of Object.keys(links)) {
      if (isEdgeUser(name)) throw new RangeError(`A link user must not be a possible edge id, got "${name}"`);
    }
    const answers = await this.#dynsec.run([
      {
        command: 'setDefaultACLAccess',
        acls: ['publishClientSend', 'publishClientReceive', 'subscribe', 'unsubscribe'].map((acltype) => ({
          acltype,
          allow: false,
        })),
      },
      { command: 'createRole', rolename: LINK_ROLE, acls: LINK_ACLS },
      ...Object.entries(links).map(([username, password]) => ({
        command: 'createClient',
        username,
        password,
        roles: [{ rolename: LINK_ROLE }],
      })),
    ]);
    expect(
      answers,
      ['defaultACLAccess', LINK_ROLE, ...Object.keys(links)],
      ['Role already exists', 'Client already exists'],
    );
  }

  /** The edge can connect with `password` once this returns (created, or its password set). */
  ensureEdge(id: string, password: string): Promise<void> {
    return this.ensureEdges([{ id, password }]);
  }

  async ensureEdges(edges: readonly EdgeCredentials[]): Promise<void> {
    for (const e of edges) check(e.id);
    const commands: DynsecCommand[] = edges.flatMap((e) => [
      { command: 'createRole', rolename: edgeRoleName(e.id), acls: edgeAcls(e.id) },
      {
        command: 'createClient',
        username: e.id,
        password: e.password,
        roles: [{ rolename: edgeRoleName(e.id) }],
      },
    ]);
    const answers = await this.#dynsec.run(commands);
    const targets = edges.flatMap((e) => [edgeRoleName(e.id), e.id]);
    expect(answers, targets, ['Role already exists', 'Client already exists']);
    // Clients that were there already (a retry, a stale one): the password and role asked for.
    const existing = edges.filter((_, i) => answers[2 * i + 1]?.error === 'Client already exists');
    if (existing.length > 0) {
      const modified = await this.#dynsec.run(
        existing.map((e) => ({
          command: 'modifyClient',
          username: e.id,
          password: e.password,
          roles: [{ rolename: edgeRoleName(e.id) }],
        })),
      );
      expect(
        modified,
        existing.map((e) => e.id),
        [],
      );
    }
  }

  /** Rotation: the old password stops working at once; sessions logged in with it are kicked. */
  setPassword(id: string, password: string): Promise<void> {
    return this.setPasswords([{ id, password }]);
  }

  async setPasswords(edges: readonly EdgeCredentials[]): Promise<void> {
    for (const e of edges) check(e.id);
    const answers = await this.#dynsec.run(
      edges.map((e) => ({ command: 'setClientPassword', username: e.id, password: e.password })),
    );
    expect(
      answers,
      edges.map((e) => e.id),
      [],
    );
  }

  /** The edge's client and role are gone; a connected session is kicked and cannot come back. */
  removeEdge(id: string): Promise<void> {
    return this.removeEdges([id]);
  }

  async removeEdges(ids: readonly string[]): Promise<void> {
    for (const id of ids) check(id);
    const answers = await this.#dynsec.run(
      ids.flatMap((id) => [
        { command: 'deleteClient', username: id },
        { command: 'deleteRole', rolename: edgeRoleName(id) },
      ]),
    );
    expect(
      answers,
      ids.flatMap((id) => [id, edgeRoleName(id)]),
      ['Client not found', 'Role not found'],
    );
  }

  /**
   * Every edge the broker knows: clients holding their own edge role (the hub's users, whatever
   * their names, hold none), in pages of `pageSize`.
   */
  async listEdges(pageSize = 1000): Promise<string[]> {
    const edges: string[] = [];
    for (let offset = 0; ; offset += pageSize) {
      const [answer] = await this.#dynsec.run([
        { command: 'listClients', verbose: true, count: pageSize, offset },
      ]);
      expect(answer ? [answer] : [], ['listClients'], []);
      const data = answer?.data as { clients?: unknown[]; totalCount?: number } | undefined;
      const page = (data?.clients ?? []) as { username?: unknown; roles?: { rolename?: unknown }[] }[];
      for (const c of page) {
        if (typeof c?.username !== 'string' || !isEdgeUser(c.username)) continue;
        const role = edgeRoleName(c.username);
        if (Array.isArray(c.roles) && c.roles.some((r) => r?.rolename === role)) edges.push(c.username);
      }
      if (page.length < pageSize || offset + pageSize >= (data?.totalCount ?? 0)) return edges;
    }
  }
}
