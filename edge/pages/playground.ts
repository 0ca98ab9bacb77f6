/**
 * The playground served at `/` (playground.html): pick a model (and a class), a seed; see a grid; drag sliders over
 * the first latent dimensions of one sample; an interpolation strip; drop an image on a VAE to reconstruct it; copy
 * the `<img>` embed code of the current image. Plain DOM against the public API, laid out for phones too. Slider
 * images are drawn on the device when it can: onnxruntime-web with WebGPU where `navigator.gpu` gives an adapter,
 * WebAssembly otherwise, the edge API as the last resort; the page says which and how long an image takes. Pixels
 * are scaled by shared/pixels.ts itself (bundled in by scripts/build-pages.mjs), so browser and server cannot
 * disagree.
 */
import { EXECUTION_PROVIDERS, type Device } from '../../shared/execution-providers.js';
import { pixelsToBytes, type PixelRange } from '../../shared/pixels.js';

/** What GET /v1/models says of a model (the part this page reads). */
interface Model {
  id: string;
  family: string;
  version: string;
  description: string;
  latent: { size: number };
  classes: { count: number; labels: string[] };
  image: { width: number; height: number; channels: number; pixelRange: PixelRange };
  canEncode: boolean;
  training: { steps: number; epochs: number; dataset: string };
  evaluation: { metrics: Record<string, number> } | null;
  evaluationNote?: string;
  links: { generatorGraph?: string; decoderGraph?: string };
}

