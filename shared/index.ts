export * from './rng.js';
export * from './latent.js';
export * from './pixels.js';
export * from './png.js';
export * from './grid.js';
export * from './manifest.js';
