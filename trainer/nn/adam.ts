/**
 * Adam (Kingma & Ba 2015) for every model the trainer builds: tfjs's AdamOptimizer, whose update runs as one native
 * graph per step where the wasm backend has native kernels (trainer/backend/kernels/adam-graph.ts: the same
 * operations in the same order, on the CPU's native threads). Everything else is tfjs's: the moments kept by the
 * variables' position, getWeights and setWeights (checkpoints), and the learning rate read at every update (the
 * schedule in trainer/run/lr-schedule.ts sets it).
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

class Adam extends tf.AdamOptimizer {
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
