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
 * dx by sub-pixel (phase) decomposition: output rows y with (y + pad) mod s = r only meet filter taps
 * r, r + s, r + 2s, ...; each of the s*s phases is a small stride-1 convolution of dy with those taps (flipped,
 * channels swapped). The phases are interleaved back into the full image. No zeros are inserted.
 */
export function conv2dBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: ConvAttrs & { inputShape: [number, number, number, number] } }): Tensor {
  const { inputs, attrs } = args;
  requireNhwc('Conv2DBackpropInput', attrs);
  const filterShape = inputs.filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const [N, H, W, Ci] = attrs.inputShape;
  const { outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const Qh = Math.ceil((H + top) / sh);
  const Qw = Math.ceil((W + left) / sw);
  return tf.tidy(() => {
    const dy = asTensor(inputs.dy) as Tensor4D;
    const filter = asTensor(inputs.filter) as Tensor4D;
    const rows: Tensor[] = [];
    for (let ry = 0; ry < sh; ry++) {
      const cols: Tensor[] = [];
      for (let rx = 0; rx < sw; rx++) {
        const mh = Math.ceil((fh - ry) / sh);
        const mw = Math.ceil((fw - rx) / sw);
        if (mh <= 0 || mw <= 0) {
          cols.push(tf.zeros([N, Qh, Qw, Ci]));
          continue;
        }
        // Taps r + (m-1)s, ..., r + s, r in reverse order: the phase's filter, already flipped.
        const rowsIdx = tf.tensor1d(Array.from({ length: mh }, (_, m) => ry + (mh - 1 - m) * sh), 'int32');
        const colsIdx = tf.tensor1d(Array.from({ length: mw }, (_, m) => rx + (mw - 1 - m) * sw), 'int32');
        const kernel = tf.transpose(tf.gather(tf.gather(filter, rowsIdx, 0), colsIdx, 1), [0, 1, 3, 2]) as Tensor4D;
        const padBottom = Math.max(mh - 1, Qh - Ho);
        const padRight = Math.max(mw - 1, Qw - Wo);
        const phase = tf.conv2d(dy, kernel, 1, [[0, 0], [mh - 1, padBottom], [mw - 1, padRight], [0, 0]]);
        cols.push(tf.slice(phase, [0, 0, 0, 0], [N, Qh, Qw, Ci]));
      }
      rows.push(tf.stack(cols, 3)); // [N, Qh, Qw, sw, Ci]
    }
    const interleaved = tf.reshape(tf.stack(rows, 2), [N, Qh * sh, Qw * sw, Ci]);
    return tf.slice(interleaved, [0, top, left, 0], [N, H, W, Ci]);
  });
}
