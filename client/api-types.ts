/**
 * The contract types the client shares with the server (type-only: nothing of the server is bundled): the zod
 * schemas the routes validate with and the OpenAPI document is generated from (edge/api/schemas.ts).
 */
export type { z } from '@hono/zod-openapi';
export type { GenerateRequest, GridQuery, InterpolateQuery, LatentsQuery, LatentsResponse, ModelResponse, SampleQuery } from '../edge/api/schemas.js';
export type { Evaluation, Manifest, ModelFamily } from '../shared/manifest.js';
export type { LatentDistribution } from '../shared/latent.js';
