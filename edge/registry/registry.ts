/**
 * The models an isolate serves. Bundled models are validated once at start; a version from the R2 registry
 * (sync.ts) is loaded and warmed beside the one serving, then takes over its id in one step, so a request
 * is served wholly by the version it started with. Sessions are per (id, version) and created once. A model whose
 * manifest or graph is bad is unavailable (503) on its own; the others keep serving.
 */
import { validateManifest, imageGraphRole, VERSION_PATTERN, type GraphRole, type Manifest } from '../../shared/manifest.js';
import { HttpError } from '../api/errors.js';
import { sha256Hex } from '../../shared/hash.js';
import { waitWithOwnTimer } from './timers.js';
import type { ModelSource } from './source.js';
import type { InferenceRuntime, InferenceSession } from '../../shared/runtime.js';
import { PINNED_MAX_GRAPH_BYTES, PINNED_MAX_VERSIONS } from '../api/limits.js';

export interface ModelEntry {
  id: string;
  manifest: Manifest | null;
  /** Why the model cannot serve, if it cannot. */
  problem: string | null;
  /** Where it came from: built into the deployment, or a version of the R2 registry. */
  origin: 'bundled' | 'registry';
  source: ModelSource;
  sessions: Map<GraphRole, Promise<InferenceSession>>;
  /** Graphs whose session failed to open: retried after a backoff, each role on its own. */
  failures?: Map<GraphRole, { attempts: number; until: number }>;
}

/** A model that passed validation: what routes work with. */
export type ServedModel = ModelEntry & { manifest: Manifest };

/** Registry versions kept warm per id after they stop serving (a rollback to them is instant). */
const KEEP_WARM = 1;
/** A retired version's sessions are released only this long after it stopped serving: requests still using it finish first. */
const RELEASE_GRACE_MS = 60_000;

/**
 * The 503 of a model that cannot serve (bad manifest, unreadable or corrupt graph, session that will not open). The
 * reason (R2 keys, hashes, onnxruntime's words) goes to the log, not to the client.
 */
export function unavailable(id: string, reason: string): HttpError {
  console.error(`model ${id} is unavailable: ${reason}`);
  return new HttpError(503, 'model_unavailable', `model "${id}" is unavailable; the operator's log says why`);
}

/**
 * A session that failed to open is retried after 1 s, then 2, 4, ... up to 60 s: a transient failure (R2 or the
 * assets binding hiccuping) heals, a broken graph costs one attempt a minute. Other graphs of the model (a VAE's
 * encoder beside its decoder) keep serving.
 */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** How long a request waits for a session another request is loading before it gives up with a 503. */
const LOAD_WAIT_MS = 30_000;


/** Where versions that do not serve now come from (the R2 registry), or null for an unknown version. */
export type VersionLoader = (id: string, version: string) => Promise<ModelSource | null>;

/** `id@version` or `id`, as a path segment gives it. */
export function parseModelRef(ref: string): { id: string; version: string | null } {
  const at = ref.indexOf('@');
  return at < 0 ? { id: ref, version: null } : { id: ref.slice(0, at), version: ref.slice(at + 1) };
}

interface PinnedSlot {
  entry: Promise<ServedModel>;
  /** The loaded entry, once it is (then requests use it without awaiting). */
  done: ServedModel | null;
  /** Graph bytes read for it. */
  bytes: number;
}

export class ModelRegistry {
  /** Session promises that have resolved: awaited directly, without a timer. */
  private readonly ready = new WeakSet<Promise<InferenceSession>>();
  private readonly bundled = new Map<string, ModelEntry>();
  /** Registry versions serving now, overriding a bundled model of the same id. */
  private readonly live = new Map<string, ModelEntry>();
  /** Registry versions that served before, newest last, with when they stopped. */
  private retired: { entry: ServedModel; at: number }[] = [];
  /** Versions loaded for pinned URLs, least recently used first. */
  private readonly pinned = new Map<string, PinnedSlot>();
  /** Loads versions that are not in this isolate (set by the app when an R2 registry is bound). */
  loadVersion: VersionLoader | null = null;

  constructor(
    models: ModelSource[],
    private readonly runtime: InferenceRuntime,
    private readonly now: () => number = Date.now,
  ) {
    for (const m of models) {
      const raw = m.manifest as { id?: unknown } | null;
      const id = typeof raw?.id === 'string' ? raw.id : null;
      try {
        const manifest = validateManifest(m.manifest);
        if (this.bundled.has(manifest.id)) throw new Error(`duplicate model id "${manifest.id}"`);
        this.bundled.set(manifest.id, { id: manifest.id, manifest, problem: null, origin: 'bundled', source: m, sessions: new Map() });
      } catch (err) {
        console.error(`model ${id ?? '(no id)'} rejected: ${(err as Error).message}`);
        if (id && !this.bundled.has(id)) this.bundled.set(id, { id, manifest: null, problem: (err as Error).message, origin: 'bundled', source: m, sessions: new Map() });
      }
    }
  }

