/** A network spec made live in tfjs: its variables, its forward pass, its state for checkpoints. */
import { tf, type Tensor } from '../backend/tf.js';
import type { SeededRandom } from '../../shared/rng.js';
import { batchNormTraining, type BatchStatistics, type Slope } from './batch-norm.js';
import { leakyRelu } from './leaky-relu.js';
import { tanh } from './tanh.js';
import { networkParams, traceShapes, type LayerSpec, type NetworkSpec, type ParamSpec } from './layers.js';

export interface ApplyOptions {
  /** Batch statistics instead of running averages in batch norm. */
  training: boolean;
  /** With `training`: also move the running averages (once per optimiser step, not per forward pass). */
  updateStats?: boolean;
  /** Stop before a final sigmoid and return its logits (for a numerically stable cross-entropy). */
  logits?: boolean;
  /** The batch's classes, one-hot [N, classes]: for classBatchNorm and projection layers. */
  labels?: Tensor;
  /** With `training`: sees each batch norm's batch statistics (by layer index), valid only during the call. */
  onStatistics?: (layer: number, s: BatchStatistics) => void;
  /**
   * With `training`: this pass is differentiated twice (the R1 penalty). Batch norm then runs as plain ops, whose
   * gradient tfjs can differentiate again: its closed-form gradient (batch-norm.ts) treats the batch's mean and
   * variance as saved constants, which is exact once but drops their terms from a second derivative.
   */
  secondOrder?: boolean;
}

/** Initial values drawn from the run's seeded stream, so a run is reproducible from its seed alone. */
function initialValue(p: ParamSpec, init: NetworkSpec['init'], rng: SeededRandom): Float32Array {
  const n = p.shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  if (p.role === 'embedding') {
    for (let i = 0; i < n; i++) v[i] = 0.02 * rng.nextNormal();
  } else if (p.role === 'kernel') {
    if (init === 'dcgan-normal') {
      for (let i = 0; i < n; i++) v[i] = 0.02 * rng.nextNormal();
    } else {
      const [fanIn, fanOut] = p.fan!;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) v[i] = limit * (2 * rng.nextFloat() - 1);
    }
  } else if (p.role === 'gamma') {
    for (let i = 0; i < n; i++) v[i] = init === 'dcgan-normal' ? 1 + 0.02 * rng.nextNormal() : 1;
  } else if (p.role === 'movingVariance') {
    v.fill(1);
  } else if (p.role === 'spectralU') {
    // A random unit vector: the power iteration's start (Miyato et al. 2018, Algorithm 1).
    for (let i = 0; i < n; i++) v[i] = rng.nextNormal();
    const norm = Math.hypot(...v) || 1;
    for (let i = 0; i < n; i++) v[i]! /= norm;
  }
  return v;
}

/**
 * Nearest-neighbour upsampling [n, h, w, c] -> [n, f*h, f*w, c]: each output pixel (y, x) is input
 * (floor(y / f), floor(x / f)), which is ONNX Resize with nearest mode, asymmetric coordinates and floor rounding.
 * Forward from stacks and reshapes; the gradient is its adjoint, a sum over each f x f block, given by hand:
 * through the stacks' own gradient (unstack into slices) one 64x64 DCGAN step took 27 s instead of 1.8 s on the
 * wasm backend (a [64, 16, 16, 64] upsample's backward pass: 3.6 s).
 */
export function upsampleNearest(x: tf.Tensor4D, f: number): tf.Tensor4D {
  const up = tf.customGrad((input) => {
    const t = input as tf.Tensor4D;
    const [n, h, w, c] = t.shape;
    const wide = tf.reshape(tf.stack(Array<tf.Tensor4D>(f).fill(t), 3), [n, h, w * f, c]);
    const value = tf.reshape(tf.stack(Array<tf.Tensor>(f).fill(wide), 2), [n, h * f, w * f, c]) as tf.Tensor4D;
    return { value, gradFunc: (dy: tf.Tensor) => tf.sum(tf.reshape(dy, [n, h, f, w, f, c]), [2, 4]) };
  });
  return up(x) as tf.Tensor4D;
}

export class Network {
  readonly params: ParamSpec[];
  readonly variables = new Map<string, tf.Variable>();
  readonly outputShape: number[];