/** The slice of onnxruntime-web's API the page uses (loaded at run time from /ort/). */
interface Ort {
  env: { wasm: { wasmPaths: unknown; numThreads: number } };
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => unknown;
  InferenceSession: { create(graph: Uint8Array, options: object): Promise<OrtSession> };
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const image = (id: string) => $<HTMLImageElement>(id);

const engine: { name: string; ort: Ort | null; session: OrtSession | null; times: number[] } = { name: 'edge API', ort: null, session: null, times: [] };
const SLIDERS = 8;
let models: Model[] = [];
let model: Model;
let z: number[] = [];
let pending = false;
let busy = false;

/** onnxruntime-web's bundle and wasm (served at /ort/) for each browser device of the one provider map. */
const BROWSER_ENGINES = {
  'browser-webgpu': { file: '/ort/ort.jspi.bundle.min.mjs', wasm: '/ort/ort-wasm-simd-threaded.jspi.wasm', label: 'WebGPU in this browser' },
  'browser-wasm': { file: '/ort/ort.wasm.bundle.min.mjs', wasm: '/ort/ort-wasm-simd-threaded.wasm', label: 'WebAssembly in this browser' },
} satisfies Partial<Record<Device, { file: string; wasm: string; label: string }>>;

/** WebGPU if an adapter is there, else WebAssembly, in this browser; null (the edge API) if neither loads. */
async function loadEngine(): Promise<void> {
  Object.assign(engine, { name: 'edge API', ort: null, session: null, times: [] });
  $('engine').textContent = 'edge API';
  const url = model.links.generatorGraph ?? model.links.decoderGraph;
  if (!url) return;
  try {
    const graph = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let adapter: unknown = null;
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    try {
      adapter = gpu ? await gpu.requestAdapter() : null;
    } catch {
      adapter = null;
    }
    const device = adapter ? 'browser-webgpu' : 'browser-wasm';
    const { file, wasm, label } = BROWSER_ENGINES[device];
    const ort = (await import(/* @vite-ignore */ file)) as Ort;
    ort.env.wasm.wasmPaths = { wasm, mjs: wasm.replace(/\.wasm$/, '.mjs') };
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(graph, { executionProviders: [...EXECUTION_PROVIDERS[device]] });
    if (url !== (model.links.generatorGraph ?? model.links.decoderGraph)) return; // the model changed meanwhile
    Object.assign(engine, { name: label, ort, session });
  } catch (e) {
    console.warn('on-device inference unavailable; the edge API draws the slider images', e);
  }
  $('engine').textContent = engine.name;
}

/** One image from z on the device, as a data URL, and the milliseconds session.run took. */
async function drawOnDevice(ort: Ort, session: OrtSession): Promise<{ url: string; ms: number }> {
  const feeds: Record<string, unknown> = { z: new ort.Tensor('float32', Float32Array.from(z), [1, z.length]) };
  if (model.classes.count > 0) feeds['label'] = new ort.Tensor('int64', BigInt64Array.from([BigInt(cls() ?? 0)]), [1]);
  const t = performance.now();
  const out = await session.run(feeds);
  const ms = performance.now() - t;
  const { width, height, channels, pixelRange } = model.image;
  const bytes = pixelsToBytes(out['image']!.data, pixelRange);
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    for (let ch = 0; ch < 3; ch++) img.data[p * 4 + ch] = bytes[(channels === 1 ? 0 : ch) * width * height + p]!;
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return { url: canvas.toDataURL('image/png'), ms };
}

const api = (path: string) => `/v1/models/${model.id}${path}`;
/** POST /generate: images from given latents (the slider sample without a device engine, the latent map). */
const postGenerate = (body: object) => fetch(api('/generate'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const cls = () => (model.classes.count > 0 ? Number($<HTMLSelectElement>('class').value) : undefined);
const q = (o: Record<string, string | number | undefined>) =>
  Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
/** The seed as typed: a number, or any text (the server hashes it, shared/rng.ts). */
const seed = () => input('seed').value.trim() || '0';
/** The next seed, for the interpolation strip: s + 1 for a number, the text with "+" appended otherwise. */
const nextSeed = (s: string) => (/^\d{1,10}$/.test(s) && Number(s) < 4294967295 ? String(Number(s) + 1) : `${s}+`);

async function blobUrl(res: Response): Promise<string> {
  if (!res.ok) throw new Error(((await res.json()) as { error: { message: string } }).error.message);
  return URL.createObjectURL(await res.blob());
}

/** The embed code names the version: the image at that URL never changes, even after the model is retrained. */
function setEmbed(url: string): void {
  const pinned = url.replace(`/v1/models/${model.id}/`, `/v1/models/${model.id}@${model.version}/`);
  const sep = pinned.includes('?') ? '&' : '?';
  $<HTMLTextAreaElement>('embed').value = `<img src="${location.origin}${pinned}${sep}scale=4" width="${model.image.width * 4}" alt="generated ${model.family} sample">`;
  $('embed').dataset['url'] = pinned;
}

async function render(): Promise<void> {
  const s = seed();
  const c = cls();
  const sampleUrl = api(`/sample.png?${q({ seed: s, class: c })}`);
  image('sample').src = sampleUrl;
  setEmbed(sampleUrl);
  image('grid').src = api(`/grid.png?${q({ seed: s, n: model.classes.count > 0 ? 2 * Math.min(10, model.classes.count) : 16, cols: model.classes.count > 0 ? Math.min(10, model.classes.count) : 4, class: c })}`);
  image('strip').src = api(`/interpolate.png?${q({ from: s, to: nextSeed(s), steps: 8, class: c })}`);
  const lat = (await (await fetch(api(`/latents?${q({ seed: s })}`))).json()) as { latents: number[][] };
  z = lat.latents[0]!.slice();
  buildSliders();
}

/** An element with properties set and children appended (no HTML parsing anywhere on this page). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function buildSliders(): void {
  const box = $('sliders');
  box.replaceChildren();
  for (let i = 0; i < Math.min(SLIDERS, z.length); i++) {
    const slider = el('input', { type: 'range', min: '-3', max: '3', step: 'any', value: String(z[i]) });
    slider.dataset['dim'] = String(i);
    const value = el('span', { textContent: z[i]!.toFixed(2) });
    slider.addEventListener('input', () => {
      z[i] = Number(slider.value);
      value.textContent = z[i]!.toFixed(2);
      void generate();
    });
    box.append(el('span', { textContent: `z${i}` }), slider, value);
  }
}

// Latest-wins: while one image is being drawn, only the newest slider position waits.
async function generate(): Promise<void> {
  if (busy) {
    pending = true;
    return;
  }
  busy = true;
  const t = performance.now();
  try {
    if (engine.ort && engine.session) {
      const { url, ms } = await drawOnDevice(engine.ort, engine.session);
      image('sample').src = url;
      engine.times.push(ms);
      const sorted = engine.times.slice().sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      $('timing').textContent = `${ms.toFixed(1)} ms per image (median ${median.toFixed(1)} ms over ${sorted.length})`;
      document.body.dataset['computeMs'] = median.toFixed(2);
    } else {
      const c = cls();
      image('sample').src = await blobUrl(await postGenerate({ latents: [z], ...(c !== undefined ? { classes: [c] } : {}) }));
      $('timing').textContent = `${(performance.now() - t).toFixed(0)} ms per image, network included`;
    }
    $<HTMLTextAreaElement>('embed').value = 'Slider images come from POST /generate and have no URL; reset the sliders to embed the seed image.';
  } catch (e) {
    $('timing').textContent = String((e as Error).message ?? e);
  }
  busy = false;
  if (pending) {
    pending = false;
    void generate();
  }
}

/** A 2-d latent space decoded on an 8x8 grid over [-2, 2]^2 (Kingma & Welling's figure 4, on a linear grid). */
const MAP = 8;
const SPAN = 2;
const mapValue = (i: number) => -SPAN + (2 * SPAN * i) / (MAP - 1);
async function showMap(): Promise<void> {
  const show = model.latent.size === 2;
  $('mapWrap').hidden = !show;
  if (!show) return;
  const latents: number[][] = [];
  for (let r = 0; r < MAP; r++) for (let c = 0; c < MAP; c++) latents.push([mapValue(c), -mapValue(r)]);
  const c = cls();
  image('map').src = await blobUrl(await postGenerate({ latents, cols: MAP, ...(c !== undefined ? { classes: latents.map(() => c) } : {}) }));
}

function showCard(): void {
  const rows: [string, string][] = [['family', model.family], ['version', model.version], ['trained', `${model.training.steps} steps, ${model.training.epochs} epochs on ${model.training.dataset}`]];
  for (const [k, v] of Object.entries(model.evaluation?.metrics ?? {})) rows.push([k, Number.isInteger(v) ? String(v) : v.toFixed(3)]);
  if (model.evaluationNote) rows.push(['evaluation', model.evaluationNote]);
  // Built as DOM nodes with textContent: manifest strings come from uploads and are never parsed as HTML.
  const table = el('table', {}, rows.map(([k, v]) => el('tr', {}, [el('td', { textContent: k }), el('td', { textContent: v })])));
  $('cardInfo').replaceChildren(el('p', { textContent: model.description }), table);
  $('vae').hidden = !model.canEncode;
}

async function pickModel(): Promise<void> {
  model = models.find((m) => m.id === $<HTMLSelectElement>('model').value)!;
  $('classWrap').hidden = model.classes.count === 0;
  $('class').replaceChildren(...model.classes.labels.map((l, i) => el('option', { value: String(i), textContent: l })));
  showCard();
  void loadEngine(); // in the background: the edge API draws until the device can
  await Promise.all([render(), showMap()]);
}

/**
 * The dropped picture goes to the server as it is when it is a PNG or JPEG under 1 MiB: the server fits and
 * resizes it exactly as the model's training images were. Anything else (WebP, a large photo) is first re-encoded
 * here as a PNG of at most 1024 pixels a side.
 */
async function reconstruct(file: File): Promise<void> {
  let body: Blob = file;
  if (!['image/png', 'image/jpeg'].includes(file.type) || file.size > 1 << 20) {
    const bitmap = await createImageBitmap(file);
    const k = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height));
    const canvas = Object.assign(document.createElement('canvas'), { width: Math.round(bitmap.width * k), height: Math.round(bitmap.height * k) });
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    body = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('cannot encode the picture'))), 'image/png'));
  }
  image('input').src = URL.createObjectURL(body);
  image('recon').src = await blobUrl(await fetch(api('/reconstruct'), { method: 'POST', headers: { 'Content-Type': body.type }, body }));
}

