/**
 * The gateway as one process per core (`devicehub gateway --workers N`, decision 046): a
 * node:cluster primary that forks the workers and forwards signals (primary.ts), and `/metrics`
 * answered for every worker by whichever one a scrape reaches (cluster-metrics.ts).
 */
export { type ClusterMetrics, mergeMetrics, workerMetrics } from './cluster-metrics.ts';
export { type PrimaryOptions, runPrimary } from './primary.ts';
