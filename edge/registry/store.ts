/**
 * The model registry's storage on R2 (binding `MODELS`). Per model id:
 *   {id}/{version}/manifest.json   immutable versions: graphs first, the manifest last, so a version whose manifest
 *   {id}/{version}/{graph}.onnx    exists has every graph it names (and each was smoke-tested before it was written)
 *   {id}/{version}/upload.lock     while an upload writes: created only if absent, so two racing uploads of one
 *                                  version cannot mix their files (the loser gets a 409)
 *   {id}/active.json               the pointer: which version serves, the earlier ones for rollback, and the
 *                                  deleted ones, whose names are never used again for other bytes
 * The pointer is one small object, replaced with a conditional put (compare-and-swap on its etag): readers see
 * the old pointer or the new one, never a mix, and two admins racing cannot lose an update. Activation and deletion
 * both go through it, so they cannot race into a pointer to a deleted version.
 */
import type { Manifest } from '../../shared/manifest.js';
import type { ModelSource } from './source.js';

/** The subset of the Workers `R2Bucket` the store uses. */
export type ModelBucket = Pick<R2Bucket, 'get' | 'put' | 'head' | 'delete' | 'list'>;

/**
 * `active`: the version that serves, or null for the bundled model of that id (or none). `history`: the versions
 * that served before, most recent last (null = the bundled one), for rollback.
 */
export interface ActivePointer {
  active: string | null;
  history: (string | null)[];
  /** Versions deleted: refused by activate and by a new upload under the same name. */
  deleted: string[];
  updatedAt: string;
}

/** A pointer as read, with the etag a conditional update must match (null: no pointer yet). */
export interface PointerRead {
  pointer: ActivePointer;
  etag: string | null;
}

export interface StoredVersion {
  version: string;
  family: string;
  createdAt: string;
  uploadedAt: string;
  bytes: number;
}


const NO_POINTER: ActivePointer = { active: null, history: [], deleted: [], updatedAt: '' };

/** An upload lock older than this is left over from a failed upload, and may be taken over. */
const STALE_LOCK_MS = 10 * 60_000;

export class ModelStore {
  constructor(private readonly bucket: ModelBucket) {}

  static pointerKey(id: string): string {
    return `${id}/active.json`;
  }

  static fileKey(id: string, version: string, file: string): string {
    return `${id}/${version}/${file}`;
  }

  /** Model ids that have anything stored. */
  async ids(): Promise<string[]> {
    const { prefixes } = await this.listAll({ delimiter: '/' });
    return prefixes.map((p) => p.slice(0, -1)).sort();
  }

