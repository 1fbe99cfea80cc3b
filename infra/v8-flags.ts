/**
 * The V8 flags a `devicehub` command runs with wherever it is started: `spawnDevicehub` (the
 * demo, `npm run cluster`, the suite, the benchmarks) puts them before the script, and
 * docker-compose's services carry the same (deploy/compose.test.ts checks). V8 takes no flags
 * from `NODE_OPTIONS`, and set from inside the program (`v8.setFlagsFromString`) they come too late
 * for the heap's GC threads: they have to be on the command line.
 *
 * `devicehub node` runs with `--single-threaded-gc` (docs/decisions/064-a-hub-node-collects-alone.md):
 * on a hub node V8's parallel GC helpers cost more CPU than they save (paired runs: ~5 % less CPU a
 * message without them); on a link they save more than they cost (5 % more CPU with the flag),
 * so the links keep them.
 *
 * And with `--heap-growing-percent=100` (docs/decisions/069-a-hub-node-grows-its-heap.md): V8 lets the
 * old generation grow by a factor it derives from how fast the program allocates there; a hub node
 * promotes little, so V8 chose 1.1–1.2, a full GC every 8 MB promoted, re-marking every actor's
 * state each time (4 full GCs in 12 s at 5,000 edges, ~45 ms of CPU each). Growing by its live size
 * instead, it runs one in 12 s, and the cost of a full GC per byte promoted no longer grows with
 * the number of actors.
 */
const BY_COMMAND: Readonly<Record<string, readonly string[]>> = {
  node: ['--single-threaded-gc', '--heap-growing-percent=100'],
};

/** The V8 flags of `devicehub <command>` (none for most commands). */
export function v8FlagsOf(command: string | undefined): readonly string[] {
  return (command !== undefined && BY_COMMAND[command]) || [];
}
