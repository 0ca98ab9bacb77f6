export { EdgeClient, EdgeApiError } from './edge-client.js';
export type { EdgeClientOptions, GridOptions, InterpolateOptions, Latents, LatentsOptions, ModelInfo, PngResult, PublicApiClient, RawImage, SampleOptions, Seed } from './edge-client.js';
