/**
 * A fake InferenceRuntime that behaves like onnxruntime-web where issue 26 bit: a session is a slot number (ORT's
 * are heap addresses), a released slot is reused by the next session created, and running a released session runs
 * whatever graph now sits in its slot. It counts every run of a released session, and every session created and
 * released, so tests can check that none is ever run after release and that all are released in the end.
 *
 * Its "graphs" are small JSON documents (fakeGraph): the outputs a manifest declares, and a salt that makes two
 * versions' images differ. Images are a pure function of (salt, inputs), so a pinned URL's bytes are predictable.
 */
import type { InferenceRuntime, InferenceSession, RuntimeTensor } from '../../shared/runtime.js';
import { contentVersion } from '../../shared/content-version.js';
import { sha256Hex } from '../../shared/hash.js';
import { imageGraphRole, type Manifest } from '../../shared/manifest.js';

interface FakeGraph {
  fake: 'slot-runtime';
  salt: string;
  /** Output name -> shape without the batch dimension. */
  outputs: Record<string, number[]>;
}

/** A graph the slot runtime runs: its outputs (shapes without batch) and a salt. */
export function fakeGraph(salt: string, outputs: Record<string, number[]>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ fake: 'slot-runtime', salt, outputs } satisfies FakeGraph));
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export class SlotRuntime implements InferenceRuntime {
  readonly name = 'slot-runtime';
  /** What each slot holds now (null: free). */
  private readonly slots: (FakeGraph | null)[] = [];
  created = 0;
  released = 0;
  /** Runs of a session after its release: issue 26's wrong bytes. Must stay 0. */
  runsAfterRelease = 0;

  /** Sessions created and not released. */
  open(): number {
    return this.created - this.released;
  }

  async createSession(bytes: Uint8Array): Promise<InferenceSession> {
    const graph = JSON.parse(new TextDecoder().decode(bytes)) as FakeGraph;
    if (graph.fake !== 'slot-runtime') throw new Error('not a slot-runtime graph');
    let slot = this.slots.indexOf(null);
    if (slot < 0) slot = this.slots.push(null) - 1;
    this.slots[slot] = graph;
    this.created++;
    let released = false;
    return {
      inputNames: undefined,
      outputNames: Object.keys(graph.outputs),
      run: async (feeds: Record<string, RuntimeTensor>) => {
        if (released) this.runsAfterRelease++;
        const now = this.slots[slot];
        if (!now) throw new Error(`slot ${slot} is free`); // ORT would crash or read garbage
        return this.compute(now, feeds);
      },
      release: async () => {
        if (released) throw new Error(`slot ${slot} released twice`);
        released = true;
        this.released++;
        this.slots[slot] = null;
      },
    };
  }

  private compute(graph: FakeGraph, feeds: Record<string, RuntimeTensor>) {
    const first = Object.values(feeds)[0]!;
    const batch = first.dims[0]!;
    const per = first.data.length / batch;
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [name, shape] of Object.entries(graph.outputs)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(batch * size);
      for (let b = 0; b < batch; b++) {
        let key = 0;
        for (let i = 0; i < per; i++) key = (Math.imul(key, 31) + Math.round(Number(first.data[b * per + i]) * 1000)) >>> 0;
        const h = hash(`${graph.salt}:${key}`);
        for (let j = 0; j < size; j++) data[b * size + j] = ((h + j * 2654435761) >>> 0) / 2 ** 32;
      }
      out[name] = { data, dims: [batch, ...shape] };
    }
    return out;
  }
}

/**
 * A version of model `id` for the slot runtime, shaped like `base` (a bundled GAN-like manifest), whose images are
 * drawn from `salt`: its manifest (named by its content, as the exporter names versions) and its files.
 */
export async function fakeVersion(base: Manifest, id: string, salt: string): Promise<{ manifest: Manifest; files: Map<string, Uint8Array> }> {
  const manifest = structuredClone(base);
  manifest.id = id;
  const spec = manifest.graphs[imageGraphRole(manifest.family)]!;
  manifest.graphs = { [imageGraphRole(manifest.family)]: spec };
  const graph = fakeGraph(salt, Object.fromEntries(spec.outputs.map((o) => [o.name, o.shape.slice(1) as number[]])));
  spec.sha256 = await sha256Hex(graph);
  manifest.version = await contentVersion(manifest.graphs);
  return { manifest, files: new Map([[spec.file, graph]]) };
}
