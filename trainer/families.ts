/** The model families the trainer knows, by `--model` name. */
import type { Family } from './family.js';
import { dcgan } from './models/dcgan.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const FAMILIES: Record<string, Family<any>> = { dcgan };
