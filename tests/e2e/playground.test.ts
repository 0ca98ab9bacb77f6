/**
 * The playground page in a real browser (Debian's chromium driven by playwright-core) against a locally started
 * worker (wrangler dev): a grid appears and is not blank, a new seed changes it, a slider changes the sample, the
 * embed snippet's URL returns the image shown, and the layout fits a phone. Screenshots go to tests/e2e/artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLocalWorker, type LocalWorker } from '../helpers/local-worker.js';
import { decodePng } from '../../shared/png.js';
import { upscaleNearest } from '../../shared/grid.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'tests/e2e/artifacts';
let worker: LocalWorker;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  worker = await startLocalWorker(8811, '/v1/models/dcgan-fashion/sample.png?seed=1');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${worker.base}/`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

/** A hash and the number of distinct grey levels of a loaded <img>, read back through a canvas. */
async function pixels(selector: string): Promise<{ hash: number; levels: number; width: number }> {
  await page.waitForFunction((s) => {
    const img = document.querySelector(s) as HTMLImageElement;
    return img.complete && img.naturalWidth > 0;
  }, selector);
  return page.evaluate((s) => {
    const img = document.querySelector(s) as HTMLImageElement;
    const canvas = Object.assign(document.createElement('canvas'), { width: img.naturalWidth, height: img.naturalHeight });
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 0;
    const levels = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      hash = (Math.imul(hash, 31) + data[i]!) | 0;
      levels.add(data[i]!);
    }
    return { hash, levels: levels.size, width: img.naturalWidth };
  }, selector);
}

async function srcChange(selector: string, before: string): Promise<void> {
  await page.waitForFunction(([s, b]) => (document.querySelector(s!) as HTMLImageElement).src !== b, [selector, before] as const);
}

describe('the playground page', () => {
  it('shows a grid of generated images that is not blank, and the class picker only for conditional models', async () => {
    expect(await page.$eval('#classWrap', (e) => getComputedStyle(e).display)).toBe('none');
    const grid = await pixels('#grid');
    expect(grid.width).toBe(4 * 28);
    expect(grid.levels).toBeGreaterThan(32);
    await page.screenshot({ path: `${ARTIFACTS}/playground.png`, fullPage: true });
  });

  it('changes the images when the seed changes', async () => {
    const before = await pixels('#grid');
    const src = await page.$eval('#grid', (i) => (i as HTMLImageElement).src);
    await page.fill('#seed', '2');
    await page.dispatchEvent('#seed', 'change');
    await srcChange('#grid', src);
    const after = await pixels('#grid');
    expect(after.hash).not.toBe(before.hash);
  });

  it('moves the sample when a latent slider moves', async () => {
    const before = await pixels('#sample');
    const src = await page.$eval('#sample', (i) => (i as HTMLImageElement).src);
    await page.$eval('#sliders input[data-dim="0"]', (el) => {
      const input = el as HTMLInputElement;
      input.value = String(Number(input.value) > 0 ? -2.5 : 2.5);
      input.dispatchEvent(new Event('input'));
    });
    await srcChange('#sample', src);
    const after = await pixels('#sample');
    expect(after.hash).not.toBe(before.hash);
    await page.screenshot({ path: `${ARTIFACTS}/playground-slider.png` });
  });

  it('draws slider images on the device (WebGPU or WebAssembly), pixel for pixel what the edge draws, and reports its compute time', async () => {
    await page.waitForFunction(() => document.querySelector('#engine')!.textContent !== 'edge API', undefined, { timeout: 30_000 });
    const engine = await page.$eval('#engine', (e) => e.textContent);
    // This browser runs with --disable-gpu: no WebGPU adapter, so WebAssembly draws (WebGPU: the test below).
    expect(engine).toBe('WebAssembly in this browser');
    // Back to the seed's own latent, drawn on the device: the same pixels as the server's sample.png.
    await page.click('#reset');
    await page.waitForFunction(() => (document.querySelector('#sample') as HTMLImageElement).src.includes('/sample.png'));
    const server = await pixels('#sample');
    const src = await page.$eval('#sample', (i) => (i as HTMLImageElement).src);
    await page.$eval('#sliders input[data-dim="0"]', (el) => el.dispatchEvent(new Event('input')));
    await srcChange('#sample', src);
    expect(await page.$eval('#sample', (i) => (i as HTMLImageElement).src.startsWith('data:image/png'))).toBe(true);
    expect((await pixels('#sample')).hash).toBe(server.hash);
    // A dozen slider moves: the page reports the median time of session.run for one image (a number to read, not a
    // speed test: timings belong in npm run bench).
    for (let k = 0; k < 12; k++) {
      const before = await page.$eval('#sample', (i) => (i as HTMLImageElement).src);
      await page.$eval('#sliders input[data-dim="1"]', (el, v) => {
        (el as HTMLInputElement).value = String(v);
        el.dispatchEvent(new Event('input'));
      }, -2 + k * 0.3);
      await srcChange('#sample', before);
    }
    const ms = Number(await page.$eval('body', (b) => (b as HTMLElement).dataset['computeMs']));
    console.log(`playground: ${engine}, median ${ms} ms of compute per image`);
    expect(ms).toBeGreaterThan(0);
  });

  it('gives embed code whose URL returns the image shown', async () => {
    await page.click('#reset');
    await page.waitForFunction(() => (document.querySelector('#sample') as HTMLImageElement).src.includes('/sample.png'));
    const embed = await page.$eval('#embed', (t) => (t as HTMLTextAreaElement).value);
    const url = /src="([^"]+)"/.exec(embed)![1]!;
    // Pinned to the version shown, and upscaled 4x for crisp pixels without CSS.
    const [, id, version] = new RegExp(`^${worker.base}/v1/models/([a-z0-9-]+)@([0-9a-f]{12})/sample\\.png\\?.*scale=4`).exec(url)!;
    expect(((await (await fetch(`${worker.base}/v1/models/${id}`)).json()) as { version: string }).version).toBe(version);
    const shown = await page.$eval('#sample', (i) => (i as HTMLImageElement).src);
    const [a, b] = await Promise.all([url, shown].map(async (u) => decodePng(new Uint8Array(await (await fetch(u)).arrayBuffer()))));
    expect(a).toEqual(upscaleNearest(b!, 4));
  });

  it('maps a 2-d VAE latent space, and a click on the map draws that latent', async () => {
    const vae = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await vae.goto(`${worker.base}/?model=vae2d-fashion`);
    await vae.waitForSelector('body[data-ready=true]');
    await vae.waitForFunction(() => (document.querySelector('#map') as HTMLImageElement).naturalWidth > 0);
    expect(await vae.$eval('#map', (i) => (i as HTMLImageElement).naturalWidth)).toBe(8 * 28);
    const before = await vae.$eval('#sample', (i) => (i as HTMLImageElement).src);
    const box = (await vae.$('#map'))!;
    await box.click({ position: { x: 10, y: 10 } }); // top left: z = (-2, 2) roughly
    await vae.waitForFunction((b) => (document.querySelector('#sample') as HTMLImageElement).src !== b, before);
    const z = await vae.$$eval('#sliders span:nth-child(3n)', (spans) => spans.slice(0, 2).map((s) => Number(s.textContent)));
    expect(z[0]).toBeLessThan(-1.5);
    expect(z[1]).toBeGreaterThan(1.5);
    await vae.screenshot({ path: `${ARTIFACTS}/playground-vae-map.png`, fullPage: true });
    await vae.close();
  });

  it('fits a phone screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    await phone.goto(`${worker.base}/?model=cgan-fashion`);
    await phone.waitForSelector('body[data-ready=true]');
    expect(await phone.$eval('#classWrap', (e) => getComputedStyle(e).display)).not.toBe('none');
    await phone.waitForFunction(() => ['#sample', '#grid', '#strip'].every((s) => (document.querySelector(s) as HTMLImageElement).naturalWidth > 0));
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: `${ARTIFACTS}/playground-phone.png`, fullPage: true });
    await phone.close();
  });
});

