/**
 * Operator alert rules as Prometheus sees them: one rule group, `devicehub-operator`, each rule
 * `expr: (<metric>) <op> <threshold>` with its `for`, `labels.severity` and `annotations.summary`
 * (decision 039). The file is JSON (which is YAML; Prometheus and promtool read it, and the image
 * needs no YAML library). The rendering is deterministic (rules by name), so its SHA-256 is the
 * rules' version: the rules loop applies a group whose version differs from the one it applied.
 */
import { createHash } from 'node:crypto';
import type { AlertOp, AlertSeverity } from '../db/schema.ts';

/** The rule group's name in Prometheus (`/api/v1/rules` lists it so). */
export const OPERATOR_GROUP = 'devicehub-operator';

/** A rule's name: Prometheus's alert name (and the API's key for it). */
export const RULE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
/** A label's name (Prometheus's, not reserved `__…`). */
export const LABEL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export interface AlertRule {
  readonly name: string;
  /** A PromQL expression (`node_load1`, `rate(devicehub_alarms_total[5m])`). */
  readonly metric: string;
  readonly op: AlertOp;
  readonly threshold: number;
  readonly forSeconds: number;
  readonly severity: AlertSeverity;
  readonly summary: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The rule's alert expression. */
export function ruleExpression(rule: AlertRule): string {
  return `(${rule.metric}) ${rule.op} ${formatNumber(rule.threshold)}`;
}

/** A threshold as PromQL reads it (plain decimal or exponent form; never `Infinity`). */
function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : '-Inf';
}

/** The rule group file of `rules` (JSON, sorted by name). */
export function renderRuleGroup(rules: readonly AlertRule[]): string {
  const sorted = [...rules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const group = {
    groups: [
      {
        name: OPERATOR_GROUP,
        rules: sorted.map((rule) => ({
          alert: rule.name,
          expr: ruleExpression(rule),
          for: `${rule.forSeconds}s`,
          // The operator's own labels first; severity is the rule's, whatever they say.
          labels: { ...rule.labels, severity: rule.severity },
          annotations: { summary: rule.summary },
        })),
      },
    ],
  };
  return `${JSON.stringify(group, null, 2)}\n`;
}

/** The version of a rendered group: its SHA-256, hex. */
export function rulesVersion(rendered: string): string {
  return createHash('sha256').update(rendered).digest('hex');
}
