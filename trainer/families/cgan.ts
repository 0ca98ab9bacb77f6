/**
 * Conditional DCGAN (Mirza & Osindero 2014 on the DCGAN architecture): the class y, one-hot, is concatenated to z
 * at G's input, and given to D as constant label planes concatenated to the image channels. Everything else, and
 * every default, is the DCGAN's (dcgan.ts).
 */
import { adversarialFamily } from './adversarial.js';
import { buildDiscriminator, buildGenerator, dcganChoices, dcganDefaults, type Conditioning, type DcganConfig } from './dcgan.js';

export const CONDITIONING = ['concat', 'projection'] as const;

export interface CganConfig extends DcganConfig {
  /**
   * 'concat': one-hot y after z, and as constant planes beside D's image (the paper). 'projection': class batch
   * norm in G's upsampling stages (de Vries et al. 2017) and a projection discriminator, whose logit adds the
   * inner product of its features with y's embedding (Miyato & Koyama 2018). Absent in older runs: concat.
   */
  conditioning: Conditioning['mode'];
}

export const cgan = adversarialFamily<CganConfig>({
  name: 'cgan',
  description: 'conditional DCGAN (Mirza & Osindero 2014): class label given to both G and D',
  defaults: { ...dcganDefaults, conditioning: 'concat' },
  choices: { ...dcganChoices, conditioning: CONDITIONING },
  conditional: true,
  build: (c, image, k) => {
    const cond: Conditioning = { classes: k, mode: c.conditioning ?? 'concat' };
    return { generator: buildGenerator(c, image, cond), discriminator: buildDiscriminator(c, image, cond) };
  },
});
