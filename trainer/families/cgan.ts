/**
 * Conditional DCGAN (Mirza & Osindero 2014 on the DCGAN architecture): the class y, one-hot, is concatenated to z
 * at G's input, and given to D as constant label planes concatenated to the image channels. Everything else, and
 * every default, is the DCGAN's (models/dcgan.ts).
 */
import { adversarialFamily } from './adversarial.js';
import { buildDiscriminator, buildGenerator, dcganChoices, dcganDefaults, type DcganConfig } from './dcgan.js';

export type CganConfig = DcganConfig;

export const cgan = adversarialFamily<CganConfig>({
  name: 'cgan',
  description: 'conditional DCGAN (Mirza & Osindero 2014): class label given to both G and D',
  defaults: { ...dcganDefaults },
  choices: dcganChoices,
  conditional: true,
  build: (c, image, k) => ({ generator: buildGenerator(c, image, k), discriminator: buildDiscriminator(c, image, k) }),
});
