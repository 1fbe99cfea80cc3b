/** The operator alert rules' shapes in the OpenAPI document (`/v1/alert-rules`). */
import { z } from '@hono/zod-openapi';
import { ALERT_OPS, ALERT_SEVERITIES } from '../db/schema.ts';
import { safeString } from '../routes/schemas.ts';
import { LABEL_NAME_PATTERN, RULE_NAME_PATTERN } from './rules.ts';

const ruleName = safeString
  .regex(RULE_NAME_PATTERN, 'a rule name: a letter, then letters, digits or _ (at most 128)')
  .openapi({ example: 'HubHostLoadHigh' });

export const RuleNameParam = z.object({
  name: ruleName.openapi({ param: { name: 'name', in: 'path' } }),
});

const labels = z
  .record(z.string(), safeString.max(1024))
  .superRefine((record, ctx) => {
    const keys = Object.keys(record);
    if (keys.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 labels', input: record });
    for (const key of keys) {
      if (!LABEL_NAME_PATTERN.test(key) || key.startsWith('__'))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'a label name: a letter or _, then letters, digits or _; not __…',
          input: key,
        });
      else if (key === 'severity' || key === 'alertname')
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} is the rule's own`, input: key });
    }
  })
  .openapi({ description: 'More labels on the alert (routing, team)', example: { team: 'ops' } });

/** What a rule says, without its name (PUT's body; POST's adds the name). */
export const RuleFields = z.object({
  metric: safeString.min(1).max(4096).openapi({
    description: 'A PromQL expression; the alert fires when `(<metric>) <op> <threshold>` holds',
    example: 'node_load1',
  }),
  op: z.enum(ALERT_OPS),
  threshold: z.number().openapi({ example: 4 }),
  forSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .openapi({ description: 'How long the condition must hold before the alert fires', example: 120 }),
  severity: z.enum(ALERT_SEVERITIES),
  summary: safeString
    .min(1)
    .max(1024)
    .openapi({ description: 'The alert’s summary (may use {{ $value }}, {{ $labels.instance }})' }),
  labels: labels.optional(),
});

export const RuleCreate = RuleFields.extend({ name: ruleName }).openapi('AlertRuleCreate');
export const RuleUpdate = RuleFields.openapi('AlertRuleUpdate');

export const AlertRuleSchema = RuleFields.extend({
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  expr: z.string().openapi({ description: 'The expression Prometheus evaluates' }),
  updatedAt: z.number().int().openapi({ description: 'ms since the epoch' }),
}).openapi('AlertRule');
