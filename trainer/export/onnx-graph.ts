/**
 * A trained network (its layer list and parameter values) as ONNX nodes, NCHW inside, as tfjs computes it in
 * NHWC: kernels are transposed, 'same' padding becomes explicit pads, each batch norm that follows a dense or
 * convolution layer is folded into that layer's weights (inference mode, running statistics), and the HWC order
 * of a dense layer's vector next to an image goes into its weights instead of a Transpose where it can.
 */
import type { LayerSpec, NetworkSpec } from '../nn/layers.js';
import { traceShapes } from '../nn/layers.js';
import type { Initializer, OnnxNode } from './onnx-model.js';

export type ParamValues = Map<string, { shape: number[]; data: Float32Array }>;

export interface GraphPart {
  nodes: OnnxNode[];
  initializers: Initializer[];
}

type BatchNorm = Extract<LayerSpec, { kind: 'batchNorm' }>;

/** 'same' padding of tfjs for a forward convolution: [before, after] along one axis. */
export function samePadding(inSize: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Reorders a 4-D array: `perm[i]` is the source axis of output axis i. */
function permute(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const srcStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const [d0, d1, d2, d3] = outShape as [number, number, number, number];
  const [s0, s1, s2, s3] = perm.map((p) => srcStrides[p]!) as [number, number, number, number];
  let o = 0;
  for (let a = 0; a < d0; a++) for (let b = 0; b < d1; b++) for (let c = 0; c < d2; c++) for (let d = 0; d < d3; d++) out[o++] = data[a * s0 + b * s1 + c * s2 + d * s3]!;
  return { data: out, shape: outShape };
}

/**
 * Per-output-channel scale and shift equal to batch norm with running statistics; without `affine`, the
 * normalisation alone (a classBatchNorm's, whose per-class gamma and beta come after).
 */
function foldedBatchNorm(bn: BatchNorm, i: number, values: ParamValues, affine = true): { scale: Float32Array; shift: Float32Array } {
  const get = (role: string) => values.get(`${i}.${role}`)!.data;
  const mean = get('movingMean');
  const variance = get('movingVariance');
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (affine ? get('gamma')[c]! : 1) / Math.sqrt(variance[c]! + bn.epsilon);
    shift[c] = (affine ? get('beta')[c]! : 0) - mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

/** A spectrally normalised layer's kernel as it acts, W / ||W u|| (nn/network.ts), or undefined for any other. */
function spectrallyNormalised(layer: LayerSpec, i: number, values: ParamValues): { shape: number[]; data: Float32Array } | undefined {
  if ((layer.kind !== 'dense' && layer.kind !== 'conv2d') || !layer.spectralNorm) return undefined;
  const w = values.get(`${i}.kernel`)!;
  const u = values.get(`${i}.spectralU`)!.data;
  const out = u.length;
  let sigma2 = 0;
  for (let r = 0; r < w.data.length / out; r++) {
    let dot = 0;
    for (let c = 0; c < out; c++) dot += w.data[r * out + c]! * u[c]!;
    sigma2 += dot * dot;
  }
  const sigma = Math.sqrt(sigma2);
  return { shape: w.shape, data: w.data.map((x) => x / sigma) };
}

/** Layers that act on each value alone: a dense layer's output columns may be reordered across them. */
const ELEMENTWISE = new Set<LayerSpec['kind']>(['batchNorm', 'relu', 'leakyRelu', 'tanh', 'sigmoid']);

/**
 * The reshape that dense layer `i`'s output reaches through element-wise layers only (a batch norm only right
 * after it, where it is folded), or undefined. Its columns can then be emitted in CHW order, so that the reshape
 * needs no Transpose (one op and a copy of the activations fewer per run).
 */
function reshapeAfterDense(layers: LayerSpec[], i: number): Extract<LayerSpec, { kind: 'reshape' }> | undefined {
  for (let j = i + 1; j < layers.length; j++) {
    const l = layers[j]!;
    if (l.kind === 'reshape') return l;
    if (!ELEMENTWISE.has(l.kind) || (l.kind === 'batchNorm' && j !== i + 1)) return undefined;
  }
  return undefined;
}

/**
 * Emits `spec` reading tensor `input` (a vector [N, units] or an NCHW image) and writing `output`.
 * Initialisers are prefixed with `prefix` so that several networks can share one graph.
 */
export function networkToOnnx(spec: NetworkSpec, values: ParamValues, input: string, output: string, prefix = spec.name, labels?: string): GraphPart {
  const nodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  const { inputs: shapes } = traceShapes(spec);
  let current = input;
  let counter = 0;
  const fresh = () => `${prefix}/t${counter++}`;
  const chwReshapes = new Set<LayerSpec>();
  const constant = (name: string, dims: number[], data: Float32Array | BigInt64Array) => {
    const full = `${prefix}/${name}`;
    initializers.push({ name: full, dims, data });
    return full;
  };
  const emit = (op: string, inputs: string[], attrs?: OnnxNode['attrs']) => {
    const out = fresh();
    nodes.push({ op, inputs: [current, ...inputs], outputs: [out], ...(attrs ? { attrs } : {}) });
    current = out;
  };

  for (let i = 0; i < spec.layers.length; i++) {
    const layer = spec.layers[i]!;
    const inShape = shapes[i]!;
    const next = spec.layers[i + 1];
    const fold = next?.kind === 'batchNorm' ? foldedBatchNorm(next, i + 1, values) : next?.kind === 'classBatchNorm' ? foldedBatchNorm({ kind: 'batchNorm', momentum: next.momentum, epsilon: next.epsilon }, i + 1, values, false) : null;
    const kernel = spectrallyNormalised(layer, i, values) ?? values.get(`${i}.kernel`);
    const bias = values.get(`${i}.bias`);
    switch (layer.kind) {
      case 'dense': {
        const [inUnits, units] = kernel!.shape as [number, number];
        const w = Float32Array.from(kernel!.data);
        const b = Float32Array.from(bias!.data);
        if (fold) {
          for (let r = 0; r < inUnits; r++) for (let c = 0; c < units; c++) w[r * units + c]! *= fold.scale[c]!;
          for (let c = 0; c < units; c++) b[c] = b[c]! * fold.scale[c]! + fold.shift[c]!;
        }
        // After a flatten, the rows take the CHW order the Flatten node gives (see 'flatten').
        const flattened = spec.layers[i - 1]?.kind === 'flatten' ? (shapes[i - 1] as [number, number, number]) : undefined;
        // HWC -> CHW along the rows ([h, w, c, units] -> [c, h, w, units]) or the columns ([rows, h, w, c] ->
        // [rows, c, h, w]).
        const wIn = flattened ? permute(w, [...flattened, units], [2, 0, 1, 3]).data : w;
        const reshape = reshapeAfterDense(spec.layers, i);
        if (reshape) chwReshapes.add(reshape);
        const hwc = reshape?.shape;
        const [wOut, bOut] = hwc ? [permute(wIn, [inUnits, ...hwc], [0, 3, 1, 2]).data, permute(b, [1, ...hwc], [0, 3, 1, 2]).data] : [wIn, b];
        emit('Gemm', [constant(`${i}.kernel`, [inUnits, units], wOut), constant(`${i}.bias`, [units], bOut)]);
        break;
      }
      case 'conv2d':
      case 'conv2dTranspose': {
        const [h, w] = inShape as [number, number, number];
        const k = layer.kernel;
        const s = layer.stride;
        // tfjs kernels: conv2d [k, k, in, out] -> ONNX Conv [out, in, k, k];
        // conv2dTranspose [k, k, out, in] -> ONNX ConvTranspose [in, out, k, k].
        const isT = layer.kind === 'conv2dTranspose';
        const t = permute(kernel!.data, kernel!.shape, [3, 2, 0, 1]);
        const b = Float32Array.from(bias!.data);
        if (fold) {
          const outC = layer.filters;
          const perOut = k * k;
          for (let a = 0; a < t.shape[0]!; a++) {
            for (let c = 0; c < t.shape[1]!; c++) {
              const oc = isT ? c : a;
              const base = (a * t.shape[1]! + c) * perOut;
              for (let p = 0; p < perOut; p++) t.data[base + p]! *= fold.scale[oc]!;
            }
          }
          for (let c = 0; c < outC; c++) b[c] = b[c]! * fold.scale[c]! + fold.shift[c]!;
        }
        const weights = constant(`${i}.kernel`, t.shape, t.data);
        const biasName = constant(`${i}.bias`, [layer.filters], b);
        if (isT) {
          // The transposed convolution of tfjs 'same' is the gradient of a 'same' conv on the s-times larger
          // output: pads as that conv's, so the output is exactly s * input.
          const [pt, pb] = samePadding(h * s, k, s);
          const [pl, pr] = samePadding(w * s, k, s);
          const extra = Math.max(0, s - k);
          emit('ConvTranspose', [weights, biasName], {
            kernel_shape: { ints: [k, k] }, strides: { ints: [s, s] }, pads: { ints: [pt, pl, pb, pr] },
            ...(extra > 0 ? { output_padding: { ints: [extra, extra] } } : {}),
          });
        } else {
          const [pt, pb] = samePadding(h, k, s);
          const [pl, pr] = samePadding(w, k, s);
          emit('Conv', [weights, biasName], { kernel_shape: { ints: [k, k] }, strides: { ints: [s, s] }, pads: { ints: [pt, pl, pb, pr] } });
        }
        break;
      }
      case 'batchNorm': {
        const prev = spec.layers[i - 1]?.kind;
        if (prev === 'dense' || prev === 'conv2d' || prev === 'conv2dTranspose') break; // folded above
        const get = (role: string) => constant(`${i}.${role}`, [inShape[inShape.length - 1]!], values.get(`${i}.${role}`)!.data);
        emit('BatchNormalization', [get('gamma'), get('beta'), get('movingMean'), get('movingVariance')], { epsilon: { f: layer.epsilon } });
        break;
      }
      case 'classBatchNorm': {
        // The normalisation is folded into the convolution before (its running statistics); then each image's
        // class picks its gamma and beta: one-hot [N, k] x [k, C], shaped [N, C, 1, 1] to broadcast over NCHW.
        const prev = spec.layers[i - 1]?.kind;
        if (prev !== 'conv2d' && prev !== 'conv2dTranspose') throw new Error(`${spec.name} layer ${i}: classBatchNorm exports only after a convolution`);
        if (!labels) throw new Error(`${spec.name} layer ${i}: classBatchNorm needs the graph's one-hot labels`);
        const c = inShape[inShape.length - 1]!;
        const shape = constant(`${i}.perClassShape`, [4], BigInt64Array.from([-1n, BigInt(c), 1n, 1n]));
        for (const [role, op] of [['gamma', 'Mul'], ['beta', 'Add']] as const) {
          const rows = `${prefix}/${i}.${role}.rows`;
          const per = `${prefix}/${i}.${role}.nchw`;
          nodes.push({ op: 'MatMul', inputs: [labels, constant(`${i}.${role}`, [layer.classes, c], values.get(`${i}.${role}`)!.data)], outputs: [rows] });
          nodes.push({ op: 'Reshape', inputs: [rows, shape], outputs: [per] });
          emit(op, [per]);
        }
        break;
      }
      case 'projection':
        throw new Error(`${spec.name} layer ${i}: a projection head is a discriminator's, which is not exported`);
      case 'upsample':
        // Nearest neighbour, output (y, x) <- input (floor(y / f), floor(x / f)), as network.ts upsamples.
        emit('Resize', ['', constant(`${i}.scales`, [4], Float32Array.of(1, 1, layer.factor, layer.factor))], {
          mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' },
        });
        break;
      case 'relu':
        emit('Relu', []);
        break;
      case 'leakyRelu':
        emit('LeakyRelu', [], { alpha: { f: layer.alpha } });
        break;
      case 'tanh':
        emit('Tanh', []);
        break;
      case 'sigmoid':
        emit('Sigmoid', []);
        break;
      case 'reshape': {
        // tfjs reshapes the vector in HWC order; ONNX continues in CHW: the dense layer before already wrote its
        // columns in CHW order, or a Transpose reorders them here.
        const [h, w, c] = layer.shape;
        if (chwReshapes.has(layer)) {
          emit('Reshape', [constant(`${i}.shape`, [4], BigInt64Array.from([-1, c, h, w].map(BigInt)))]);
        } else {
          emit('Reshape', [constant(`${i}.shape`, [4], BigInt64Array.from([-1, h, w, c].map(BigInt)))]);
          emit('Transpose', [], { perm: { ints: [0, 3, 1, 2] } });
        }
        break;
      }
      case 'flatten': {
        // tfjs flattens in HWC order: a dense layer next reads the CHW order as it is (its rows reordered above);
        // anything else gets the values moved to HWC first.
        if (next?.kind !== 'dense') emit('Transpose', [], { perm: { ints: [0, 2, 3, 1] } });
        emit('Flatten', [], { axis: { i: 1 } });
        break;
      }
    }
  }
  // Name the final value `output`.
  nodes.push({ op: 'Identity', inputs: [current], outputs: [output] });
  return { nodes, initializers };
}