$('model').addEventListener('change', () => void pickModel());
$('map').addEventListener('click', (e) => {
  const box = $('map').getBoundingClientRect();
  z[0] = -SPAN + (2 * SPAN * (e.clientX - box.left)) / box.width;
  z[1] = SPAN - (2 * SPAN * (e.clientY - box.top)) / box.height;
  buildSliders();
  void generate();
});
$('class').addEventListener('change', () => void render());
$('seed').addEventListener('change', () => void render());
$('random').addEventListener('click', () => {
  input('seed').value = String(Math.floor(Math.random() * 4294967295));
  void render();
});
$('reset').addEventListener('click', () => void render());
$('copy').addEventListener('click', async () => {
  $<HTMLTextAreaElement>('embed').select();
  try {
    await navigator.clipboard.writeText($<HTMLTextAreaElement>('embed').value);
  } catch {
    document.execCommand('copy');
  }
});
$('file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void reconstruct(file);
});
$('drop').addEventListener('dragover', (e) => {
  e.preventDefault();
  $('drop').classList.add('over');
});
$('drop').addEventListener('dragleave', () => $('drop').classList.remove('over'));
$('drop').addEventListener('drop', (e) => {
  e.preventDefault();
  $('drop').classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void reconstruct(file);
});

void fetch('/v1/models')
  .then((r) => r.json() as Promise<{ models: Model[] }>)
  .then(async ({ models: list }) => {
    models = list;
    $('model').replaceChildren(...list.map((m) => el('option', { value: m.id, textContent: m.id })));
    const wanted = new URLSearchParams(location.search).get('model');
    const select = $<HTMLSelectElement>('model');
    if (wanted && list.some((m) => m.id === wanted)) select.value = wanted;
    else if (list.some((m) => m.family === 'dcgan')) select.value = list.find((m) => m.family === 'dcgan')!.id;
    await pickModel();
    document.body.dataset['ready'] = 'true';
  });
