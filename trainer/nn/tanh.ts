/**
 * tanh, G's last activation (Radford et al. 2016), with the gradient dy * (1 - y^2) from its output. On the wasm
 * backend with native kernels the forward pass runs natively: tfjs's wasm Tanh is a scalar loop, 14 ms for a
 * [64, 64, 64, 3] image batch on two threads of an AMD EPYC.
 */
import { tf, type Tensor } from '../backend/tf.js';
import { nativeKernelsInUse } from '../backend/kernels/register.js';

export function tanh(x: Tensor): Tensor {
  const native = nativeKernelsInUse();
  if (!native || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.tanh(x);
  const op = tf.customGrad((input, save) => {
    const y = tf.engine().makeTensorFromTensorInfo(native.tanh(input as Tensor));
    (save as tf.GradSaveFunc)([y]);
    return { value: y, gradFunc: (dy: Tensor, [saved]: Tensor[]) => tf.mul(dy, tf.sub(1, tf.square(saved!))) };
  });
  return op(x);
}
