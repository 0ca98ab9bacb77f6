/**
 * The one TensorFlow.js import of the trainer. The union package registers every op's gradient, the chained
 * ops and the pure-JS cpu backend; other backends are registered by `selectBackend` (select.ts), never here.
 */
export * as tf from '@tensorflow/tfjs';
export type { Tensor, Variable, Rank, TensorInfo } from '@tensorflow/tfjs';
