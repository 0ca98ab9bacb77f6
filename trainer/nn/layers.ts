/**
 * The layer vocabulary of every network the trainer builds. A network is a plain list of these specs; the
 * trainer runs it with tfjs (network.ts) and the exporter turns the same list into ONNX nodes
 * (export/onnx-graph.ts), so the two cannot disagree about what a layer computes.
 *
 * Tensors are NHWC in tfjs. Parameter layouts follow tfjs: dense kernel [in, out]; conv2d kernel
 * [k, k, in, out]; conv2dTranspose kernel [k, k, out, in]. Convolutions use 'same' padding.
 */

export type LayerSpec =
  /** `spectralNorm`: the kernel is divided by its largest singular value in training (Miyato et al. 2018). */
  | { kind: 'dense'; units: number; spectralNorm?: boolean }
  | { kind: 'conv2d'; filters: number; kernel: number; stride: number; spectralNorm?: boolean }
  | { kind: 'conv2dTranspose'; filters: number; kernel: number; stride: number }
  | { kind: 'batchNorm'; momentum: number; epsilon: number }
  /**
   * Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018): an image's channels normalised as by
   * batch norm, then scaled and shifted by its class's own gamma and beta. Needs the labels (ApplyOptions).
   */
  | { kind: 'classBatchNorm'; classes: number; momentum: number; epsilon: number }
  /**
   * A projection discriminator's head (Miyato & Koyama 2018, eq. 3): features h [F] to one logit
   * w^T h + b + embed(y)^T h. Needs the labels (ApplyOptions).
   */
  | { kind: 'projection'; classes: number; spectralNorm?: boolean }
  /** Nearest-neighbour upsampling by an integer factor: each value becomes a factor x factor block. */
  | { kind: 'upsample'; factor: number }
  | { kind: 'relu' }
  | { kind: 'leakyRelu'; alpha: number }
  | { kind: 'tanh' }
  | { kind: 'sigmoid' }
  /** Vector [units] to image [height, width, channels] (NHWC order, as tfjs reshapes). */
  | { kind: 'reshape'; shape: [number, number, number] }
  /** Image [h, w, c] to vector [h*w*c] (NHWC order). */
  | { kind: 'flatten' };

/** How weights start: N(0, 0.02) as in the DCGAN paper, or Glorot-uniform for MLPs. */
export type InitScheme = 'dcgan-normal' | 'glorot-uniform';

export interface NetworkSpec {
  name: string;
  /** Input shape without the batch dimension: [units] or [h, w, c]. */
  inputShape: number[];
  layers: LayerSpec[];
  init: InitScheme;
}

export interface ParamSpec {
  /** `${layerIndex}.${role}`, stable across versions: checkpoints and the exporter look parameters up by it. */
  name: string;
  shape: number[];
  /** `spectralU`: the power iteration's estimate of a spectrally normalised kernel's top singular vector. */
  role: 'kernel' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance' | 'spectralU' | 'embedding';
  /** Trained by the optimiser (false for batch-norm running statistics). */
  trainable: boolean;
  /** Kernel fan-in and fan-out, for initialisation. */
  fan?: [number, number];
}

function channels(shape: number[]): number {
  return shape[shape.length - 1]!;
}

/** The output shape (without batch) of `layer` applied to `input`; throws on a mismatch. */
export function outputShape(layer: LayerSpec, input: number[], where: string): number[] {
  const isImage = input.length === 3;
  const needImage = () => {
    if (!isImage) throw new Error(`${where}: ${layer.kind} needs an image input [h, w, c], got [${input}]`);
  };
  switch (layer.kind) {
    case 'dense':
      if (input.length !== 1) throw new Error(`${where}: dense needs a vector input, got [${input}]`);
      return [layer.units];
    case 'conv2d':
      needImage();
      return [Math.ceil(input[0]! / layer.stride), Math.ceil(input[1]! / layer.stride), layer.filters];
    case 'conv2dTranspose':
      needImage();
      return [input[0]! * layer.stride, input[1]! * layer.stride, layer.filters];
    case 'classBatchNorm':
      needImage();
      return input;
    case 'projection':
      if (input.length !== 1) throw new Error(`${where}: projection needs a vector input, got [${input}]`);
      return [1];
    case 'upsample':
      needImage();
      return [input[0]! * layer.factor, input[1]! * layer.factor, input[2]!];
    case 'reshape': {
      const size = layer.shape.reduce((a, b) => a * b, 1);
      if (input.length !== 1 || input[0] !== size) throw new Error(`${where}: reshape to [${layer.shape}] needs a vector of ${size}, got [${input}]`);
      return [...layer.shape];
    }
    case 'flatten':
      needImage();
      return [input.reduce((a, b) => a * b, 1)];
    default:
      return input;
  }
}

/** The parameters of `layer` (index `i`) given its input shape. */
export function layerParams(layer: LayerSpec, i: number, input: number[]): ParamSpec[] {
  const p = (role: ParamSpec['role'], shape: number[], trainable = true, fan?: [number, number]): ParamSpec => ({ name: `${i}.${role}`, shape, role, trainable, ...(fan ? { fan } : {}) });
  const c = channels(input);
  switch (layer.kind) {
    case 'dense':
      return [p('kernel', [c, layer.units], true, [c, layer.units]), p('bias', [layer.units]), ...(layer.spectralNorm ? [p('spectralU', [layer.units], false)] : [])];
    case 'conv2d': {
      const k = layer.kernel;
      return [p('kernel', [k, k, c, layer.filters], true, [k * k * c, k * k * layer.filters]), p('bias', [layer.filters]), ...(layer.spectralNorm ? [p('spectralU', [layer.filters], false)] : [])];
    }
    case 'conv2dTranspose': {
      const k = layer.kernel;
      return [p('kernel', [k, k, layer.filters, c], true, [k * k * c, k * k * layer.filters]), p('bias', [layer.filters])];
    }
    case 'batchNorm':
      return [p('gamma', [c]), p('beta', [c]), p('movingMean', [c], false), p('movingVariance', [c], false)];
    case 'classBatchNorm':
      return [p('gamma', [layer.classes, c]), p('beta', [layer.classes, c]), p('movingMean', [c], false), p('movingVariance', [c], false)];
    case 'projection':
      return [p('kernel', [c, 1], true, [c, 1]), p('bias', [1]), p('embedding', [layer.classes, c]), ...(layer.spectralNorm ? [p('spectralU', [1], false)] : [])];
    default:
      return [];
  }
}

/** Every layer's input shape, and the network's output shape, checked end to end. */
export function traceShapes(spec: NetworkSpec): { inputs: number[][]; output: number[] } {
  const inputs: number[][] = [];
  let shape = spec.inputShape;
  spec.layers.forEach((layer, i) => {
    inputs.push(shape);
    shape = outputShape(layer, shape, `${spec.name} layer ${i}`);
  });
  return { inputs, output: shape };
}

/** All parameters of a network, in layer order. */
export function networkParams(spec: NetworkSpec): ParamSpec[] {
  const { inputs } = traceShapes(spec);
  return spec.layers.flatMap((layer, i) => layerParams(layer, i, inputs[i]!));
}
