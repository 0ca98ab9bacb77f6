/**
 * One Adam update of every variable of an optimiser (Kingma & Ba 2015, Algorithm 1) as one ONNX graph, for
 * native-kernels.ts: the same operations in the same order as tfjs's AdamOptimizer.applyGradients, so the same
 * float32 values (tests/unit/adam.test.ts), but on the CPU's native element-wise kernels and threads in one call per
 * step. tfjs's wasm kernels ran them one at a time on one thread: about 13 kernels per variable, 28 ms of a 64x64
 * DCGAN step here (2 threads, AMD EPYC), against PyTorch's 6.6 ms.
 *
 *   m' = m * b1 + g * (1 - b1),  v' = v * b2 + g^2 * (1 - b2)
 *   w' = (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps) * -lr + w
 *
 * Inputs: w_i, g_i, m_i, v_i for each variable i, acc1 and acc2 (b1^t and b2^t, tfjs's accBeta1 and accBeta2) and
 * negLr (-lr) as scalars; outputs w_i', m_i', v_i' as `w_i_new`, `m_i_new`, `v_i_new`. Every name has the index after
 * an underscore: without it, variable 0's `g2` (g squared) would be variable 20's gradient `g20`.
 */
import type { OnnxGraph, OnnxNode } from '../../export/onnx-model.js';

export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
}

const op = (type: string, inputs: string[], output: string): OnnxNode => ({ op: type, inputs, outputs: [output] });
const scalar = (name: string, value: number) => ({ name, dims: [], data: Float32Array.of(value) });

/** The graph's name of `name` (an input, output or intermediate) for variable `i`. */
export const adamName = (name: string, i: number) => `${name}_${i}`;

export function adamGraph(shapes: number[][], c: AdamConstants): OnnxGraph {
  const nodes: OnnxNode[] = [op('Sub', ['one', 'acc1'], 'c1'), op('Sub', ['one', 'acc2'], 'c2')];
  shapes.forEach((_, i) => {
    const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((n) => adamName(n, i)) as [string, string, string, string];
    const t = (name: string) => adamName(name, i);
    nodes.push(
      op('Mul', [m, 'b1'], t('m_b1')),
      op('Mul', [g, 'omb1'], t('g_omb1')),
      op('Add', [t('m_b1'), t('g_omb1')], `${m}_new`),
      op('Mul', [g, g], t('g2')),
      op('Mul', [v, 'b2'], t('v_b2')),
      op('Mul', [t('g2'), 'omb2'], t('g2_omb2')),
      op('Add', [t('v_b2'), t('g2_omb2')], `${v}_new`),
      op('Div', [`${m}_new`, 'c1'], t('m_hat')),
      op('Div', [`${v}_new`, 'c2'], t('v_hat')),
      op('Sqrt', [t('v_hat')], t('root')),
      op('Add', [t('root'), 'eps'], t('denominator')),
      op('Div', [t('m_hat'), t('denominator')], t('ratio')),
      op('Mul', [t('ratio'), 'negLr'], t('step')),
      op('Add', [t('step'), w], `${w}_new`),
    );
  });
  const io = (name: string, shape: number[]) => ({ name, dtype: 'float32' as const, shape });
  return {
    name: 'adam',
    nodes,
    initializers: [scalar('one', 1), scalar('b1', c.beta1), scalar('omb1', 1 - c.beta1), scalar('b2', c.beta2), scalar('omb2', 1 - c.beta2), scalar('eps', c.epsilon)],
    inputs: [...shapes.flatMap((s, i) => ['w', 'g', 'm', 'v'].map((n) => io(adamName(n, i), s))), io('acc1', []), io('acc2', []), io('negLr', [])],
    outputs: shapes.flatMap((s, i) => ['w', 'm', 'v'].map((n) => io(`${adamName(n, i)}_new`, s))),
  };
}
