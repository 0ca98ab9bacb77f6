/**
 * Convolution gradients for the tfjs wasm backend, built from its fast (XNNPACK) forward convolution.
 *
 * The stock backend has no Conv2DBackpropFilter (a DCGAN fails at its first step) and a naive-loop
 * Conv2DBackpropInput, which is also the forward pass of every transposed convolution. Both are rewritten here as
 * forward convolutions; NHWC only, dilation 1 (what the trainer uses), checked in the parity tests.
 */
import { tf, type TensorInfo, type Tensor } from '../tf.js';

type Tensor4D = tf.Tensor4D;
type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/**
 * A Tensor sharing a kernel input's data, so public ops can run on it. It holds its own reference to the data:
 * disposing it (the caller's tidy does) leaves the input intact.
 */
export function asTensor(info: TensorInfo): Tensor {
  tf.backend().incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}

function requireNhwc(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`${kernel}: the trainer's wasm kernel supports NHWC only, got ${attrs.dataFormat}`);
}

/**
 * dW[kh, kw, ci, co] = sum over n, i, j of x[n, i*s + kh - pad, j*s + kw - pad, ci] * dy[n, i, j, co]:
 * ONE convolution of x with its batch and channel axes swapped ([Ci, H, W, N]) by dy as the filter
 * ([Ho, Wo, N, Co]), dilated by the forward stride.
 */
export function conv2dBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: ConvAttrs & { filterShape: [number, number, number, number] } }): Tensor {
  const { inputs, attrs } = args;
  requireNhwc('Conv2DBackpropFilter', attrs);
  const info = tf.backend_util.computeConv2DInfo(inputs.x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  // Bottom/right padding that makes the output exactly fh x fw; negative means the forward pass never read the
  // last rows, so they are cropped instead.
  const bottom = (Ho - 1) * sh + fh - H - top;
  const right = (Wo - 1) * sw + fw - W - left;
  if (fh * fw * info.inChannels <= IM2COL_MAX_TAPS) return filterGradientByIm2col(inputs, info);
  return tf.tidy(() => {
    let xt = tf.transpose(asTensor(inputs.x) as Tensor4D, [3, 1, 2, 0]);
    if (bottom < 0 || right < 0) xt = tf.slice(xt, [0, 0, 0, 0], [-1, H + Math.min(bottom, 0), W + Math.min(right, 0), -1]);
    const dyt = tf.transpose(asTensor(inputs.dy) as Tensor4D, [1, 2, 0, 3]);
    const pads: tf.backend_util.ExplicitPadding = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
    const out = tf.conv2d(xt, dyt, 1, pads, 'NHWC', [sh, sw]);
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/**
 * Below this many taps per output channel (kh * kw * Ci), the filter gradient is one matmul over im2col patches.
 * The convolution above makes dy its filter, and XNNPACK repacks a filter on every call: for D's first layer
 * (one input channel, 16 taps, 64 x 14 x 14 x 64 dy) that packing took 12 of 13 ms.
 */
const IM2COL_MAX_TAPS = 64;

/**
 * dW as [taps, Co] = P^T [taps, M] . dy [M, Co], M = N * Ho * Wo, P the im2col patches (zeros where the forward
 * pass read padding), built on the host already transposed; only the small P^T is packed. Building P^T instead of P
 * spares the matmul a transposed operand and the result a transpose: D's first layer on 32x32 RGB (48 taps, dy
 * [64, 16, 16, 64]) took 23 ms a call with P.
 */
function filterGradientByIm2col(inputs: { x: TensorInfo; dy: TensorInfo }, info: tf.backend_util.Conv2DInfo): Tensor {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const x = tf.backend().readSync(inputs.x.dataId) as Float32Array;
  const taps = fh * fw * Ci;
  const M = N * Ho * Wo;
  const patchesT = new Float32Array(taps * M); // zeros: the padding
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      // Output columns j whose input column j*sw + kw - left lies inside the image.
      const j0 = Math.max(0, Math.ceil((left - kw) / sw));
      const j1 = Math.min(Wo, Math.floor((W - 1 + left - kw) / sw) + 1);
      for (let c = 0; c < Ci; c++) {
        const row = ((kh * fw + kw) * Ci + c) * M;
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < Ho; i++) {
            const y = i * sh + kh - top;
            if (y < 0 || y >= H) continue;
            const base = ((n * H + y) * W - left + kw) * Ci + c;
            const to = row + (n * Ho + i) * Wo;
            for (let j = j0; j < j1; j++) patchesT[to + j] = x[base + j * sw * Ci]!;
          }
        }
      }
    }
  }
  return tf.tidy(() => {
    const dy = tf.reshape(asTensor(inputs.dy), [M, Co]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(tf.tensor2d(patchesT, [taps, M]), dy), [fh, fw, Ci, Co]);
  });
}

