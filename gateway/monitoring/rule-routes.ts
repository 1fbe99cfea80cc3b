/**
 * `/v1/alert-rules`: the operator alert rules. Operators read and write them (like the
 * configuration). Each write renders the WHOLE group with the change and has `promtool check
 * rules` judge it first: a group promtool refuses is a 400 with promtool's message, and neither
 * the database nor the running rules change. A write is audited and every gateway is told, so
 * the one holding the `prometheus-rules` lease applies it at once (rule-applier.ts).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { ALERT_RULES_CHANGED } from '../fleet-notices.ts';
import { AUTH_ERRORS, BODY_ERRORS, ErrorSchema, json, jsonBody } from '../routes/schemas.ts';
import { Promtool, PromtoolError } from './promtool.ts';
import { AlertRuleSchema, RuleCreate, RuleNameParam, RuleUpdate } from './rule-schemas.ts';
import {
  deleteAlertRule,
  insertAlertRule,
  listAlertRules,
  type StoredAlertRule,
  updateAlertRule,
} from './rule-store.ts';
import { type AlertRule, OPERATOR_GROUP, renderRuleGroup, ruleExpression, rulesVersion } from './rules.ts';

const REFUSED = {
  ...BODY_ERRORS,
  400: json(ErrorSchema, 'Not valid, or promtool refused the rule group (its message in `message`)'),
  503: json(ErrorSchema, 'promtool could not be run, or too many checks at once'),
};

const list = createRoute({
  method: 'get',
  path: '/v1/alert-rules',
  summary: 'The operator alert rules (the Prometheus rule group devicehub-operator) and its version',
  responses: {
    200: json(
      z.object({
        group: z.string(),
        version: z.string().openapi({ description: 'SHA-256 of the rendered group' }),
        rules: z.array(AlertRuleSchema),
      }),
      'The rules',
    ),
    ...AUTH_ERRORS,
  },
});

const create = createRoute({
  method: 'post',
  path: '/v1/alert-rules',
  summary: 'Adds an alert rule, checked with promtool with the whole group',
  request: { body: jsonBody(RuleCreate) },
  responses: {
    201: json(AlertRuleSchema, 'Added'),
    409: json(ErrorSchema, 'A rule of that name exists'),
    ...REFUSED,
  },
});

const update = createRoute({
  method: 'put',
  path: '/v1/alert-rules/{name}',
  summary: 'Replaces an alert rule, checked with promtool with the whole group',
  request: { params: RuleNameParam, body: jsonBody(RuleUpdate) },
  responses: { 200: json(AlertRuleSchema, 'Replaced'), 404: json(ErrorSchema, 'No such rule'), ...REFUSED },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/alert-rules/{name}',
  summary: 'Deletes an alert rule',
  request: { params: RuleNameParam },
  responses: { 204: { description: 'Deleted' }, 404: json(ErrorSchema, 'No such rule'), ...REFUSED },
});

const view = (rule: StoredAlertRule) => ({ ...rule, expr: ruleExpression(rule) });

export function alertRuleRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const promtool = deps.monitoring?.promtool ?? new Promtool();
  app.use('/v1/alert-rules', requireAuth(deps.auth, 'operator'));
  app.use('/v1/alert-rules/*', requireAuth(deps.auth, 'operator'));

  /** promtool's verdict on the group `rules` would make; throws the API's refusal. */
  const check = async (rules: readonly AlertRule[]) => {
    let verdict: Awaited<ReturnType<Promtool['checkRules']>>;
    try {
      verdict = await promtool.checkRules(renderRuleGroup(rules));
    } catch (error) {
      if (error instanceof PromtoolError) throw new ApiError('UNAVAILABLE', error.message);
      throw error;
    }
    if (!verdict.ok)
      throw new ApiError('INVALID_REQUEST', `promtool refused the rule group: ${verdict.message}`, {
        promtool: verdict.message,
      });
  };
  const written = async (actor: string, action: string, name: string, details?: Record<string, unknown>) => {
    await audit(deps.db, { actor, action, target: `alert-rule/${name}`, ...(details ? { details } : {}) });
    await deps.view.changed(ALERT_RULES_CHANGED);
  };

  app.openapi(list, async (c) => {
    const rules = await listAlertRules(deps.db);
    const version = rulesVersion(renderRuleGroup(rules));
    return c.json({ group: OPERATOR_GROUP, version, rules: rules.map(view) }, 200);
  });

  app.openapi(create, async (c) => {
    const rule: AlertRule = c.req.valid('json');
    const rules = await listAlertRules(deps.db);
    if (rules.some((r) => r.name === rule.name)) throw new ApiError('CONFLICT', `Rule ${rule.name} exists`);
    await check([...rules, rule]);
    const stored = await insertAlertRule(deps.db, rule);
    if (stored === undefined) throw new ApiError('CONFLICT', `Rule ${rule.name} exists`);
    await written(actorOf(c.get('principal')), 'alert-rule.create', rule.name, {
      expr: ruleExpression(rule),
    });
    return c.json(view(stored), 201);
  });

  app.openapi(update, async (c) => {
    const { name } = c.req.valid('param');
    const rule: AlertRule = { ...c.req.valid('json'), name };
    const rules = await listAlertRules(deps.db);
    if (!rules.some((r) => r.name === name)) throw new ApiError('NOT_FOUND', `No rule ${name}`);
    await check([...rules.filter((r) => r.name !== name), rule]);
    const stored = await updateAlertRule(deps.db, rule);
    if (stored === undefined) throw new ApiError('NOT_FOUND', `No rule ${name}`);
    await written(actorOf(c.get('principal')), 'alert-rule.update', name, { expr: ruleExpression(rule) });
    return c.json(view(stored), 200);
  });

  app.openapi(remove, async (c) => {
    const { name } = c.req.valid('param');
    const rules = await listAlertRules(deps.db);
    if (!rules.some((r) => r.name === name)) throw new ApiError('NOT_FOUND', `No rule ${name}`);
    await check(rules.filter((r) => r.name !== name));
    if (!(await deleteAlertRule(deps.db, name))) throw new ApiError('NOT_FOUND', `No rule ${name}`);
    await written(actorOf(c.get('principal')), 'alert-rule.delete', name);
    return c.body(null, 204);
  });
  return app;
}
