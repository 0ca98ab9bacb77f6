/**
 * A tiled Conv2DBackpropFilter for the tfjs webgpu backend.
 *
 * dW[kh, kw, ci, co] = sum over m = (n, i, j) of x[n, i*s + kh - pad, j*s + kw - pad, ci] * dy[n, i, j, co]: for
 * each tap (kh, kw) a matrix product X_tap^T (ci x M) by DY (M x co) with M = batch x output positions. tfjs's own
 * program gives one thread per filter weight, each looping over all of M alone (65,536 serial iterations for a
 * 3-channel layer at 64x64, batch 64). Here a workgroup owns a ci x co tile of one tap and one slice of M (split-K),
 * loads K rows of both operands into workgroup memory together, and the slices' partial sums are added after by one
 * Sum. NHWC, dilation 1: what the trainer uses (other cases go back to the stock kernel).
 */
import { tf, type TensorInfo } from '../tf.js';

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
};

/** Rows of M loaded into workgroup memory per round. */
const K = 32;
/** Workgroups to aim for across the GPU: enough to fill an H200's 132 SMs several times over. */
const TARGET_WORKGROUPS = 2048;

/** The webgpu backend's program interface, as far as this program uses it (tfjs-backend-webgpu/src/webgpu_program.ts). */
interface WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  getUserCode(): string;
}

interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: TensorInfo[], dtype: 'float32', uniforms: { type: 'int32'; data: number[] }[]): TensorInfo;
}

const tile = (channels: number) => (channels <= 4 ? 4 : channels <= 8 ? 8 : 16);

/** The plan for one call: tile sizes and the split of M (exported for the tests). */
export function planFilterGradient(m: number, taps: number, ci: number, co: number): { ta: number; tb: number; splits: number; chunk: number } {
  const ta = tile(ci);
  const tb = tile(co);
  const groups = Math.ceil(ci / ta) * Math.ceil(co / tb) * taps;
  // Each split keeps at least 4 rounds of K rows, so the partial sums stay a small fraction of the work.
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / groups), Math.floor(m / (4 * K))));
  const chunk = Math.ceil(m / wanted / K) * K;
  return { ta, tb, splits: Math.ceil(m / chunk), chunk };
}

/** A class, not an object literal: tfjs's GPU profile names each program by its constructor. */
class TiledConv2DBackpropFilterProgram {
  constructor(fields: WebGpuProgram) {
    Object.assign(this, fields);
  }
}

function program(ta: number, tb: number, splits: number, taps: number, ci: number, co: number): WebGpuProgram {
  return new TiledConv2DBackpropFilterProgram({
    outputShape: [splits * taps, ci, co],
    shaderKey: `trainerConv2DBackpropFilterTiled_${ta}_${tb}_${K}`,
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(co / tb), Math.ceil(ci / ta), splits * taps],
    variableNames: ['x', 'dy'],
    uniforms: 'pads : vec2<i32>, strides : vec2<i32>, fw : i32, taps : i32, outH : i32, outW : i32, inH : i32, inW : i32, m : i32, chunk : i32, ci : i32, co : i32,',
    workgroupSize: [tb, ta, 1],
    getUserCode: () => `
      var<workgroup> xs : array<f32, ${K * ta}>;
      var<workgroup> ds : array<f32, ${K * tb}>;
      fn main() {
        let z = i32(workgroupId.z);
        let tap = z % uniforms.taps;
        let split = z / uniforms.taps;
        let kh = tap / uniforms.fw;
        let kw = tap % uniforms.fw;
        let ciBase = i32(workgroupId.y) * ${ta};
        let coBase = i32(workgroupId.x) * ${tb};
        let li = i32(localIndex);
        let positions = uniforms.outH * uniforms.outW;
        let mStart = split * uniforms.chunk;
        let mEnd = min(uniforms.m, mStart + uniforms.chunk);
        var acc = 0.0;
        // The round count comes from a uniform: tfjs passes workgroupId through a private variable, which WGSL's
        // uniformity analysis cannot prove uniform, and barriers need uniform control flow.
        for (var round = 0; round < uniforms.chunk / ${K}; round = round + 1) {
          let m0 = mStart + round * ${K};
          // Workgroup memory: rows m0..m0+K of this tap's input patch (ci tile) and of dy (co tile); zero outside.
          for (var i = li; i < ${K * ta}; i = i + ${ta * tb}) {
            let m = m0 + i / ${ta};
            let c = ciBase + i % ${ta};
            var v = 0.0;
            if (m < mEnd && c < uniforms.ci) {
              let n = m / positions;
              let p = m % positions;
              let r = (p / uniforms.outW) * uniforms.strides.x + kh - uniforms.pads.x;
              let q = (p % uniforms.outW) * uniforms.strides.y + kw - uniforms.pads.y;
              if (r >= 0 && r < uniforms.inH && q >= 0 && q < uniforms.inW) {
                v = x[((n * uniforms.inH + r) * uniforms.inW + q) * uniforms.ci + c];
              }
            }
            xs[i] = v;
          }
          for (var i = li; i < ${K * tb}; i = i + ${ta * tb}) {
            let m = m0 + i / ${tb};
            let c = coBase + i % ${tb};
            var v = 0.0;
            if (m < mEnd && c < uniforms.co) {
              v = dy[m * uniforms.co + c];
            }
            ds[i] = v;
          }
          workgroupBarrier();
          for (var k = 0; k < ${K}; k = k + 1) {
            acc = acc + xs[k * ${ta} + i32(localId.y)] * ds[k * ${tb} + i32(localId.x)];
          }
          workgroupBarrier();
        }
        let c1 = ciBase + i32(localId.y);
        let c2 = coBase + i32(localId.x);
        if (c1 < uniforms.ci && c2 < uniforms.co) {
          setOutputAtIndex((z * uniforms.ci + c1) * uniforms.co + c2, acc);
        }
      }
    `,
  }) as unknown as WebGpuProgram;
}

/** The kernel function: `stock` handles what the tiled program does not (NCHW). */
export function tiledConv2dBackpropFilter(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args as unknown as { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: ConvAttrs };
    if (attrs.dataFormat !== 'NHWC') return stock(args);
    const backend = args.backend as unknown as WebGpuBackendLike;
    const info = tf.backend_util.computeConv2DInfo(inputs.x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { batchSize, outHeight, outWidth, inHeight, inWidth, inChannels: ci, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
    const m = batchSize * outHeight * outWidth;
    const taps = fh * fw;
    const { ta, tb, splits, chunk } = planFilterGradient(m, taps, ci, co);
    const uniforms = [
      [info.padInfo.top, info.padInfo.left],
      [info.strideHeight, info.strideWidth],
      [fw], [taps], [outHeight], [outWidth], [inHeight], [inWidth], [m], [chunk], [ci], [co],
    ].map((data) => ({ type: 'int32' as const, data }));
    const partials = backend.runWebGPUProgram(program(ta, tb, splits, taps, ci, co), [inputs.x, inputs.dy], 'float32', uniforms);
    // The partial sums become a tensor inside the tidy, which frees them once summed (or reshaped: that shares them).
    return tf.tidy(() => {
      const all = tf.engine().makeTensorFromTensorInfo(partials);
      return splits === 1 ? tf.reshape(all, attrs.filterShape) : tf.sum(tf.reshape(all, [splits, fh, fw, ci, co]), 0);
    }) as unknown as TensorInfo;
  };
}
