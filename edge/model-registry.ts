/**
 * The models an isolate serves: manifests validated once at start, graph sessions created on first use and then
 * reused. A model whose manifest or graph is bad is unavailable (503) on its own; the others keep serving.
 */
import { validateManifest, imageGraphRole, type GraphRole, type Manifest } from '../shared/manifest.js';
import { HttpError } from './errors.js';
import type { ModelSource } from './model-source.js';
import type { InferenceRuntime, InferenceSession } from './runtime.js';

export interface ModelEntry {
  id: string;
  manifest: Manifest | null;
  /** Why the model cannot serve, if it cannot. */
  problem: string | null;
  source: ModelSource;
  sessions: Map<GraphRole, Promise<InferenceSession>>;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A model that passed validation: what routes work with. */
export type ServedModel = ModelEntry & { manifest: Manifest };

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();

  constructor(
    models: ModelSource[],
    private readonly runtime: InferenceRuntime,
  ) {
    for (const m of models) {
      const raw = m.manifest as { id?: unknown } | null;
      const id = typeof raw?.id === 'string' ? raw.id : null;
      try {
        const manifest = validateManifest(m.manifest);
        if (this.entries.has(manifest.id)) throw new Error(`duplicate model id "${manifest.id}"`);
        this.entries.set(manifest.id, { id: manifest.id, manifest, problem: null, source: m, sessions: new Map() });
      } catch (err) {
        console.error(`model ${id ?? '(no id)'} rejected: ${(err as Error).message}`);
        if (id && !this.entries.has(id)) this.entries.set(id, { id, manifest: null, problem: (err as Error).message, source: m, sessions: new Map() });
      }
    }
  }

  /** Models that can serve, in id order. */
  available(): Manifest[] {
    return [...this.entries.values()].filter((e) => e.manifest && !e.problem).map((e) => e.manifest!).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The version a healthy model `id` serves, or undefined. */
  versionOf(id: string): string | undefined {
    const e = this.entries.get(id);
    return e?.manifest && !e.problem ? e.manifest.version : undefined;
  }

  ids(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The model `id`, or a 404 naming the known ones, or a 503 if it is known but broken. */
  get(id: string): ServedModel {
    const e = this.entries.get(id);
    if (!e) throw new HttpError(404, 'not_found', `unknown model "${id.slice(0, 100)}"`, this.ids());
    if (!e.manifest || e.problem) throw new HttpError(503, 'model_unavailable', `model "${id}" is unavailable: ${e.problem}`);
    return e as ServedModel;
  }

  /** The session of the model's image graph (or another role), created once per isolate. */
  session(entry: ServedModel, role: GraphRole = imageGraphRole(entry.manifest.family)): Promise<InferenceSession> {
    let s = entry.sessions.get(role);
    if (!s) {
      s = this.open(entry, role).catch((err: Error) => {
        entry.problem = err.message;
        console.error(`model ${entry.id} (${role}) failed to load: ${err.message}`);
        throw new HttpError(503, 'model_unavailable', `model "${entry.id}" is unavailable: ${err.message}`);
      });
      entry.sessions.set(role, s);
    }
    return s;
  }

  private async open(entry: ServedModel, role: GraphRole): Promise<InferenceSession> {
    return this.runtime.createSession(await this.readGraph(entry, role));
  }

  /** The bytes of a model's graph, checked against the manifest's sha256 (browsers run them too). */
  async readGraph(entry: ServedModel, role: GraphRole): Promise<Uint8Array> {
    const spec = entry.manifest.graphs[role];
    if (!spec) throw new Error(`no ${role} graph`);
    let graph: Uint8Array;
    try {
      graph = await entry.source.readFile(spec.file);
    } catch (err) {
      throw new Error(`cannot read ${spec.file}: ${(err as Error).message}`);
    }
    const digest = await sha256Hex(graph);
    if (digest !== spec.sha256) throw new Error(`${spec.file} sha256 is ${digest}, manifest says ${spec.sha256}`);
    return graph;
  }
}