  constructor(
    readonly spec: NetworkSpec,
    rng: SeededRandom,
  ) {
    this.params = networkParams(spec);
    this.outputShape = traceShapes(spec).output;
    for (const p of this.params) {
      const t = tf.tensor(initialValue(p, spec.init, rng), p.shape);
      // Unnamed: tfjs variable names are process-global, and two models may hold the same parameter names.
      this.variables.set(p.name, tf.variable(t, p.trainable));
      t.dispose();
    }
  }

  trainableVariables(): tf.Variable[] {
    return this.params.filter((p) => p.trainable).map((p) => this.variables.get(p.name)!);
  }

  private v(i: number, role: ParamSpec['role']): tf.Variable {
    return this.variables.get(`${i}.${role}`)!;
  }

  /** Forward pass on a batch [N, ...inputShape]. */
  apply(x: Tensor, opts: ApplyOptions): Tensor {
    let layers = this.spec.layers.map((layer, i) => [layer, i] as const);
    if (opts.logits) {
      // Drop the final sigmoid; only a reshape, which commutes with it, may follow it.
      const s = this.spec.layers.findLastIndex((l) => l.kind === 'sigmoid');
      if (s < 0 || this.spec.layers.slice(s + 1).some((l) => l.kind !== 'reshape')) throw new Error(`${this.spec.name}: logits asked for, but the network does not end in a sigmoid`);
      layers = layers.filter(([, i]) => i !== s);
    }
    const fast = opts.training && !opts.secondOrder;
    let h = x;
    /** The bias a layer left out (below), for the batch norm after it. */
    let leftOut: Tensor | undefined;
    for (let k = 0; k < layers.length; k++) {
      const [layer, i] = layers[k]!;
      const next = layers[k + 1]?.[0];
      if (layer.kind === 'batchNorm' && fast && (next?.kind === 'relu' || next?.kind === 'leakyRelu')) {
        // A batch norm in training and the activation after it run as one (batch-norm.ts: one native pass each way).
        h = this.batchNorm(layer, i, h, opts, undefined, undefined, next.kind === 'relu' ? 0 : next.alpha, leftOut);
        k++;
      } else if (layer.kind === 'batchNorm') {
        h = this.batchNorm(layer, i, h, opts, undefined, undefined, null, leftOut);
      } else if (fast && next?.kind === 'batchNorm' && (layer.kind === 'dense' || layer.kind === 'conv2d' || layer.kind === 'conv2dTranspose')) {
        // In training, a batch norm subtracts its batch's mean, so a bias before it changes nothing: BN(x + b) = BN(x),
        // and b's gradient is 0 (Ioffe & Szegedy 2015, section 3.2, drop such a bias). The add and its gradient's sum
        // are left out (17 full-size passes a step of the 64x64 DCGAN); the norm adds b to the batch mean it reports,
        // so the running averages are those of x + b, as the exported graph, which adds b, expects.
        h = this.applyLayer(layer, i, h, opts, false);
        leftOut = this.v(i, 'bias');
        continue;
      } else h = this.applyLayer(layer, i, h, opts);
      leftOut = undefined;
    }
    return h;
  }

