/** The contract types the client shares with the server (type-only: nothing of the server is bundled). */
export type { Evaluation, ModelFamily } from '../shared/manifest.js';
export type { LatentDistribution } from '../shared/latent.js';
