/**
 * The tsx loader our child processes run TypeScript with (`node --import <TSX_LOADER> file.ts`):
 * hub nodes and gateways, and the benchmarks' load, simulator and floor processes.
 */
export const TSX_LOADER = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