  private applyLayer(layer: LayerSpec, i: number, x: Tensor, opts: ApplyOptions, withBias = true): Tensor {
    const biased = (y: Tensor) => (withBias ? tf.add(y, this.v(i, 'bias')) : y);
    switch (layer.kind) {
      case 'dense':
        return biased(tf.matMul(x as tf.Tensor2D, this.kernel(layer, i) as tf.Tensor2D));
      case 'conv2d':
        return biased(tf.conv2d(x as tf.Tensor4D, this.kernel(layer, i) as tf.Tensor4D, layer.stride, 'same'));
      case 'upsample':
        return upsampleNearest(x as tf.Tensor4D, layer.factor);
      case 'conv2dTranspose': {
        const [n, h, w] = x.shape as number[];
        const out: [number, number, number, number] = [n!, h! * layer.stride, w! * layer.stride, layer.filters];
        return biased(tf.conv2dTranspose(x as tf.Tensor4D, this.v(i, 'kernel') as tf.Tensor4D, out, layer.stride, 'same'));
      }
      case 'batchNorm':
        return this.batchNorm(layer, i, x, opts);
      case 'classBatchNorm': {
        const code = this.labels(layer, opts);
        const c = x.shape[x.rank - 1]!;
        const perClass = (role: 'gamma' | 'beta') => tf.reshape(tf.matMul(code as tf.Tensor2D, this.v(i, role) as tf.Tensor2D), [-1, 1, 1, c]);
        const xhat = this.batchNorm({ kind: 'batchNorm', momentum: layer.momentum, epsilon: layer.epsilon }, i, x, opts, tf.ones([c]), tf.zeros([c]));
        return tf.add(tf.mul(xhat, perClass('gamma')), perClass('beta'));
      }
      case 'projection': {
        // w^T h + b, plus the inner product of h with its class's embedding.
        const code = this.labels(layer, opts);
        const plain = tf.add(tf.matMul(x as tf.Tensor2D, this.kernel(layer, i) as tf.Tensor2D), this.v(i, 'bias'));
        return tf.add(plain, tf.sum(tf.mul(x, tf.matMul(code as tf.Tensor2D, this.v(i, 'embedding') as tf.Tensor2D)), 1, true));
      }
      case 'relu':
        return tf.relu(x);
      case 'leakyRelu':
        return leakyRelu(x, layer.alpha);
      case 'tanh':
        return tanh(x);
      case 'sigmoid':
        return tf.sigmoid(x);
      case 'reshape':
        return tf.reshape(x, [-1, ...layer.shape]);
      case 'flatten':
        return tf.reshape(x, [x.shape[0]!, -1]);
    }
  }

  /**
   * Layer `i`'s kernel; spectrally normalised, W / sigma(W) (Miyato et al. 2018), where sigma = ||W u|| with u the
   * power iteration's current estimate of the top right singular vector of W as a [fan-in, out] matrix. With
   * v = W u / ||W u||, the paper's sigma = v^T W u is ||W u||, and holding u constant gives its gradient v u^T, as
   * the paper's treats u and v as constants. u moves in `powerIteration`, once per D step.
   */
  private kernel(layer: Extract<LayerSpec, { kind: 'dense' | 'conv2d' | 'projection' }>, i: number): Tensor {
    const w = this.v(i, 'kernel');
    if (!layer.spectralNorm) return w;
    const out = w.shape[w.shape.length - 1]!;
    const sigma = tf.norm(tf.matMul(tf.reshape(w, [-1, out]), tf.reshape(this.v(i, 'spectralU'), [out, 1])));
    return tf.div(w, sigma);
  }

  /** One power-iteration step for every spectrally normalised kernel: u <- W^T W u / ||W^T W u||. */
  powerIteration(): void {
    tf.tidy(() => {
      this.spec.layers.forEach((layer, i) => {
        if ((layer.kind !== 'dense' && layer.kind !== 'conv2d' && layer.kind !== 'projection') || !layer.spectralNorm) return;
        const w = this.v(i, 'kernel');
        const u = this.v(i, 'spectralU');
        const out = w.shape[w.shape.length - 1]!;
        const mat = tf.reshape(w, [-1, out]) as tf.Tensor2D;
        const v = tf.matMul(mat, tf.reshape(u, [out, 1]) as tf.Tensor2D);
        const next = tf.matMul(mat, tf.div(v, tf.add(tf.norm(v), 1e-12)), true, false);
        u.assign(tf.reshape(tf.div(next, tf.add(tf.norm(next), 1e-12)), [out]));
      });
    });
  }

  private labels(layer: LayerSpec, opts: ApplyOptions): Tensor {
    if (!opts.labels) throw new Error(`${this.spec.name}: a ${layer.kind} layer needs the batch's labels`);
    return opts.labels;
  }