  /** Every page of a listing: object keys, and the common prefixes when `delimiter` is given. */
  private async listAll(options: R2ListOptions): Promise<{ keys: string[]; prefixes: string[] }> {
    const keys: string[] = [];
    const prefixes: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ ...options, ...(cursor ? { cursor } : {}) });
      keys.push(...page.objects.map((o) => o.key));
      prefixes.push(...page.delimitedPrefixes);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return { keys, prefixes };
  }

  async pointer(id: string): Promise<PointerRead> {
    const obj = await this.bucket.get(ModelStore.pointerKey(id));
    if (!obj) return { pointer: NO_POINTER, etag: null };
    const raw = (await obj.json()) as Partial<ActivePointer>;
    const pointer: ActivePointer = {
      active: typeof raw.active === 'string' ? raw.active : null,
      history: Array.isArray(raw.history) ? raw.history.filter((v) => v === null || typeof v === 'string') : [],
      deleted: Array.isArray(raw.deleted) ? raw.deleted.filter((v) => typeof v === 'string') : [],
      updatedAt: typeof raw.updatedAt === 'string' ? raw.updatedAt : '',
    };
    return { pointer, etag: obj.etag };
  }

  /** Replaces the pointer only if it is still the one read (`etag`); false if someone else changed it meanwhile. */
  async swapPointer(id: string, next: ActivePointer, etag: string | null): Promise<boolean> {
    const onlyIf: R2Conditional = etag === null ? { etagDoesNotMatch: '*' } : { etagMatches: etag };
    const written = await this.bucket.put(ModelStore.pointerKey(id), JSON.stringify(next), { onlyIf, httpMetadata: { contentType: 'application/json' } });
    return written !== null;
  }

  /** The manifest of a stored version (not validated here), or null if there is no such complete version. */
  async manifest(id: string, version: string): Promise<unknown | null> {
    const obj = await this.bucket.get(ModelStore.fileKey(id, version, 'manifest.json'));
    return obj ? obj.json() : null;
  }

  /** A stored version as the registry reads models. */
  source(id: string, version: string, manifest: unknown): ModelSource {
    return {
      manifest,
      readFile: async (file) => {
        const obj = await this.bucket.get(ModelStore.fileKey(id, version, file));
        if (!obj) throw new Error(`R2 object ${ModelStore.fileKey(id, version, file)} is missing`);
        return new Uint8Array(await obj.arrayBuffer());
      },
    };
  }

  /**
   * Takes the upload lock of a version (created only if absent); false while another upload holds it. A lock left
   * by an upload that died is taken over after STALE_LOCK_MS.
   */
  async lockVersion(id: string, version: string): Promise<boolean> {
    const key = ModelStore.fileKey(id, version, 'upload.lock');
    const take = () => this.bucket.put(key, new Date().toISOString(), { onlyIf: { etagDoesNotMatch: '*' } });
    if ((await take()) !== null) return true;
    const held = await this.bucket.head(key);
    if (held && Date.now() - held.uploaded.getTime() < STALE_LOCK_MS) return false;
    await this.bucket.delete(key);
    return (await take()) !== null;
  }

  async unlockVersion(id: string, version: string): Promise<void> {
    await this.bucket.delete(ModelStore.fileKey(id, version, 'upload.lock'));
  }

  /**
   * Writes a checked version, under its upload lock: graphs first (R2 verifies each sha256 on write), the manifest
   * last and only if absent. False if a manifest was there already: then nothing is written, not even a graph (a
   * stored version's graphs are never overwritten, so its files cannot mix with another upload's).
   */
  async putVersion(manifest: Manifest, files: Map<string, Uint8Array>): Promise<boolean> {
    const { id, version } = manifest;
    if (await this.bucket.head(ModelStore.fileKey(id, version, 'manifest.json'))) return false;
    for (const spec of Object.values(manifest.graphs)) {
      await this.bucket.put(ModelStore.fileKey(id, version, spec.file), files.get(spec.file)!, {
        sha256: spec.sha256,
        httpMetadata: { contentType: 'application/octet-stream' },
      });
    }
    const bytes = [...files.values()].reduce((s, f) => s + f.length, 0);
    const written = await this.bucket.put(ModelStore.fileKey(id, version, 'manifest.json'), JSON.stringify(manifest, null, 2), {
      onlyIf: { etagDoesNotMatch: '*' },
      httpMetadata: { contentType: 'application/json' },
      customMetadata: { family: manifest.family, createdAt: manifest.createdAt, bytes: String(bytes) },
    });
    return written !== null;
  }

  /** Complete versions of a model (those with a manifest), oldest upload first. */
  async versions(id: string): Promise<StoredVersion[]> {
    const { prefixes } = await this.listAll({ prefix: `${id}/`, delimiter: '/' });
    const heads = await Promise.all(prefixes.map((p) => this.bucket.head(`${p}manifest.json`)));
    const out: StoredVersion[] = [];
    heads.forEach((h, i) => {
      if (!h) return;
      const meta = h.customMetadata ?? {};
      out.push({
        version: prefixes[i]!.slice(id.length + 1, -1),
        family: meta['family'] ?? '',
        createdAt: meta['createdAt'] ?? '',
        uploadedAt: h.uploaded.toISOString(),
        bytes: Number(meta['bytes'] ?? 0),
      });
    });
    return out.sort((a, b) => a.uploadedAt.localeCompare(b.uploadedAt) || a.version.localeCompare(b.version));
  }

  /** Deletes a version: the manifest first, so it stops being a complete version before its graphs go. */
  async deleteVersion(id: string, version: string): Promise<void> {
    await this.bucket.delete(ModelStore.fileKey(id, version, 'manifest.json'));
    const { keys } = await this.listAll({ prefix: `${id}/${version}/` });
    if (keys.length > 0) await this.bucket.delete(keys);
  }
}