/** The grey bytes of a loaded <img> (red channel), read back through a canvas. */
async function greyBytes(p: Page, selector: string): Promise<number[]> {
  await p.waitForFunction((s) => (document.querySelector(s) as HTMLImageElement).complete && (document.querySelector(s) as HTMLImageElement).naturalWidth > 0, selector);
  return p.evaluate((s) => {
    const img = document.querySelector(s) as HTMLImageElement;
    const canvas = Object.assign(document.createElement('canvas'), { width: img.naturalWidth, height: img.naturalHeight });
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data.filter((_, i) => i % 4 === 0));
  }, selector);
}

describe('the playground on WebGPU', () => {
  it('draws slider images with WebGPU (a software adapter, swiftshader) within one grey level of the edge, and says so', async () => {
    // Without --disable-gpu and with these two flags, Debian's chromium gives a real (software) WebGPU adapter.
    const gpu = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const p = await gpu.newPage({ viewport: { width: 1280, height: 900 } });
      await p.goto(`${worker.base}/`);
      await p.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
      await p.waitForFunction(() => document.querySelector('#engine')!.textContent !== 'edge API', undefined, { timeout: 60_000 });
      expect(await p.$eval('#engine', (e) => e.textContent)).toBe('WebGPU in this browser');
      await p.click('#reset');
      await p.waitForFunction(() => (document.querySelector('#sample') as HTMLImageElement).src.includes('/sample.png'));
      const server = await greyBytes(p, '#sample');
      const src = await p.$eval('#sample', (i) => (i as HTMLImageElement).src);
      await p.$eval('#sliders input[data-dim="0"]', (el) => el.dispatchEvent(new Event('input')));
      await p.waitForFunction((b) => (document.querySelector('#sample') as HTMLImageElement).src !== b, src);
      expect(await p.$eval('#sample', (i) => (i as HTMLImageElement).src.startsWith('data:image/png'))).toBe(true);
      const device = await greyBytes(p, '#sample');
      expect(device.length).toBe(server.length);
      expect(Math.max(...device.map((v, i) => Math.abs(v - server[i]!)))).toBeLessThanOrEqual(1);
      await p.screenshot({ path: `${ARTIFACTS}/playground-webgpu.png` });
    } finally {
      await gpu.close();
    }
  }, 120_000);
});
