/**
 * Agents for the rollout tests, without processes: they read the `update` commands the edge
 * actors write to the outbox (XRANGE, so no consumer group is disturbed), count them per edge,
 * and answer each once through the edge actor's `updateState` as a policy says (healthy, failed,
 * rolled back, or nothing).
 */
import { type ActorClient, createActorClient } from '../../../actors/mod.ts';
import type { Bus } from '../../../bus/mod.ts';
import { edgeActor } from '../../actor/mod.ts';
import type { UpdateCommandArgs, UpdateState } from '../../protocol/mod.ts';

export type Answer = 'healthy' | 'failed' | 'rolled_back' | 'silent';

export interface SeenCommand {
  readonly edgeId: string;
  readonly id: string;
  readonly args: UpdateCommandArgs;
  /** Order in which the agents saw the commands (0, 1, …). */
  readonly order: number;
}

export class FakeAgents implements AsyncDisposable {
  readonly commands: SeenCommand[] = [];
  readonly #bus: Bus;
  readonly #edges: ActorClient<(typeof edgeActor)['handlers']>;
  readonly #policy: (edgeId: string, args: UpdateCommandArgs) => Answer;
  readonly #last: string[];
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;

  constructor(bus: Bus, policy: (edgeId: string, args: UpdateCommandArgs) => Answer) {
    this.#bus = bus;
    this.#edges = createActorClient(bus, edgeActor);
    this.#policy = policy;
    this.#last = Array.from({ length: bus.keyspace.tagGroups }, () => '-');
    this.#loop = this.#run();
  }

  /** Update commands an edge got. */
  of(edgeId: string): SeenCommand[] {
    return this.commands.filter((c) => c.edgeId === edgeId);
  }

  async #run(): Promise<void> {
    const { redis, keyspace } = this.#bus;
    while (!this.#stop.signal.aborted) {
      let read = 0;
      for (let g = 0; g < keyspace.tagGroups; g++) {
        const from = this.#last[g] === '-' ? '-' : `(${this.#last[g]}`;
        const entries = (await redis.xrange(keyspace.outbox(g), from, '+', 'COUNT', 500)) as [
          string,
          string[],
        ][];
        for (const [id, fields] of entries) {
          this.#last[g] = id;
          read++;
          const event = JSON.parse(fields[1] ?? '{}') as Record<string, unknown>;
          if (event.type === 'command' && event.command === 'update')
            await this.#answer(String(event.edgeId), String(event.id), event.args as UpdateCommandArgs);
        }
      }
      if (read === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async #answer(edgeId: string, id: string, args: UpdateCommandArgs): Promise<void> {
    this.commands.push({ edgeId, id, args, order: this.commands.length });
    const answer = args.rollback ? 'rolled_back' : this.#policy(edgeId, args);
    if (answer === 'silent') return;
    const t = args.targets[0]!;
    const report = (state: UpdateState) => ({
      id: edgeId,
      method: 'updateState' as const,
      payload: { rollout: args.rollout, target: t.path, name: t.name, version: t.version, state },
    });
    const states: UpdateState[] =
      answer === 'healthy' ? ['downloading', 'verified', 'installing', 'healthy'] : ['downloading', answer];
    await this.#edges.sendMany(states.map(report));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }
}
