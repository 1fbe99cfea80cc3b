/**
 * Benchmarks (`npm run bench -- <scenario>`) and the load generator the demo also uses.
 */

export type { LoadGenerator, LoadOptions } from './load-process.ts';
export { spawnLoadGenerator } from './load-process.ts';
export { benchCommand, benchHelp } from './main.ts';
export { resumeTracer } from './resume-trace.ts';
