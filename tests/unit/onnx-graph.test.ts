/**
 * The exporter's dense -> reshape path: the dense layer's columns are written in CHW order when only element-wise
 * layers lie between (no Transpose in the graph), and a Transpose stays otherwise. Both graphs, run by
 * onnxruntime-node, equal the layers computed directly in NHWC and then moved to NCHW.
 */
import { OrtTensor, openSession, } from '../../trainer/export/ort-node.js';
import { describe, expect, it } from 'vitest';
import { networkToOnnx, type ParamValues } from '../../trainer/export/onnx-graph.js';
import { serializeModel } from '../../trainer/export/onnx-model.js';
import type { LayerSpec, NetworkSpec } from '../../trainer/nn/layers.js';
import { SeededRandom } from '../../shared/rng.js';

const [H, W, C, IN, BATCH] = [2, 3, 4, 5, 3];
const UNITS = H * W * C;
const EPS = 1e-3;

/** `n` values uniform in [offset - 0.5, offset + 0.5). */
function seeded(n: number, seed: number, offset = 0): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => offset + rng.nextFloat() - 0.5);
}

function values(layers: LayerSpec[]): ParamValues {
  const v: ParamValues = new Map();
  layers.forEach((l, i) => {
    if (l.kind === 'dense') {
      v.set(`${i}.kernel`, { shape: [IN, UNITS], data: seeded(IN * UNITS, 1 + i) });
      v.set(`${i}.bias`, { shape: [UNITS], data: seeded(UNITS, 2 + i) });
    }
    if (l.kind === 'batchNorm') {
      for (const [role, offset] of [['gamma', 1], ['beta', 0], ['movingMean', 0], ['movingVariance', 1]] as const) v.set(`${i}.${role}`, { shape: [UNITS], data: seeded(UNITS, 10 * i + role.length, offset) });
    }
  });
  return v;
}

/** The layers applied to x [BATCH, IN] in NHWC order, as tfjs computes them, then moved to NCHW. */
function reference(layers: LayerSpec[], v: ParamValues, x: Float32Array): Float32Array {
  let a = new Float32Array(BATCH * UNITS);
  layers.forEach((l, i) => {
    if (l.kind === 'dense') {
      const k = v.get(`${i}.kernel`)!.data;
      const b = v.get(`${i}.bias`)!.data;
      for (let n = 0; n < BATCH; n++) for (let u = 0; u < UNITS; u++) {
        let s = b[u]!;
        for (let r = 0; r < IN; r++) s += x[n * IN + r]! * k[r * UNITS + u]!;
        a[n * UNITS + u] = s;
      }
    } else if (l.kind === 'batchNorm') {
      const g = (role: string) => v.get(`${i}.${role}`)!.data;
      a = a.map((val, j) => ((val - g('movingMean')[j % UNITS]!) / Math.sqrt(g('movingVariance')[j % UNITS]! + EPS)) * g('gamma')[j % UNITS]! + g('beta')[j % UNITS]!);
    } else if (l.kind === 'relu') {
      a = a.map((val) => Math.max(0, val));
    }
  });
  const out = new Float32Array(a.length);
  for (let n = 0; n < BATCH; n++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) for (let c = 0; c < C; c++) {
    out[n * UNITS + (c * H + y) * W + xx] = a[n * UNITS + (y * W + xx) * C + c]!;
  }
  return out;
}

async function exported(layers: LayerSpec[]) {
  const spec: NetworkSpec = { name: 'g', inputShape: [IN], layers, init: 'dcgan-normal' };
  const v = values(layers);
  const part = networkToOnnx(spec, v, 'x', 'y');
  const graph = serializeModel({ name: 'g', ...part, inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', IN] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', C, H, W] }] }, 'test');
  const session = await openSession(graph);
  const x = seeded(BATCH * IN, 99);
  const { y } = await session.run({ x: new OrtTensor('float32', x, [BATCH, IN]) });
  await session.release();
  return { ops: part.nodes.map((n) => n.op), y: y!.data as Float32Array, dims: y!.dims, want: reference(layers, v, x) };
}

