/**
 * Server monitoring in the gateway (issue 18, decision 039): the operator alert rules
 * (`/v1/alert-rules`, checked with promtool, applied to Prometheus by one gateway under the
 * `prometheus-rules` lease), Alertmanager's webhook (alerts → `server.alert` fleet events), its
 * silences and the alerts it holds (`/v1/alert-silences`, `/v1/monitoring/alerts`).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AuthEnv } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { alertRuleRoutes } from './rule-routes.ts';
import { silenceRoutes } from './silence-routes.ts';
import { alertWebhookRoutes } from './webhook.ts';

export { ALERT_RULES_CHANGED } from '../fleet-notices.ts';
export { AlertmanagerClient } from './alertmanager.ts';
export type { MonitoringOptions } from './options.ts';
export { openPrometheus, type PrometheusClient, PrometheusError } from './prometheus-client.ts';
export { Promtool, PromtoolError, type PromtoolOptions, type RuleCheck } from './promtool.ts';
export {
  AlertRuleApplier,
  type ApplyOutcome,
  alertRuleMetrics,
  OPERATOR_RULES_FILE,
  RULES_LEASE,
  type RuleApplierOptions,
  startRuleApplier,
} from './rule-applier.ts';
export { type AlertRule, OPERATOR_GROUP, renderRuleGroup, ruleExpression, rulesVersion } from './rules.ts';
export { serverRoutes } from './server-routes.ts';
export { alertKey, isAlertWebhook, MAX_WEBHOOK_BYTES, toAlertEvent } from './webhook.ts';

/** Every monitoring route: the rules, the webhook, silences and alerts. */
export function monitoringRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.route('/', alertWebhookRoutes(deps));
  app.route('/', alertRuleRoutes(deps));
  app.route('/', silenceRoutes(deps));
  return app;
}
