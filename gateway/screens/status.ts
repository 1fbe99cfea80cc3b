/**
 * A screen's report (`POST /v1/screens/{id}/status`) turned into its edge actor's messages: an
 * `updateState` (the same states as the agent's, UpdateStatePayload) while it moves to a bundle a
 * rollout assigned, and always a heartbeat of its own — the bundle it runs and its health (the
 * page alive, the data fresh) into the shadow's `heartbeat`, which also keeps the screen online.
 */
import { z } from '@hono/zod-openapi';
import type { Bus, MailboxMessage } from '../../bus/mod.ts';
import { UPDATE_STATES, type UpdateStatePayload } from '../../edge/protocol/mod.ts';
import { safeString } from '../routes/schemas.ts';

const Text = safeString.min(1).max(256);

export const ScreenStatus = z
  .object({
    boot: safeString
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .openapi({ description: 'A new id per page load (resets sequence tracking)' }),
    seq: z
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: 'Per boot, from 1, +1 a report' }),
    name: Text.optional().openapi({ description: 'The running bundle’s name' }),
    version: Text.optional().openapi({ description: 'The running bundle’s version' }),
    update: z
      .object({
        rollout: Text,
        target: safeString.min(1).max(1024).openapi({ description: 'TUF target path of the bundle' }),
        name: Text,
        version: Text,
        state: z.enum(UPDATE_STATES),
        progress: z.number().min(0).max(100).optional().openapi({ description: 'downloading: percent' }),
        reason: safeString.max(1024).optional(),
      })
      .optional()
      .openapi({ description: 'Where the screen is in moving to a bundle a rollout assigned' }),
    health: z.object({
      pageAlive: z.boolean(),
      dataFresh: z.boolean(),
      bundleHealthy: z.boolean().optional(),
    }),
  })
  .openapi('ScreenStatus');
export type ScreenStatus = z.infer<typeof ScreenStatus>;

/** The messages a report becomes, in the order the actor applies them. */
export function statusMessages(id: string, status: ScreenStatus, now: number): MailboxMessage[] {
  const address = `edge/${id}`;
  const out: MailboxMessage[] = [];
  if (status.update !== undefined) {
    const { progress, ...update } = status.update;
    const payload: UpdateStatePayload = {
      ...update,
      // The agent's rule (edge/protocol): a progress comes with downloading only, in whole percent.
      ...(progress !== undefined && update.state === 'downloading' ? { progress: Math.round(progress) } : {}),
      ts: now,
    };
    out.push({ address, method: 'updateState', payload });
  }
  out.push({
    address,
    method: 'telemetry',
    payload: {
      kind: 'heartbeat',
      boot: status.boot,
      seq: status.seq,
      ts: now,
      data: {
        screen: true,
        bundle: status.name ?? null,
        version: status.version ?? null,
        ...status.health,
      },
    },
  });
  return out;
}

/** Sends a report's messages to the screen's edge actor (one round trip, order kept). */
export async function reportStatus(bus: Bus, id: string, status: ScreenStatus): Promise<number> {
  const messages = statusMessages(id, status, Date.now());
  await bus.enqueue(messages);
  return messages.length;
}