  /**
   * Batch normalisation (Ioffe & Szegedy) over every axis but the channels; with `gamma` and `beta` given (1 and 0
   * for a classBatchNorm), they replace the layer's own. In training, `slope` adds the activation after it, and
   * `leftOut`, the bias the layer before it did not add, is added to the batch mean it reports.
   */
  private batchNorm(layer: Extract<LayerSpec, { kind: 'batchNorm' }>, i: number, x: Tensor, opts: ApplyOptions, gamma: Tensor = this.v(i, 'gamma'), beta: Tensor = this.v(i, 'beta'), slope: Slope = null, leftOut?: Tensor): Tensor {
    const mm = this.v(i, 'movingMean');
    const mv = this.v(i, 'movingVariance');
    if (!opts.training) return tf.batchNorm(x, mm, mv, beta, gamma, layer.epsilon);
    if (opts.secondOrder) {
      const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, a) => a));
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, layer.epsilon))), gamma), beta);
    }
    // The running averages are statistics, not parameters: plain assignments, outside any gradient, once per
    // optimiser step.
    const moveAverages = ({ mean, variance }: BatchStatistics) => {
      mm.assign(tf.tidy(() => tf.add(tf.mul(mm, layer.momentum), tf.mul(mean, 1 - layer.momentum))));
      mv.assign(tf.tidy(() => tf.add(tf.mul(mv, layer.momentum), tf.mul(variance, 1 - layer.momentum))));
    };
    const seen = opts.onStatistics;
    const onStatistics = opts.updateStats ? moveAverages : seen ? (s: BatchStatistics) => seen(i, s) : undefined;
    return batchNormTraining(x, gamma, beta, layer.epsilon, onStatistics, slope, leftOut);
  }

  /**
   * Standing statistics (Brock et al. 2019, "Large Scale GAN Training", appendix C.1): every batch norm's running
   * mean and variance become the average of its batch statistics over `passes` forward passes in training mode,
   * with inputs from `input(pass)`. For a weight average of G (adversarial.ts), whose running averages would
   * otherwise be G's own, measured on other weights.
   */
  standingStatistics(passes: number, input: (pass: number) => { x: Tensor; labels?: Tensor }): void {
    const sums = new Map<number, BatchStatistics>();
    for (let p = 0; p < passes; p++) {
      tf.tidy(() => {
        const { x, labels } = input(p);
        this.apply(x, {
          training: true,
          ...(labels ? { labels } : {}),
          onStatistics: (layer, { mean, variance }) => {
            const prev = sums.get(layer);
            sums.set(layer, { mean: tf.keep(prev ? tf.add(prev.mean, mean) : mean.clone()), variance: tf.keep(prev ? tf.add(prev.variance, variance) : variance.clone()) });
            if (prev) tf.dispose([prev.mean, prev.variance]);
          },
        });
      });
    }
    tf.tidy(() => {
      for (const [i, { mean, variance }] of sums) {
        this.v(i, 'movingMean').assign(tf.div(mean, passes));
        this.v(i, 'movingVariance').assign(tf.div(variance, passes));
        tf.dispose([mean, variance]);
      }
    });
  }

  /** All variables' values by parameter name (for checkpoints and export). */
  async snapshot(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const p of this.params) out.set(p.name, { shape: p.shape, data: (await this.variables.get(p.name)!.data()) as Float32Array });
    return out;
  }

  /** Overwrites every variable from a snapshot; shapes must match exactly. */
  restore(values: Map<string, { shape: number[]; data: Float32Array }>): void {
    for (const p of this.params) {
      const v = values.get(p.name);
      if (!v) throw new Error(`${this.spec.name}: checkpoint has no parameter ${p.name}`);
      if (v.shape.join() !== p.shape.join()) throw new Error(`${this.spec.name}: parameter ${p.name} has shape [${v.shape}], expected [${p.shape}]`);
      const t = tf.tensor(v.data, p.shape);
      this.variables.get(p.name)!.assign(t);
      t.dispose();
    }
  }

  /**
   * Moves this network toward `source` (same spec): trained parameters by an exponential moving average,
   * w <- decay * w + (1 - decay) * w_source; batch-norm statistics are copied. decay 0 copies everything.
   */
  averageFrom(source: Network, decay: number): void {
    tf.tidy(() => {
      for (const p of this.params) {
        const mine = this.variables.get(p.name)!;
        const theirs = source.variables.get(p.name)!;
        mine.assign(p.trainable && decay > 0 ? tf.add(tf.mul(mine, decay), tf.mul(theirs, 1 - decay)) : theirs.clone());
      }
    });
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}
