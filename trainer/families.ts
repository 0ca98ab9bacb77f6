/** The model families the trainer knows, by `--model` name. */
import type { Family } from './family.js';
import { dcgan } from './models/dcgan.js';
import { cgan } from './models/cgan.js';
import { gan } from './models/gan.js';
import { vae } from './models/vae.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const FAMILIES: Record<string, Family<any>> = { vae, gan, dcgan, cgan };
