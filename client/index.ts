export { EdgeClient, EdgeApiError } from './edge-client.js';
export type { EdgeClientOptions, ModelInfo, PngResult, Latents, RawImage } from './edge-client.js';
