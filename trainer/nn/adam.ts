/**
 * Adam (Kingma & Ba 2015) for every model the trainer builds: tfjs's AdamOptimizer, whose update runs as one native
 * graph per step where the wasm backend has native kernels (trainer/backend/kernels/adam-graph.ts: the same
 * operations in the same order, on the CPU's native threads), and whose checkpoints also keep b1^t and b2^t. The
 * rest is tfjs's: the moments kept by the variables' position, getWeights and setWeights, and the learning rate read
 * at every update (the schedule in trainer/run/lr-schedule.ts sets it).
 */
import { tf, type Tensor } from '../backend/tf.js';
import { nativeKernelsInUse } from '../backend/kernels/register.js';

/** The fields of tfjs's AdamOptimizer that its update reads and writes (declared private there). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

type NamedTensor = Awaited<ReturnType<tf.AdamOptimizer['getWeights']>>[number];

/** The names under which getWeights adds b1^t and b2^t, so a checkpoint keeps them exactly. */
const ACC_BETAS = ['accBeta1', 'accBeta2'] as const;

class Adam extends tf.AdamOptimizer {
  /**
   * tfjs's weights plus b1^t and b2^t. Without them setWeights recomputes both as pow(b, t + 1), which differs from
   * the running product in the last bit at some steps: a run resumed mid-epoch then drifted from one that never
   * stopped by 1e-7 in its losses (tests/unit/class-balance.test.ts). They are the optimiser's own variables.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const state = this as unknown as AdamState;
    return [...(await super.getWeights()), { name: ACC_BETAS[0], tensor: state.accBeta1 }, { name: ACC_BETAS[1], tensor: state.accBeta2 }];
  }

  /** tfjs's setWeights, then b1^t and b2^t as saved; a checkpoint from before they were saved keeps tfjs's pow. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const isAcc = (w: NamedTensor) => (ACC_BETAS as readonly string[]).includes(w.name);
    await super.setWeights(weightValues.filter((w) => !isAcc(w)));
    const state = this as unknown as AdamState;
    for (const w of weightValues.filter(isAcc)) (w.name === ACC_BETAS[0] ? state.accBeta1 : state.accBeta2).assign(w.tensor);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const native = nativeKernelsInUse();
    if (!native || tf.getBackend() !== 'wasm') {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const entries: [string, Tensor | null][] = Array.isArray(variableGradients) ? variableGradients.map((v): [string, Tensor] => [v.name, v.tensor]) : Object.entries(variableGradients);
    tf.tidy(() => {
      // The moments by position, created as tfjs creates them, also for a variable without a gradient, which tfjs
      // then leaves as it is.
      const updates = entries.flatMap(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name]!;
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        return gradient ? [{ w: value, g: gradient, m: state.accumulatedFirstMoment[i]!.variable, v: state.accumulatedSecondMoment[i]!.variable }] : [];
      });
      if (updates.length > 0) {
        const negLr = tf.scalar(-this.learningRate);
        const out = native.adam(updates, { acc1: state.accBeta1, acc2: state.accBeta2, negLr }, { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon }).map((info) => tf.engine().makeTensorFromTensorInfo(info));
        updates.forEach(({ w, m, v }, i) => {
          m.assign(out[3 * i + 1]!);
          v.assign(out[3 * i + 2]!);
          w.assign(out[3 * i]!);
        });
      }
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    state.incrementIterations();
  }
}

/** Adam with `tf.train.adam`'s arguments and defaults (epsilon: the backend's). */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): tf.AdamOptimizer {
  return new Adam(learningRate, beta1, beta2, epsilon);
}