  private entry(id: string): ModelEntry | undefined {
    return this.live.get(id) ?? this.bundled.get(id);
  }

  /** Models that can serve, in id order. */
  available(): Manifest[] {
    // A model whose image graph failed to open is left out until a retry opens it.
    return this.ids().map((id) => this.entry(id)!).filter((e) => e.manifest && !e.problem && !e.failures?.has(imageGraphRole(e.manifest.family))).map((e) => e.manifest!);
  }

  /** What serves `id` now: its version and where it came from (nulls if nothing healthy does). */
  serving(id: string): { version: string | null; origin: ModelEntry['origin'] | null } {
    const e = this.entry(id);
    return e?.manifest && !e.problem ? { version: e.manifest.version, origin: e.origin } : { version: null, origin: null };
  }

  /** The version a healthy model `id` serves, or undefined. */
  versionOf(id: string): string | undefined {
    const e = this.entry(id);
    return e?.manifest && !e.problem ? e.manifest.version : undefined;
  }

  ids(): string[] {
    return [...new Set([...this.bundled.keys(), ...this.live.keys()])].sort();
  }

  /** The model `id`, or a 404 naming the known ones, or a 503 if it is known but broken. */
  get(id: string): ServedModel {
    const e = this.entry(id);
    if (!e) throw new HttpError(404, 'not_found', `unknown model "${id.slice(0, 100)}"`, this.ids());
    if (!e.manifest || e.problem) throw unavailable(id, String(e.problem));
    return e as ServedModel;
  }

  /**
   * A model by its path segment: `id` is what serves now (get); `id@version` is exactly that version, which may be
   * the one serving, a bundled or retired one, or one loaded from the registry on demand into a bounded LRU. An
   * unknown version is a 404 naming the version serving now.
   */
  async resolve(ref: string): Promise<ServedModel> {
    const { id, version } = parseModelRef(ref);
    if (version === null) return this.get(id);
    const known = [this.live.get(id), this.bundled.get(id), ...this.retired.map((r) => r.entry)].find((e) => e?.id === id && e.manifest?.version === version && !e.problem);
    if (known) return known as ServedModel;
    if (!this.entry(id) && !this.loadVersion) throw new HttpError(404, 'not_found', `unknown model "${id.slice(0, 100)}"`, this.ids());
    const key = `${id}@${version}`;
    const hit = this.pinned.get(key);
    if (hit) {
      this.pinned.delete(key); // most recently used last
      this.pinned.set(key, hit);
      if (hit.done) return hit.done;
      const entry = await waitWithOwnTimer(hit.entry, LOAD_WAIT_MS);
      if (!entry) throw new HttpError(503, 'model_unavailable', `model "${key}" is still loading; retry`);
      return entry;
    }
    const unknown = () => new HttpError(404, 'not_found', `model "${id}" has no version "${version.slice(0, 70)}"; it serves version ${this.versionOf(id) ?? '(none)'}`);
    if (!VERSION_PATTERN.test(version) || !this.loadVersion) throw unknown();
    const slot: PinnedSlot = { entry: this.loadPinned(id, version, unknown), done: null, bytes: 0 };
    this.pinned.set(key, slot);
    try {
      slot.done = await slot.entry;
      this.evictPinned();
      return slot.done;
    } catch (err) {
      this.pinned.delete(key); // a failure is not remembered: the next request tries again
      if (err instanceof HttpError) throw err;
      throw unavailable(key, (err as Error).message);
    }
  }

  private async loadPinned(id: string, version: string, unknown: () => HttpError): Promise<ServedModel> {
    const stored = await this.loadVersion!(id, version);
    if (!stored) throw unknown();
    const manifest = validateManifest(stored.manifest);
    if (manifest.id !== id || manifest.version !== version) throw new Error(`stored manifest says ${manifest.id}@${manifest.version}`);
    const slot = () => this.pinned.get(`${id}@${version}`);
    // Counts the graph bytes read, for the LRU's byte budget.
    const source: ModelSource = {
      manifest: stored.manifest,
      readFile: async (file) => {
        const bytes = await stored.readFile(file);
        const s = slot();
        if (s) s.bytes += bytes.length;
        return bytes;
      },
    };
    const entry: ServedModel = { id, manifest, problem: null, origin: 'registry', source, sessions: new Map() };
    await this.session(entry);
    return entry;
  }

