/**
 * Variational autoencoder (Kingma & Welling 2014): an encoder q(z|x) giving the mean and log-variance of a
 * diagonal Gaussian, the reparameterisation z = mu + exp(logvar / 2) * eps, and a decoder p(x|z) over pixels in
 * [0, 1]. MLP or convolutional architecture.
 *
 * The likelihood: 'bernoulli' (the paper's, and the default) treats each pixel as the probability of a binary
 * outcome. That fits Fashion-MNIST's near-binary pixels and keeps its nats comparable with the literature, but it
 * is not a density on [0, 1]: for continuous colour it favours washed-out, mid-grey reconstructions.
 * 'continuous-bernoulli' (Loaiza-Ganem & Cunningham 2019) adds the normalising constant C(lambda) that makes the same
 * shape a proper density on [0, 1]; use it for colour images. The served decoder outputs lambda in both cases.
 */
import { tf } from '../backend/tf.js';
import { adam } from '../nn/adam.js';
import type { Family } from './family.js';
import type { NetworkSpec } from '../nn/layers.js';
import { Network } from '../nn/network.js';
import { fillLatent } from '../../shared/latent.js';
import type { ImageShape } from '../../shared/grid.js';
import { TENSOR_NAMES } from '../../shared/manifest.js';

export interface VaeConfig {
  /** 'mlp' (default; the paper's) or 'conv'. */
  arch: 'mlp' | 'conv';
  /** Size of z. 16; 2 gives a latent map to draw. */
  latentSize: number;
  /** MLP hidden width, encoder and decoder. 512. */
  hiddenUnits: number;
  /** Conv channels after the first and second stride-2 convolution. [32, 64]. */
  convChannels: [number, number];
  /** Adam learning rate and beta1. 1e-3 and 0.9. */
  learningRate: number;
  beta1: number;
  /** p(x|z): 'bernoulli' (default) or 'continuous-bernoulli' (for colour; see above). */
  likelihood: VaeLikelihood;
}

export const VAE_LIKELIHOODS = ['bernoulli', 'continuous-bernoulli'] as const;
export type VaeLikelihood = (typeof VAE_LIKELIHOODS)[number];

export const vaeDefaults: VaeConfig = { arch: 'mlp', latentSize: 16, hiddenUnits: 512, convChannels: [32, 64], learningRate: 1e-3, beta1: 0.9, likelihood: 'bernoulli' };

/**
 * log C(lambda) of the continuous Bernoulli (Loaiza-Ganem & Cunningham 2019, eq. 7) from the logit l of lambda:
 * C = 2 atanh(1 - 2 lambda) / (1 - 2 lambda) = l / tanh(l / 2), an even function, 2 at l = 0 where the closed form
 * divides 0 by 0. |l| is clamped to 1e-3 from below: there log C = log(2 + l^2 / 6) differs from its value at 1e-3 by
 * under 1e-7 nats per pixel, and no branch (tfjs has no gradient for the comparison a where() needs) can be NaN.
 */
export function continuousBernoulliLogNorm(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.maximum(tf.abs(logits), 1e-3);
    return tf.sub(tf.log(a), tf.log(tf.tanh(tf.div(a, 2))));
  });
}

/** q(z|x): image -> [mean | logvar], 2 * latentSize values (split into two tensors at export). */
export function buildEncoder(c: VaeConfig, image: ImageShape): NetworkSpec {
  const body: NetworkSpec['layers'] =
    c.arch === 'mlp'
      ? [{ kind: 'flatten' }, { kind: 'dense', units: c.hiddenUnits }, { kind: 'relu' }]
      : [
          { kind: 'conv2d', filters: c.convChannels[0], kernel: 4, stride: 2 },
          { kind: 'relu' },
          { kind: 'conv2d', filters: c.convChannels[1], kernel: 4, stride: 2 },
          { kind: 'relu' },
          { kind: 'flatten' },
        ];
  return { name: 'encoder', inputShape: [image.height, image.width, image.channels], init: 'glorot-uniform', layers: [...body, { kind: 'dense', units: 2 * c.latentSize }] };
}

/** p(x|z): z -> Bernoulli means in [0, 1] (sigmoid; training uses its logits). */
export function buildDecoder(c: VaeConfig, image: ImageShape): NetworkSpec {
  const { width: w, height: h, channels: ch } = image;
  const body: NetworkSpec['layers'] =
    c.arch === 'mlp'
      ? [{ kind: 'dense', units: c.hiddenUnits }, { kind: 'relu' }, { kind: 'dense', units: w * h * ch }, { kind: 'sigmoid' }, { kind: 'reshape', shape: [h, w, ch] }]
      : [
          { kind: 'dense', units: (h / 4) * (w / 4) * c.convChannels[1] },
          { kind: 'relu' },
          { kind: 'reshape', shape: [h / 4, w / 4, c.convChannels[1]] },
          { kind: 'conv2dTranspose', filters: c.convChannels[0], kernel: 4, stride: 2 },
          { kind: 'relu' },
          { kind: 'conv2dTranspose', filters: ch, kernel: 4, stride: 2 },
          { kind: 'sigmoid' },
        ];
  if (c.arch === 'conv' && (h % 4 !== 0 || w % 4 !== 0)) throw new Error(`--arch conv needs image sides divisible by 4, got ${w}x${h}`);
  return { name: 'decoder', inputShape: [c.latentSize], init: 'glorot-uniform', layers: body };
}

