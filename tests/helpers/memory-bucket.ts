/**
 * An R2 bucket in memory with the semantics the model store relies on: conditional puts (only if absent, only if
 * the etag matches), a new etag per write, upload times from Date.now (so fake timers move them), listings by
 * prefix and delimiter. For tests that run thousands of registry operations (miniflare's R2 costs milliseconds
 * each); the store's own tests run on miniflare (tests/unit/registry-sync.test.ts).
 */
import type { ModelBucket } from '../../edge/registry/store.js';

interface Stored {
  bytes: Uint8Array;
  etag: string;
  uploaded: Date;
  customMetadata: Record<string, string>;
}

export class MemoryBucket {
  private readonly objects = new Map<string, Stored>();
  private writes = 0;
  /** Calls by method, for tests that count R2 reads. */
  readonly calls = { get: 0, put: 0, head: 0, delete: 0, list: 0 };

  private view(key: string, o: Stored) {
    const text = () => new TextDecoder().decode(o.bytes);
    return { key, etag: o.etag, uploaded: o.uploaded, customMetadata: o.customMetadata, size: o.bytes.length, json: async () => JSON.parse(text()), text: async () => text(), arrayBuffer: async () => o.bytes.slice().buffer };
  }

  asBucket(): ModelBucket {
    return this as unknown as ModelBucket;
  }

  async get(key: string) {
    this.calls.get++;
    const o = this.objects.get(key);
    return o ? this.view(key, o) : null;
  }

  async head(key: string) {
    this.calls.head++;
    const o = this.objects.get(key);
    return o ? this.view(key, o) : null;
  }

  async put(key: string, value: string | Uint8Array, opts: { onlyIf?: { etagDoesNotMatch?: string; etagMatches?: string }; customMetadata?: Record<string, string> } = {}) {
    this.calls.put++;
    const old = this.objects.get(key);
    if (opts.onlyIf?.etagDoesNotMatch === '*' && old) return null;
    if (opts.onlyIf?.etagMatches !== undefined && old?.etag !== opts.onlyIf.etagMatches) return null;
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : Uint8Array.from(value);
    const stored: Stored = { bytes, etag: `e${++this.writes}`, uploaded: new Date(), customMetadata: opts.customMetadata ?? {} };
    this.objects.set(key, stored);
    return this.view(key, stored);
  }

  async delete(keys: string | string[]) {
    this.calls.delete++;
    for (const k of Array.isArray(keys) ? keys : [keys]) this.objects.delete(k);
  }

  async list(opts: { prefix?: string; delimiter?: string } = {}) {
    this.calls.list++;
    const prefix = opts.prefix ?? '';
    const objects: { key: string }[] = [];
    const prefixes = new Set<string>();
    for (const key of [...this.objects.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      const cut = opts.delimiter ? key.indexOf(opts.delimiter, prefix.length) : -1;
      if (cut >= 0) prefixes.add(key.slice(0, cut + 1));
      else objects.push({ key });
    }
    return { objects, delimitedPrefixes: [...prefixes], truncated: false };
  }
}
