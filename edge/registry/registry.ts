/**
 * The models an isolate serves. Bundled models are validated once at start; a version from the R2 registry
 * (sync.ts) is loaded and warmed beside the one serving, then takes over its id in one step, so a request is
 * served wholly by the version it started with. Sessions are per (id, version) and created once; a registry
 * version's sessions are released exactly once, when nothing holds it any more (holds.ts). A model whose manifest
 * or graph is bad is unavailable (503) on its own; the others keep serving.
 */
import { validateManifest, imageGraphRole, VERSION_PATTERN, type GraphRole, type Manifest } from '../../shared/manifest.js';
import { HttpError } from '../api/errors.js';
import { sha256Hex } from '../../shared/hash.js';
import { waitWithOwnTimer } from './timers.js';
import type { ModelSource } from './source.js';
import type { InferenceRuntime, InferenceSession } from '../../shared/runtime.js';
import { guardSession, VersionHolds, type Holder } from './holds.js';
import { PinnedVersions } from './pinned.js';

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
  /** Who holds a registry version (holds.ts); a bundled model is never released. */
  holders: Set<Holder>;
  /** Its sessions are released: it can serve no more requests. */
  released: boolean;
  /** Graph bytes read for it (the pinned cache's byte budget). */
  bytes: number;
}

/** A model that passed validation: what routes work with. */
export type ServedModel = ModelEntry & { manifest: Manifest };

/**
 * A version nothing holds is released once the requests in flight when it was dropped have finished, or after this
 * long whatever they do (holds.ts): a request that outlives it gets a 503, never another version's bytes.
 */
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

const graphDigests = (m: Manifest) => JSON.stringify(Object.entries(m.graphs).map(([role, g]) => [role, g.sha256]).sort());

export class ModelRegistry {
  /** Session promises that have resolved: awaited directly, without a timer. */
  private readonly ready = new WeakSet<Promise<InferenceSession>>();
  /** When each session still loading started (registry clock). */
  private readonly loadStarted = new WeakMap<Promise<InferenceSession>, number>();
  private readonly bundled = new Map<string, ModelEntry>();
  /** Registry versions serving now, overriding a bundled model of the same id. */
  private readonly live = new Map<string, ServedModel>();
  /** Per id, the registry version that served before the live one: a rollback to it is instant. */
  private readonly warm = new Map<string, ServedModel>();
  private readonly holds: VersionHolds;
  private readonly pinned: PinnedVersions;
  /** Loads versions that are not in this isolate (set by the app when an R2 registry is bound). */
  loadVersion: VersionLoader | null = null;

  constructor(
    models: ModelSource[],
    private readonly runtime: InferenceRuntime,
    private readonly now: () => number = Date.now,
  ) {
    this.holds = new VersionHolds(now, RELEASE_GRACE_MS);
    this.pinned = new PinnedVersions(this.holds, now);
    for (const m of models) {
      const raw = m.manifest as { id?: unknown } | null;
      const id = typeof raw?.id === 'string' ? raw.id : null;
      const entry = (id: string, manifest: Manifest | null, problem: string | null): ModelEntry => ({ id, manifest, problem, origin: 'bundled', source: m, sessions: new Map(), holders: new Set(), released: false, bytes: 0 });
      try {
        const manifest = validateManifest(m.manifest);
        if (this.bundled.has(manifest.id)) throw new Error(`duplicate model id "${manifest.id}"`);
        this.bundled.set(manifest.id, entry(manifest.id, manifest, null));
      } catch (err) {
        console.error(`model ${id ?? '(no id)'} rejected: ${(err as Error).message}`);
        if (id && !this.bundled.has(id)) this.bundled.set(id, entry(id, null, (err as Error).message));
      }
    }
  }

  private entry(id: string): ModelEntry | undefined {
    return this.live.get(id) ?? this.bundled.get(id);
  }