/**
 * Per-image negative ELBO terms (Kingma & Welling 2014, eq. 10 and appendix B), averaged over the batch:
 * reconstruction = Bernoulli cross-entropy summed over pixels, -sum[x log p + (1 - x) log(1 - p)], computed from
 * logits l as softplus(l) - x * l; KL(q(z|x) || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - exp(logvar)) over latent
 * dimensions. Both are sums per image, so the two terms are on the same scale.
 */
export function vaeLossTerms(x: tf.Tensor4D, logits: tf.Tensor4D, mean: tf.Tensor2D, logvar: tf.Tensor2D, likelihood: VaeLikelihood = 'bernoulli'): { recon: tf.Scalar; kl: tf.Scalar } {
  let perPixel: tf.Tensor = tf.sub(tf.softplus(logits), tf.mul(x, logits));
  // Continuous Bernoulli (Loaiza-Ganem & Cunningham 2019): -log p = Bernoulli cross-entropy - log C(lambda).
  // A density on [0, 1], so -log p can be negative, and at pixels of exactly 0 or 1 it falls without bound as lambda
  // goes there (log C grows like log|logit|): its loss is negative and not comparable with the Bernoulli's
  // (docs/training.md, "The VAE's likelihood", measured).
  if (likelihood === 'continuous-bernoulli') perPixel = tf.sub(perPixel, continuousBernoulliLogNorm(logits));
  const recon = tf.mean(tf.sum(perPixel, [1, 2, 3])) as tf.Scalar;
  const kl = tf.mean(tf.mul(-0.5, tf.sum(tf.sub(tf.add(1, logvar), tf.add(tf.square(mean), tf.exp(logvar))), 1))) as tf.Scalar;
  return { recon, kl };
}

export const vae: Family<VaeConfig> = {
  name: 'vae',
  description: 'VAE (Kingma & Welling 2014): Gaussian encoder, Bernoulli or continuous Bernoulli decoder',
  defaults: vaeDefaults,
  choices: { arch: ['mlp', 'conv'], likelihood: VAE_LIKELIHOODS },
  pixelRange: '0..1',
  latent: (c) => ({ size: c.latentSize, distribution: 'normal' }),
  create(c, ctx, rng) {
    if (c.arch !== 'mlp' && c.arch !== 'conv') throw new Error(`--arch must be mlp or conv, got "${c.arch}"`);
    const encoder = new Network(buildEncoder(c, ctx.image), rng);
    const decoder = new Network(buildDecoder(c, ctx.image), rng);
    const opt = adam(c.learningRate, c.beta1, 0.999, 1e-8);
    const L = c.latentSize;
    const vars = [...encoder.trainableVariables(), ...decoder.trainableVariables()];
    const encode = (x: tf.Tensor4D) => {
      const stats = encoder.apply(x, { training: true }) as tf.Tensor2D;
      const n = x.shape[0];
      return { mean: tf.slice(stats, [0, 0], [n, L]), logvar: tf.slice(stats, [0, L], [n, L]) };
    };
    return {
      networks: { encoder, decoder },
      optimizers: { vae: opt },
      async step(nextBatch, stepRng) {
        const batch = nextBatch();
        const n = batch.images.shape[0];
        const eps = tf.tensor2d(fillLatent(stepRng, 'normal', new Float32Array(n * L)), [n, L]);
        let parts: tf.Tensor1D | null = null;
        const cost = opt.minimize(() => {
          const { mean, logvar } = encode(batch.images);
          // Reparameterisation (Kingma & Welling 2014, section 2.4): z = mu + sigma * eps, eps ~ N(0, I).
          const z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps));
          const logits = decoder.apply(z, { training: true, logits: true }) as tf.Tensor4D;
          const { recon, kl } = vaeLossTerms(batch.images, logits, mean, logvar, c.likelihood ?? 'bernoulli');
          parts = tf.keep(tf.stack([recon, kl]) as tf.Tensor1D);
          return tf.add(recon, kl) as tf.Scalar;
        }, true, vars)!;
        tf.dispose([eps, batch.images]);
        const [[recon, kl], [loss]] = await Promise.all([parts!.data(), cost.data()]);
        tf.dispose([cost, parts!]);
        return { loss: loss!, recon: recon!, kl: kl! };
      },
      sample: (latents, n) => tf.tidy(() => decoder.apply(tf.tensor2d(latents, [n, L]), { training: false }) as tf.Tensor4D),
      reconstruct: (images) => tf.tidy(() => decoder.apply(encode(images).mean, { training: false }) as tf.Tensor4D),
      exports: [
        { role: 'decoder', network: decoder, input: 'latent', outputs: [TENSOR_NAMES.image] },
        { role: 'encoder', network: encoder, input: 'image', outputs: [TENSOR_NAMES.mean, TENSOR_NAMES.logvar] },
      ],
    };
  },
};