/**
 * All s*s phase kernels of a transposed convolution in one filter [mh, mw, Co, s*s*Ci]. Output rows y with
 * (y + pad) mod s = r only meet filter taps r, r + s, r + 2s, ...; the filter is first padded in front to a
 * multiple of s, so every phase has the same number of taps and the same padding. Phase (ry, rx) takes output
 * channels [(ry*s + rx)*Ci, ...), the depthToSpace order. Built on the host: the filter is
 * small, and wasm memory is read synchronously.
 */
function phaseKernel(filter: Float32Array, fh: number, fw: number, ci: number, co: number, s: number): Float32Array {
  const mh = Math.ceil(fh / s);
  const mw = Math.ceil(fw / s);
  const eh = mh * s - fh;
  const ew = mw * s - fw;
  const groups = s * s * ci;
  const out = new Float32Array(mh * mw * co * groups);
  for (let a = 0; a < mh; a++) {
    for (let b = 0; b < mw; b++) {
      for (let ry = 0; ry < s; ry++) {
        for (let rx = 0; rx < s; rx++) {
          // Taps in reverse order (the correlation runs over dy backwards), shifted by the front padding.
          const kh = (mh - 1 - a) * s + ry - eh;
          const kw = (mw - 1 - b) * s + rx - ew;
          if (kh < 0 || kw < 0) continue;
          for (let c = 0; c < ci; c++) {
            const src = ((kh * fw + kw) * ci + c) * co;
            const dst = (a * mw + b) * co * groups + (ry * s + rx) * ci + c;
            for (let o = 0; o < co; o++) out[dst + o * groups] = filter[src + o]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * dx by sub-pixel (phase) decomposition. Output rows y = q*s + r (r the phase) meet only the filter taps
 * k = k0 + j*s with k0 = (r + pad) mod s, and read dy rows q + floor((r + pad) / s) - j: per phase, a stride-1
 * convolution of dy with that phase's taps, reversed, exactly the phase's rows long. When s divides the sides
 * (every 'same' layer of the trainer's DCGANs) each phase is its own convolution (exactPhases), and the phases are
 * interleaved on the host: no position is computed that is then cropped. Otherwise ONE convolution with the s*s
 * phase kernels side by side (phaseKernel) covers a common grid that is cropped after: for kernel 4, stride 2 that
 * grid is (H/2 + 1)^2 for (H/2)^2 wanted, 1.56x the multiply-adds. Square strides only (what the trainer uses).
 */
export function conv2dBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: ConvAttrs & { inputShape: [number, number, number, number] } }): Tensor | TensorInfo {
  const { inputs, attrs } = args;
  requireNhwc('Conv2DBackpropInput', attrs);
  const filterShape = inputs.filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const [N, H, W, Ci] = attrs.inputShape;
  const { outHeight: Ho, outWidth: Wo, strideHeight: s, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  if (s !== sw) throw new Error(`Conv2DBackpropInput: the trainer's wasm kernel needs equal strides, got ${s}x${sw}`);
  const Co = filterShape[3];
  if (H % s === 0 && W % s === 0 && Ci >= EXACT_PHASES_MIN_CHANNELS) return exactPhases(inputs, info, attrs.inputShape);
  const mh = Math.ceil(fh / s);
  const mw = Math.ceil(fw / s);
  const top = info.padInfo.top + (mh * s - fh);
  const left = info.padInfo.left + (mw * s - fw);
  const Qh = Math.ceil((H + top) / s);
  const Qw = Math.ceil((W + left) / s);
  const weights = tf.backend().readSync(inputs.filter.dataId) as Float32Array;
  const kernel = phaseKernel(weights, fh, fw, Ci, Co, s);
  return tf.tidy(() => {
    const dy = asTensor(inputs.dy) as Tensor4D;
    const k = tf.tensor4d(kernel, [mh, mw, Co, s * s * Ci]);
    const pads: tf.backend_util.ExplicitPadding = [[0, 0], [mh - 1, Math.max(0, Qh - Ho)], [mw - 1, Math.max(0, Qw - Wo)], [0, 0]];
    const conv = tf.conv2d(dy, k, 1, pads);
    // Usually exactly [N, Qh, Qw, .]: a slice would only copy it.
    const phases = conv.shape[1] === Qh && conv.shape[2] === Qw ? conv : tf.slice(conv, [0, 0, 0, 0], [N, Qh, Qw, s * s * Ci]);
    // Interleave (the depthToSpace of this layout, which is slow on wasm): [N*Qh, Qw, s, s*Ci] -> [N*Qh, s, Qw, s*Ci].
    const rows = tf.transpose(tf.reshape(phases, [N * Qh, Qw, s, s * Ci]), [0, 2, 1, 3]);
    const full = tf.reshape(rows, [N, Qh * s, Qw * s, Ci]);
    return tf.slice(full, [0, top, left, 0], [N, H, W, Ci]);
  });
}

/**
 * Below this many channels of dx, the single convolution stays: with 3 (G's RGB output, D's input image) the s*s
 * convolutions of 3 output channels and the interleave, 3 floats per copy, took 15 ms a call against 6 ms.
 */
const EXACT_PHASES_MIN_CHANNELS = 16;

interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** One axis of a phase: its first tap, its taps, and the dy rows it reads as padding (negative: rows skipped). */
function phaseAxis(r: number, pad: number, s: number, taps: number, dyLength: number, outLength: number) {
  const k0 = (r + pad) % s;
  const n = Math.max(0, Math.ceil((taps - k0) / s));
  const c = Math.floor((r + pad) / s);
  // Output q reads dy rows q + c - (n - 1) .. q + c.
  const before = n - 1 - c;
  const after = Math.max(0, outLength - 1 + c - (dyLength - 1));
  return { k0, n, before, after };
}

/**
 * dx as s*s stride-1 convolutions, one per phase (ry, rx), each [N, H/s, W/s, Ci], interleaved into [N, H, W, Ci].
 * A phase kernel [nh, nw, Co, Ci] holds taps (k0h + (nh-1-a)*s, k0w + (nw-1-b)*s) of the filter [fh, fw, Ci, Co].
 */
function exactPhases(inputs: { dy: TensorInfo; filter: TensorInfo }, info: tf.backend_util.Conv2DInfo, inputShape: [number, number, number, number]): TensorInfo {
  const [N, H, W, Ci] = inputShape;
  const { outHeight: Ho, outWidth: Wo, strideHeight: s, filterHeight: fh, filterWidth: fw, outChannels: Co } = info;
  const Hq = H / s;
  const Wq = W / s;
  const filter = tf.backend().readSync(inputs.filter.dataId) as Float32Array;
  const phases: tf.Tensor4D[] = [];
  const dy = asTensor(inputs.dy) as Tensor4D;
  try {
    for (let ry = 0; ry < s; ry++) {
      for (let rx = 0; rx < s; rx++) {
        const y = phaseAxis(ry, info.padInfo.top, s, fh, Ho, Hq);
        const x = phaseAxis(rx, info.padInfo.left, s, fw, Wo, Wq);
        phases.push(tf.tidy(() => {
          if (y.n === 0 || x.n === 0) return tf.zeros([N, Hq, Wq, Ci]);
          const k = new Float32Array(y.n * x.n * Co * Ci);
          for (let a = 0; a < y.n; a++) {
            for (let b = 0; b < x.n; b++) {
              const kh = y.k0 + (y.n - 1 - a) * s;
              const kw = x.k0 + (x.n - 1 - b) * s;
              for (let c = 0; c < Ci; c++) {
                const src = ((kh * fw + kw) * Ci + c) * Co;
                const dst = (a * x.n + b) * Co * Ci + c;
                for (let o = 0; o < Co; o++) k[dst + o * Ci] = filter[src + o]!;
              }
            }
          }
          // Negative padding: the phase never reads the first rows of dy.
          const src = y.before < 0 || x.before < 0 ? tf.slice(dy, [0, Math.max(0, -y.before), Math.max(0, -x.before), 0], [-1, -1, -1, -1]) : dy;
          const pads: tf.backend_util.ExplicitPadding = [[0, 0], [Math.max(0, y.before), y.after], [Math.max(0, x.before), x.after], [0, 0]];
          const out = tf.conv2d(src, tf.tensor4d(k, [y.n, x.n, Co, Ci]), 1, pads);
          return out.shape[1] === Hq && out.shape[2] === Wq ? out : tf.slice(out, [0, 0, 0, 0], [N, Hq, Wq, Ci]);
        }));
      }
    }
    return interleave(phases, N, Hq, Wq, Ci, s);
  } finally {
    dy.dispose();
    tf.dispose(phases);
  }
}

/** full[n, q*s + ry, p*s + rx, :] = phases[ry*s + rx][n, q, p, :], copied on the wasm heap, Ci floats at a time. */
function interleave(phases: tf.Tensor4D[], N: number, Hq: number, Wq: number, Ci: number, s: number): TensorInfo {
  const backend = tf.backend() as unknown as WasmHeap;
  const out = backend.makeOutput([N, Hq * s, Wq * s, Ci], 'float32');
  // Views taken after makeOutput: an allocation may grow wasm memory and detach earlier views.
  const dst = backend.typedArrayFromHeap(out);
  const W = Wq * s;
  phases.forEach((phase, i) => {
    const src = backend.typedArrayFromHeap(phase);
    const ry = Math.floor(i / s);
    const rx = i % s;
    let from = 0;
    for (let n = 0; n < N; n++) {
      for (let q = 0; q < Hq; q++) {
        let to = ((n * Hq * s + q * s + ry) * W + rx) * Ci;
        for (let p = 0; p < Wq; p++, from += Ci, to += s * Ci) {
          if (Ci === 1) dst[to] = src[from]!;
          else dst.set(src.subarray(from, from + Ci), to);
        }
      }
    }
  });
  return out;
}