  /** Marks a request in flight (app.ts): no version it may be using is released before the returned function is called. */
  begin(): () => void {
    return this.holds.begin();
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

  /** Version `version` of `id` if this isolate holds it: the bundled one first, so no registry version shadows it. */
  private held(id: string, version: string): ServedModel | undefined {
    const e = [this.bundled.get(id), this.live.get(id), this.warm.get(id)].find((e) => e?.manifest?.version === version && !e.problem);
    return e as ServedModel | undefined;
  }

  /**
   * A model by its path segment: `id` is what serves now (get); `id@version` is exactly that version, which may be
   * the bundled one, the one serving, the warm one, or one loaded from the registry on demand into the pinned
   * cache. An unknown version is a 404 naming the version serving now.
   */
  async resolve(ref: string): Promise<ServedModel> {
    const { id, version } = parseModelRef(ref);
    if (version === null) return this.get(id);
    const known = this.held(id, version);
    if (known) return known;
    if (!this.entry(id) && !this.loadVersion) throw new HttpError(404, 'not_found', `unknown model "${id.slice(0, 100)}"`, this.ids());
    const key = `${id}@${version}`;
    const unknown = () => new HttpError(404, 'not_found', `model "${id}" has no version "${version.slice(0, 70)}"; it serves version ${this.versionOf(id) ?? '(none)'}`);
    if (!VERSION_PATTERN.test(version) || !this.loadVersion) throw unknown();
    let entry: ServedModel | null | undefined;
    try {
      entry = await this.pinned.get(key, () => this.loadPinned(id, version), LOAD_WAIT_MS);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw unavailable(key, (err as Error).message);
    }
    if (entry === undefined) throw new HttpError(503, 'model_unavailable', `model "${key}" is still loading; retry`);
    if (entry === null) throw unknown();
    return entry;
  }

  /** A registry version's entry, validated (the bundled version's name with other graphs is refused), not yet loaded. */
  private registryEntry(id: string, version: string, source: ModelSource): ServedModel {
    const manifest = validateManifest(source.manifest);
    if (manifest.id !== id || manifest.version !== version) throw new Error(`stored manifest says ${manifest.id}@${manifest.version}, expected ${id}@${version}`);
    const bundled = this.bundled.get(id)?.manifest;
    if (bundled?.version === version && graphDigests(bundled) !== graphDigests(manifest)) throw new Error(`version ${version} is the bundled model's name, with other graphs`);
    const entry: ServedModel = { id, manifest, problem: null, origin: 'registry', source, sessions: new Map(), holders: new Set(), released: false, bytes: 0 };
    // Counts the graph bytes read, for the pinned cache's byte budget.
    entry.source = { manifest: source.manifest, readFile: async (file) => {
      const bytes = await source.readFile(file);
      entry.bytes += bytes.length;
      this.pinned.grew(`${id}@${version}`, entry);
      return bytes;
    } };
    return entry;
  }

  private async loadPinned(id: string, version: string): Promise<ServedModel | null> {
    const stored = await this.loadVersion!(id, version);
    if (!stored) return null;
    const entry = this.registryEntry(id, version, stored);
    await this.session(entry);
    return entry;
  }

  /** Pinned versions loaded in this isolate, least recently used first (tests and the models listing), and their graph bytes. */
  pinnedVersions(): string[] {
    return this.pinned.keys();
  }
  pinnedGraphBytes(): number {
    return this.pinned.graphBytes();
  }

  /**
   * The session of the model's image graph (or another role), created once per (id, version). A failure is a 503
   * with Retry-After until its backoff has passed; then the next request tries again.
   */
  session(entry: ServedModel, role: GraphRole = imageGraphRole(entry.manifest.family)): Promise<InferenceSession> {
    // A released version opens nothing new: nothing would ever release it.
    if (entry.released) return Promise.reject(new HttpError(503, 'model_unavailable', `model "${entry.id}@${entry.manifest.version}" was unloaded; retry`));
    let s = entry.sessions.get(role);
    // A load older than the wait is given up (the request that started it may have been cancelled, and then its I/O
    // never settles): the next request opens the session anew; the old one, should it ever open, is released.
    if (s && !this.ready.has(s) && this.now() - (this.loadStarted.get(s) ?? this.now()) > LOAD_WAIT_MS) {
      s.then((stale) => stale.release?.(), () => {});
      entry.sessions.delete(role);
      s = undefined;
    }
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
          if (entry.sessions.get(role) === s) entry.sessions.delete(role); // not a newer load's, after this one was given up
          const attempts = (failed?.attempts ?? 0) + 1;
          const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
          (entry.failures ??= new Map()).set(role, { attempts, until: this.now() + delay });
          console.error(`model ${entry.id} (${role}) failed to load (attempt ${attempts}, next in ${delay / 1000} s): ${err.message}`);
          throw unavailable(entry.id, err.message);
        },
      );
      entry.sessions.set(role, s);
      this.loadStarted.set(s, this.now());
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
    return guardSession(await this.runtime.createSession(await this.readGraph(entry, role)), `${entry.id}@${entry.manifest.version}`);
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
    return this.live.get(id)?.manifest.version ?? null;
  }

  hasBundled(id: string): boolean {
    return this.bundled.has(id);
  }

  liveIds(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Loads registry version `version` of `id` without serving it: validates the manifest, reads and checks the
   * image graph and opens its session. Reuses the warm or pinned entry of that version. Throws if it cannot serve.
   */
  async prepare(id: string, version: string, source: ModelSource): Promise<ServedModel> {
    const warm = this.warm.get(id);
    if (warm?.manifest.version === version) return warm;
    const pinned = await this.pinned.peek(`${id}@${version}`);
    if (pinned) return pinned;
    const entry = this.registryEntry(id, version, source);
    await this.session(entry);
    return entry;
  }

  /** prepare() then promote(), loading again if what prepare() found was released meanwhile (it is not found again). */
  async serve(id: string, version: string, source: ModelSource): Promise<ServedModel> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = await this.prepare(id, version, source);
      if (!entry.released) {
        this.promote(entry);
        return entry;
      }
    }
    throw new Error(`${id}@${version} was released each time it was loaded`);
  }

  /** Serves `entry` for its id from the next request on (one Map write: a request sees the old or the new). */
  promote(entry: ServedModel): void {
    const old = this.live.get(entry.id);
    if (old === entry) return;
    this.holds.hold(entry, 'live'); // throws for a released entry
    this.live.set(entry.id, entry);
    if (this.warm.get(entry.id) === entry) {
      this.warm.delete(entry.id);
      this.holds.drop(entry, 'warm');
    }
    if (old) this.retire(old);
  }

  /** Back to the bundled model of `id` (or to no model if none is bundled). */
  demote(id: string): void {
    const old = this.live.get(id);
    if (!old) return;
    this.live.delete(id);
    this.retire(old);
  }

  /** The version that stopped serving takes the warm slot of its id; the one there before is let go. */
  private retire(old: ServedModel): void {
    const before = this.warm.get(old.id);
    this.holds.hold(old, 'warm');
    this.warm.set(old.id, old);
    this.holds.drop(old, 'live');
    if (before && before !== old) this.holds.drop(before, 'warm');
  }

  /**
   * Version `version` of `id` was deleted from the store (it is neither live nor a rollback target any more): this
   * isolate lets go of it; or it was stored: a pinned URL asking for it loads it at once.
   */
  forget(id: string, version: string): void {
    const warm = this.warm.get(id);
    if (warm?.manifest.version === version) {
      this.warm.delete(id);
      this.holds.drop(warm, 'warm');
    }
    this.pinned.forget(`${id}@${version}`);
  }

  /** Releases versions nothing holds once no request in flight can be using them (the sync calls it after each check). */
  sweep(): void {
    this.holds.collect();
  }
}