describe('exporting dense -> reshape', () => {
  const bn: LayerSpec = { kind: 'batchNorm', momentum: 0.9, epsilon: EPS };
  const reshape: LayerSpec = { kind: 'reshape', shape: [H, W, C] };

  it('writes the dense columns in CHW order across folded batch norm and ReLU: no Transpose', async () => {
    const r = await exported([{ kind: 'dense', units: UNITS }, bn, { kind: 'relu' }, reshape]);
    expect(r.ops).toEqual(['Gemm', 'Relu', 'Reshape', 'Identity']);
    expect(r.dims).toEqual([BATCH, C, H, W]);
    for (let i = 0; i < r.want.length; i++) expect(r.y[i]).toBeCloseTo(r.want[i]!, 5);
  });

  it('keeps the Transpose when a batch norm it cannot fold lies between', async () => {
    const r = await exported([{ kind: 'dense', units: UNITS }, { kind: 'relu' }, bn, reshape]);
    expect(r.ops).toEqual(['Gemm', 'Relu', 'BatchNormalization', 'Reshape', 'Transpose', 'Identity']);
    for (let i = 0; i < r.want.length; i++) expect(r.y[i]).toBeCloseTo(r.want[i]!, 5);
  });
});

describe('exporting flatten -> dense', () => {
  const OUT = 6;
  /** x [BATCH, C, H, W] (NCHW, as the graph takes it) moved to NHWC and flattened, then the dense layer if any. */
  function want(x: Float32Array, dense?: { k: Float32Array; b: Float32Array }): Float32Array {
    const flat = new Float32Array(x.length);
    for (let n = 0; n < BATCH; n++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) for (let c = 0; c < C; c++) {
      flat[n * UNITS + (y * W + xx) * C + c] = x[n * UNITS + (c * H + y) * W + xx]!;
    }
    if (!dense) return flat;
    return Float32Array.from({ length: BATCH * OUT }, (_, j) => {
      const [n, o] = [Math.floor(j / OUT), j % OUT];
      let s = dense.b[o]!;
      for (let r = 0; r < UNITS; r++) s += flat[n * UNITS + r]! * dense.k[r * OUT + o]!;
      return s;
    });
  }

  async function run(layers: LayerSpec[], outShape: number[]) {
    const spec: NetworkSpec = { name: 'e', inputShape: [H, W, C], layers, init: 'glorot-uniform' };
    const v: ParamValues = new Map([['1.kernel', { shape: [UNITS, OUT], data: seeded(UNITS * OUT, 7) }], ['1.bias', { shape: [OUT], data: seeded(OUT, 8) }]]);
    const part = networkToOnnx(spec, v, 'x', 'y');
    const graph = serializeModel({ name: 'e', ...part, inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', C, H, W] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', ...outShape] }] }, 'test');
    const session = await openSession(graph);
    const x = seeded(BATCH * UNITS, 5);
    const { y } = await session.run({ x: new OrtTensor('float32', x, [BATCH, C, H, W]) });
    await session.release();
    const dense = layers.length > 1 ? { k: v.get('1.kernel')!.data, b: v.get('1.bias')!.data } : undefined;
    return { ops: part.nodes.map((n) => n.op), y: y!.data as Float32Array, want: want(x, dense) };
  }

  it('feeds the dense layer the CHW order with its rows reordered: no Transpose', async () => {
    const r = await run([{ kind: 'flatten' }, { kind: 'dense', units: OUT }], [OUT]);
    expect(r.ops).toEqual(['Flatten', 'Gemm', 'Identity']);
    for (let i = 0; i < r.want.length; i++) expect(r.y[i]).toBeCloseTo(r.want[i]!, 5);
  });

  it('moves the values to HWC order when no dense layer follows', async () => {
    const r = await run([{ kind: 'flatten' }], [UNITS]);
    expect(r.ops).toEqual(['Transpose', 'Flatten', 'Identity']);
    expect([...r.y]).toEqual([...r.want]);
  });
});
