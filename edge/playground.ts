/**
 * The playground page served at `/`: pick a model (and a class), a seed; see a grid; drag sliders over the first
 * latent dimensions of one sample; an interpolation strip; drop an image on a VAE to reconstruct it; copy the
 * `<img>` embed code of the current image. Plain HTML and JS against the public API (no external scripts), laid
 * out for phones too. Slider images are drawn on the device when it can: onnxruntime-web with WebGPU where
 * `navigator.gpu` gives an adapter, WebAssembly otherwise, the edge API as the last resort; the page says which and
 * how long an image takes. On the device, pixels are scaled by shared/pixels.ts itself: its compiled source is
 * put into the page, so browser and server cannot disagree.
 */
import { pixelBounds, pixelsToBytes } from '../shared/pixels.js';

export const PLAYGROUND_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-generative playground</title>
<style>
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; }
* { box-sizing: border-box; } [hidden] { display: none !important; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, sans-serif; color: var(--fg); background: #f9fafb; }
header { padding: 12px 16px; background: #fff; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
header h1 { font-size: 17px; margin: 0 12px 0 0; }
label { display: inline-flex; gap: 6px; align-items: center; color: var(--muted); }
select, input[type=number], button { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); }
button { cursor: pointer; } button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; padding: 16px; max-width: 1200px; margin: 0 auto; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
img.px { image-rendering: pixelated; width: 100%; height: auto; background: #000; border-radius: 6px; display: block; }
#sample { max-width: 280px; }
.sliders { display: grid; grid-template-columns: auto 1fr auto; gap: 2px 8px; align-items: center; font-size: 13px; margin-top: 8px; }
.sliders input { width: 100%; }
textarea { width: 100%; font: 12px ui-monospace, monospace; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
#drop { border: 2px dashed var(--line); border-radius: 8px; padding: 18px; text-align: center; color: var(--muted); }
#drop.over { border-color: var(--accent); color: var(--accent); }
.row { display: flex; gap: 12px; align-items: flex-start; flex-wrap: wrap; }
.status { font-size: 12px; color: var(--muted); margin-top: 6px; }
table { font-size: 13px; border-collapse: collapse; } td { padding: 1px 10px 1px 0; }
</style></head>
<body>
<header>
  <h1>edge-generative</h1>
  <label>Model <select id="model"></select></label>
  <label id="classWrap" hidden>Class <select id="class"></select></label>
  <label>Seed <input id="seed" type="number" min="0" max="4294967295" value="1" style="width:9em"></label>
  <button id="random">Random</button>
  <a href="/v1/docs" style="margin-left:auto">API docs</a>
</header>
<main>
  <section class="card">
    <h2>Sample</h2>
    <img id="sample" class="px" alt="sample">
    <div class="status">Slider images: <b id="engine">edge API</b> <span id="timing"></span></div>
    <div class="sliders" id="sliders"></div>
    <p><button id="reset">Reset sliders</button> <button id="copy" class="primary">Copy embed code</button></p>
    <textarea id="embed" rows="3" readonly></textarea>
  </section>
  <section class="card">
    <h2>Grid</h2>
    <img id="grid" class="px" alt="grid of samples">
    <h2 style="margin-top:14px">Interpolation to the next seed</h2>
    <img id="strip" class="px" alt="interpolation">
  </section>
  <section class="card">
    <h2>Model card</h2>
    <div id="cardInfo"></div>
    <div id="mapWrap" hidden>
      <h2 style="margin-top:14px">Latent map (z0 across, z1 down; click to pick)</h2>
      <img id="map" class="px" alt="decoded 8x8 grid of the 2-d latent space" style="cursor:crosshair">
    </div>
    <div id="vae" hidden>
      <h2 style="margin-top:14px">Reconstruct (drop a picture)</h2>
      <div id="drop">Drop an image here, or <input id="file" type="file" accept="image/*"></div>
      <div class="row" style="margin-top:8px"><img id="input" class="px" style="width:112px" alt=""><img id="recon" class="px" style="width:112px" alt=""></div>
    </div>
  </section>
</main>
<script type="module">
${pixelBounds.toString()}
${pixelsToBytes.toString()}
const toBytes = ${pixelsToBytes.name};
const $ = (id) => document.getElementById(id);
const engine = { name: 'edge API', ort: null, session: null, times: [] };

/** WebGPU if an adapter is there, else WebAssembly, in this browser; null (the edge API) if neither loads. */
async function loadEngine() {
  Object.assign(engine, { name: 'edge API', ort: null, session: null, times: [] });
  $('engine').textContent = 'edge API';
  const url = model.links.generatorGraph || model.links.decoderGraph;
  if (!url) return;
  try {
    const graph = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let adapter = null;
    try { adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null; } catch { adapter = null; }
    const [file, wasm, ep, label] = adapter
      ? ['/ort/ort.jspi.bundle.min.mjs', '/ort/ort-wasm-simd-threaded.jspi.wasm', 'webgpu', 'WebGPU in this browser']
      : ['/ort/ort.wasm.bundle.min.mjs', '/ort/ort-wasm-simd-threaded.wasm', 'wasm', 'WebAssembly in this browser'];
    const ort = await import(file);
    ort.env.wasm.wasmPaths = { wasm, mjs: wasm.replace(/\\.wasm$/, '.mjs') };
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(graph, { executionProviders: [ep] });
    if (url !== (model.links.generatorGraph || model.links.decoderGraph)) return; // the model changed meanwhile
    Object.assign(engine, { name: label, ort, session });
  } catch (e) {
    console.warn('on-device inference unavailable; the edge API draws the slider images', e);
  }
  $('engine').textContent = engine.name;
}

/** One image from z on the device, as a data URL, and the milliseconds session.run took. */
async function drawOnDevice() {
  const { ort, session } = engine;
  const feeds = { z: new ort.Tensor('float32', Float32Array.from(z), [1, z.length]) };
  if (model.classes.count > 0) feeds.label = new ort.Tensor('int64', BigInt64Array.from([BigInt(cls())]), [1]);
  const t = performance.now();
  const out = await session.run(feeds);
  const ms = performance.now() - t;
  const { width, height, channels, pixelRange } = model.image;
  const bytes = toBytes(out.image.data, pixelRange);
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    for (let ch = 0; ch < 3; ch++) img.data[p * 4 + ch] = bytes[(channels === 1 ? 0 : ch) * width * height + p];
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return { url: canvas.toDataURL('image/png'), ms };
}
const SLIDERS = 8;
let models = [], model = null, z = null, base = null, pending = null, busy = false;

const api = (path) => '/v1/models/' + model.id + path;
/** POST /generate: images from given latents (the slider sample without a device engine, the latent map). */
const postGenerate = (body) => fetch(api('/generate'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const cls = () => (model.classes.count > 0 ? Number($('class').value) : undefined);
const q = (o) => Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => k + '=' + v).join('&');
const seed = () => Math.max(0, Math.min(4294967295, Math.floor(Number($('seed').value) || 0)));

async function blobUrl(res) {
  if (!res.ok) throw new Error((await res.json()).error.message);
  return URL.createObjectURL(await res.blob());
}

/** The embed code names the version: the image at that URL never changes, even after the model is retrained. */
function setEmbed(url) {
  const pinned = url.replace('/v1/models/' + model.id + '/', '/v1/models/' + model.id + '@' + model.version + '/');
  const sep = pinned.includes('?') ? '&' : '?';
  $('embed').value = '<img src="' + location.origin + pinned + sep + 'scale=4" width="' + model.image.width * 4 + '" alt="generated ' + model.family + ' sample">';
  $('embed').dataset.url = pinned;
}

async function render() {
  const s = seed();
  const c = cls();
  const sampleUrl = api('/sample.png?' + q({ seed: s, class: c }));
  $('sample').src = sampleUrl;
  setEmbed(sampleUrl);
  $('grid').src = api('/grid.png?' + q({ seed: s, n: model.classes.count > 0 ? 20 : 16, cols: model.classes.count > 0 ? 10 : 4, class: c }));
  $('strip').src = api('/interpolate.png?' + q({ from: s, to: s + 1, steps: 8, class: c }));
  const lat = await (await fetch(api('/latents?seed=' + s))).json();
  base = lat.latents[0];
  z = base.slice();
  buildSliders();
}

/** An element with properties set and children appended (no HTML parsing anywhere on this page). */
function el(tag, props, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function buildSliders() {
  const box = $('sliders');
  box.replaceChildren();
  for (let i = 0; i < Math.min(SLIDERS, z.length); i++) {
    const input = Object.assign(document.createElement('input'), { type: 'range', min: -3, max: 3, step: 'any', value: z[i] });
    input.dataset.dim = i;
    const value = Object.assign(document.createElement('span'), { textContent: z[i].toFixed(2) });
    input.addEventListener('input', () => { z[i] = Number(input.value); value.textContent = z[i].toFixed(2); generate(); });
    box.append(Object.assign(document.createElement('span'), { textContent: 'z' + i }), input, value);
  }
}

// Latest-wins: while one image is being drawn, only the newest slider position waits.
async function generate() {
  if (busy) { pending = true; return; }
  busy = true;
  const t = performance.now();
  try {
    if (engine.session) {
      const { url, ms } = await drawOnDevice();
      $('sample').src = url;
      engine.times.push(ms);
      const sorted = engine.times.slice().sort((a, b) => a - b);
      $('timing').textContent = ms.toFixed(1) + ' ms per image (median ' + sorted[Math.floor(sorted.length / 2)].toFixed(1) + ' ms over ' + sorted.length + ')';
      document.body.dataset.computeMs = sorted[Math.floor(sorted.length / 2)].toFixed(2);
    } else {
      const body = { latents: [z], ...(model.classes.count > 0 ? { classes: [cls()] } : {}) };
      $('sample').src = await blobUrl(await postGenerate(body));
      $('timing').textContent = (performance.now() - t).toFixed(0) + ' ms per image, network included';
    }
    $('embed').value = 'Slider images come from POST /generate and have no URL; reset the sliders to embed the seed image.';
  } catch (e) { $('timing').textContent = String(e.message || e); }
  busy = false;
  if (pending) { pending = false; generate(); }
}

/** A 2-d latent space decoded on an 8x8 grid over [-2, 2]^2 (Kingma & Welling's figure 4, on a linear grid). */
const MAP = 8, SPAN = 2;
const mapValue = (i) => -SPAN + (2 * SPAN * i) / (MAP - 1);
async function showMap() {
  const show = model.latent.size === 2;
  $('mapWrap').hidden = !show;
  if (!show) return;
  const latents = [];
  for (let r = 0; r < MAP; r++) for (let c = 0; c < MAP; c++) latents.push([mapValue(c), -mapValue(r)]);
  const body = { latents, cols: MAP, ...(model.classes.count > 0 ? { classes: latents.map(() => cls()) } : {}) };
  $('map').src = await blobUrl(await postGenerate(body));
}

function showCard() {
  const e = model.evaluation;
  const rows = [['family', model.family], ['version', model.version], ['trained', model.training.steps + ' steps, ' + model.training.epochs + ' epochs on ' + model.training.dataset]];
  if (e) for (const [k, v] of Object.entries(e.metrics)) rows.push([k, Number.isInteger(v) ? v : v.toFixed(3)]);
  // Built as DOM nodes with textContent: manifest strings come from uploads and are never parsed as HTML.
  const table = el('table', {}, rows.map(([k, v]) => el('tr', {}, [el('td', { textContent: k }), el('td', { textContent: String(v) })])));
  $('cardInfo').replaceChildren(el('p', { textContent: model.description }), table);
  $('vae').hidden = !model.canEncode;
}

async function pickModel() {
  model = models.find((m) => m.id === $('model').value);
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
async function reconstruct(file) {
  let body = file;
  if (!['image/png', 'image/jpeg'].includes(file.type) || file.size > 1 << 20) {
    const img = await createImageBitmap(file);
    const k = Math.min(1, 1024 / Math.max(img.width, img.height));
    const canvas = Object.assign(document.createElement('canvas'), { width: Math.round(img.width * k), height: Math.round(img.height * k) });
    canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
    body = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  }
  $('input').src = URL.createObjectURL(body);
  $('recon').src = await blobUrl(await fetch(api('/reconstruct'), { method: 'POST', headers: { 'Content-Type': body.type }, body }));
}

$('model').addEventListener('change', pickModel);
$('map').addEventListener('click', (e) => {
  const box = $('map').getBoundingClientRect();
  z[0] = -SPAN + (2 * SPAN * (e.clientX - box.left)) / box.width;
  z[1] = SPAN - (2 * SPAN * (e.clientY - box.top)) / box.height;
  buildSliders();
  generate();
});
$('class').addEventListener('change', render);
$('seed').addEventListener('change', render);
$('random').addEventListener('click', () => { $('seed').value = Math.floor(Math.random() * 4294967295); render(); });
$('reset').addEventListener('click', render);
$('copy').addEventListener('click', async () => { $('embed').select(); try { await navigator.clipboard.writeText($('embed').value); } catch { document.execCommand('copy'); } });
$('file').addEventListener('change', (e) => e.target.files[0] && reconstruct(e.target.files[0]));
$('drop').addEventListener('dragover', (e) => { e.preventDefault(); $('drop').classList.add('over'); });
$('drop').addEventListener('dragleave', () => $('drop').classList.remove('over'));
$('drop').addEventListener('drop', (e) => { e.preventDefault(); $('drop').classList.remove('over'); if (e.dataTransfer.files[0]) reconstruct(e.dataTransfer.files[0]); });

fetch('/v1/models').then((r) => r.json()).then(async ({ models: list }) => {
  models = list;
  $('model').replaceChildren(...list.map((m) => el('option', { value: m.id, textContent: m.id })));
  const wanted = new URLSearchParams(location.search).get('model');
  if (wanted && list.some((m) => m.id === wanted)) $('model').value = wanted;
  else if (list.some((m) => m.family === 'dcgan')) $('model').value = list.find((m) => m.family === 'dcgan').id;
  await pickModel();
  document.body.dataset.ready = 'true';
});
</script>
</body></html>
`;
