/**
 * Counter traffic for the fault tests on hub processes: a round of `add {seq}` to many counters,
 * and waiting until every one of them has counted a number of rounds.
 */
import type { Keyspace } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import type { TestRedis } from '../../infra/test-redis.ts';
import type { ActorClient } from '../client.ts';
import { readActorState } from '../read-state.ts';
import type { CounterState, counterActor } from './actors.ts';

/** An actor's persisted state, if it committed one. */
export async function actorState<S>(
  t: TestRedis,
  keyspace: Keyspace,
  address: string,
): Promise<S | undefined> {
  return (await readActorState<S>(t.bus(keyspace), address))?.state;
}

/** One message `add {seq}` to each of the counters `<prefix>0..<prefix>{actors-1}`. */
export function sendRound(
  client: ActorClient<typeof counterActor.handlers>,
  round: { readonly prefix: string; readonly actors: number; readonly seq: number },
) {
  const { prefix, actors, seq } = round;
  return client.sendMany(
    Array.from({ length: actors }, (_, i) => ({ id: `${prefix}${i}`, method: 'add', payload: { seq } })),
  );
}

/** Waits until every counter `<prefix>0..` has counted `rounds`; resolves with their states. */
export async function countersReach(
  t: TestRedis,
  keyspace: Keyspace,
  until: {
    readonly prefix: string;
    readonly actors: number;
    readonly rounds: number;
    readonly timeoutMs: number;
  },
): Promise<CounterState[]> {
  const { prefix, actors, rounds, timeoutMs } = until;
  const states = () =>
    Promise.all(
      Array.from({ length: actors }, (_, i) =>
        actorState<CounterState>(t, keyspace, `counter/${prefix}${i}`),
      ),
    );
  await waitFor(async () => (await states()).every((s) => s?.count === rounds), {
    timeoutMs,
    message: `every counter to reach ${rounds}`,
    explain: async () =>
      `[count, lastSeq, outOfOrder, duplicates] ${JSON.stringify(
        (await states()).map((s) => (s ? [s.count, s.lastSeq, s.outOfOrder, s.duplicates] : null)),
      )}`,
  });
  return (await states()) as CounterState[];
}
