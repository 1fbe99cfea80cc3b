/**
 * Gives a static-shape YOLOv8 ONNX export a dynamic batch axis, so that a recognition worker can
 * run N frames as one [N,3,640,640] tensor: the graph's input and output dimension 0 become the
 * symbol `batch`, the stale intermediate shapes (value_info) are dropped, and the Reshape nodes
 * whose constant target shape starts with 1 get 0 there (ONNX: copy that dimension from the
 * input). Run by `infra/provision-vision.sh`:
 *
 *   node --import tsx infra/model-dynbatch.ts <in.onnx> <out.onnx>
 *
 * The output is deterministic (same input bytes → same output bytes); the caller checks its
 * SHA-256. docs/decisions/032-recognition-model.md says why.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** How many Reshape shapes YOLOv8's detect head has with a leading 1 (/model.22: Reshape, dfl ×2). */
const EXPECTED_RESHAPES = 3;

type Tensor = InstanceType<typeof onnx.TensorProto>;

function int64Values(t: Tensor): number[] {
  if (t.int64Data.length > 0) return t.int64Data.map(Number);
  const raw = t.rawData;
  const copy = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  return Array.from(new BigInt64Array(copy), Number);
}

export function dynamicBatch(model: Uint8Array): { bytes: Uint8Array; patched: string[] } {
  const m = onnx.ModelProto.decode(model);
  const g = m.graph;
  if (!g) throw new Error('Cannot patch the model: it has no graph');
  for (const v of [...(g.input ?? []), ...(g.output ?? [])]) {
    const dim = v.type?.tensorType?.shape?.dim?.[0];
    if (!dim) throw new Error(`Cannot patch the model: ${v.name} has no dimension 0`);
    dim.dimValue = null;
    delete (dim as { dimValue?: unknown }).dimValue;
    dim.dimParam = 'batch';
  }
  g.valueInfo = [];
  const nodes = g.node ?? [];
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name, t as Tensor]));
  const constants = new Map<string, Tensor>();
  for (const n of nodes) {
    const value = n.attribute?.find((a) => a.name === 'value')?.t;
    const out = n.output?.[0];
    if (n.opType === 'Constant' && value && out !== undefined) constants.set(out, value as Tensor);
  }
  const patched: string[] = [];
  for (const n of nodes) {
    const target = n.input?.[1];
    if (n.opType !== 'Reshape' || target === undefined) continue;
    const shape = initializers.get(target) ?? constants.get(target);
    if (!shape) throw new Error(`Cannot patch the model: Reshape ${n.name} has no constant shape`);
    const values = int64Values(shape);
    if (values[0] !== 1) continue;
    values[0] = 0;
    shape.int64Data = [];
    shape.rawData = new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
    patched.push(`${n.name} ${JSON.stringify(values)}`);
  }
  return { bytes: onnx.ModelProto.encode(m).finish(), patched };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node --import tsx infra/model-dynbatch.ts <in.onnx> <out.onnx>\n');
    process.exit(2);
  }
  const { bytes, patched } = dynamicBatch(readFileSync(input));
  if (patched.length !== EXPECTED_RESHAPES) {
    process.stderr.write(
      `Cannot patch ${input}: expected ${EXPECTED_RESHAPES} Reshape shapes with a leading 1, found ${patched.length} (${patched.join('; ')})\n`,
    );
    process.exit(1);
  }
  writeFileSync(`${output}.part`, bytes);
  renameSync(`${output}.part`, output);
  process.stderr.write(`devicehub: dynamic batch axis; Reshapes patched: ${patched.join('; ')}\n`);
}
