/**
 * How our child processes run TypeScript: hub nodes and gateways, the agent, and the benchmarks'
 * load, simulator and floor processes (`node ...TS_NODE_ARGS file.ts`).
 *
 * Our TypeScript is erasable only (tsconfig `erasableSyntaxOnly`), so a Node.js that strips types
 * itself (22.18+, 23.6+; `process.features.typescript`) runs it as it is, with no loader; an
 * older one (20) through tsx's loader. A child runs the way its parent does: the suite, the demo
 * and the benchmarks run on the Node.js infra/node.sh provides (decision 062).
 */
const TSX_LOADER = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

/** The node flags that run a `.ts` file: none where Node strips types itself, tsx's loader otherwise. */
export const TS_NODE_ARGS: readonly string[] = (process.features as { typescript?: string | false })
  .typescript
  ? []
  : ['--import', TSX_LOADER];
