/** The model families the trainer knows, by `--model` name. */
import type { Family } from './family.js';
import { dcgan } from './models/dcgan.js';
import { cgan } from './models/cgan.js';
import { gan } from './models/gan.js';
import { vae } from './models/vae.js';

// biome-ignore lint/suspicious/noExplicitAny: each family has its own config type; callers pass the matching one
export const FAMILIES: Record<string, Family<any>> = { vae, gan, dcgan, cgan };
