/** The model families the trainer knows, by `--model` name. */
import type { Family } from './family.js';
import { dcgan } from './dcgan.js';
import { cgan } from './cgan.js';
import { gan } from './gan.js';
import { vae } from './vae.js';

// biome-ignore lint/suspicious/noExplicitAny: each family has its own config type; callers pass the matching one
export const FAMILIES: Record<string, Family<any>> = { vae, gan, dcgan, cgan };