  /** Drops least recently used pinned versions beyond the count and byte budgets, releasing their sessions. */
  private evictPinned(): void {
    let total = [...this.pinned.values()].reduce((s, p) => s + p.bytes, 0);
    for (const [key, p] of this.pinned) {
      if (this.pinned.size <= PINNED_MAX_VERSIONS && total <= PINNED_MAX_GRAPH_BYTES) break;
      if (this.pinned.size === 1) break; // the one just loaded stays, whatever its size
      this.pinned.delete(key);
      total -= p.bytes;
      // Retired like a version that stopped serving: its sessions are released by sweep() only after the grace
      // period, so a request still drawing with it finishes first.
      if (p.done) this.retired.push({ entry: p.done, at: this.now() });
    }
    this.sweep();
  }

  /** Pinned versions loaded in this isolate (tests and the models listing). */
  pinnedVersions(): string[] {
    return [...this.pinned.keys()];
  }

  /**
   * The session of the model's image graph (or another role), created once per (id, version). A failure is a 503
   * with Retry-After until its backoff has passed; then the next request tries again.
   */
  session(entry: ServedModel, role: GraphRole = imageGraphRole(entry.manifest.family)): Promise<InferenceSession> {
    let s = entry.sessions.get(role);
    if (!s) {
      const failed = entry.failures?.get(role);
      const wait = failed ? failed.until - this.now() : 0;
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return Promise.reject(new HttpError(503, 'model_unavailable', `model "${entry.id}" is unavailable; retrying in ${seconds} s`, undefined, { 'Retry-After': String(seconds) }));
      }
      s = this.open(entry, role).then(
        (session) => {
          this.ready.add(s!);
          entry.failures?.delete(role);
          return session;
        },
        (err: Error) => {
          entry.sessions.delete(role);
          const attempts = (failed?.attempts ?? 0) + 1;
          const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
          (entry.failures ??= new Map()).set(role, { attempts, until: this.now() + delay });
          console.error(`model ${entry.id} (${role}) failed to load (attempt ${attempts}, next in ${delay / 1000} s): ${err.message}`);
          throw unavailable(entry.id, err.message);
        },
      );
      entry.sessions.set(role, s);
      return s;
    }
    return this.ready.has(s) ? s : this.waitForLoad(s, entry.id);
  }

  /** A session another request is loading (see timers.ts), or a 503 after LOAD_WAIT_MS. */
  private async waitForLoad(s: Promise<InferenceSession>, id: string): Promise<InferenceSession> {
    const session = await waitWithOwnTimer(s, LOAD_WAIT_MS);
    if (!session) throw new HttpError(503, 'model_unavailable', `model "${id}" is still loading; retry`);
    return session;
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

  // --- Registry versions (driven by sync.ts) ---

  /** The registry version serving `id`, or null when the bundled model (or nothing) serves it. */
  liveVersion(id: string): string | null {
    return this.live.get(id)?.manifest?.version ?? null;
  }

  hasBundled(id: string): boolean {
    return this.bundled.has(id);
  }

  liveIds(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Loads registry version `version` of `id` without serving it: validates the manifest, reads and checks the
   * image graph and opens its session. Reuses a warm retired entry. Throws if the version cannot serve.
   */
  async prepare(id: string, version: string, source: ModelSource): Promise<ServedModel> {
    const warm = this.retired.find((r) => r.entry.id === id && r.entry.manifest.version === version && !r.entry.problem)?.entry ?? this.pinned.get(`${id}@${version}`)?.done;
    if (warm) return warm;
    const manifest = validateManifest(source.manifest);
    if (manifest.id !== id || manifest.version !== version) throw new Error(`stored manifest says ${manifest.id}@${manifest.version}, expected ${id}@${version}`);
    const entry: ServedModel = { id, manifest, problem: null, origin: 'registry', source, sessions: new Map() };
    await this.session(entry);
    return entry;
  }

  /** Serves `entry` for its id from the next request on (one Map write: a request sees the old or the new). */
  promote(entry: ServedModel): void {
    this.retire(entry.id);
    this.retired = this.retired.filter((r) => r.entry !== entry);
    this.live.set(entry.id, entry);
  }

  /** Back to the bundled model of `id` (or to no model if none is bundled). */
  demote(id: string): void {
    this.retire(id);
  }

  private retire(id: string): void {
    const old = this.live.get(id);
    if (old?.manifest) {
      this.live.delete(id);
      this.retired.push({ entry: old as ServedModel, at: this.now() });
    }
    this.sweep();
  }

  /** Releases retired versions beyond KEEP_WARM per id, once nothing can still be using them. */
  sweep(): void {
    const keep: typeof this.retired = [];
    const seen = new Map<string, number>();
    for (const r of [...this.retired].reverse()) {
      const n = (seen.get(r.entry.id) ?? 0) + 1;
      seen.set(r.entry.id, n);
      if (n <= KEEP_WARM || this.now() - r.at < RELEASE_GRACE_MS) keep.unshift(r);
      else for (const s of r.entry.sessions.values()) void s.then((x) => x.release?.()).catch(() => {});
    }
    this.retired = keep;
  }
}
