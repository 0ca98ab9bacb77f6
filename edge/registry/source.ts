/**
 * How a model reaches the app: its manifest (validated at load) and a way to read the files it names. The worker
 * reads graphs from Workers Static Assets (so models stay out of the script bundle), Node tests from disk.
 */

export interface ModelSource {
  /** The parsed manifest.json, not yet validated. */
  manifest: unknown;
  /** Reads a file that lives beside the manifest (a graph it names). */
  readFile(file: string): Promise<Uint8Array>;
}

/** A model directory known at build time: its name under models/ and its manifest (see edge/registry/bundled.ts). */
export interface BundledManifest {
  dir: string;
  manifest: unknown;
}

/** `{id}@{version}` as a manifest names itself, before validation (loading it validates it and checks the pair). */
export function manifestRef(manifest: unknown): string {
  const m = manifest as { id?: unknown; version?: unknown } | null;
  return `${String(m?.id)}@${String(m?.version)}`;
}
