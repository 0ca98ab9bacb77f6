/** The contract types the client shares with the server (type-only: nothing of the server is bundled). */
export type { Evaluation, Manifest, ModelFamily } from '../shared/manifest.js';
export type { LatentDistribution } from '../shared/latent.js';
