/**
 * A model version is a name for its content: the first 12 hex digits of the SHA-256 of its graphs' SHA-256s (hex,
 * concatenated in GRAPH_ROLES order). The exporter names every version with it, and the edge's upload route
 * accepts a version only under this name, so a pinned URL (`{id}@{version}`) can only ever mean those graphs.
 * 12 hex digits are 48 bits: a collision among a model's versions is out of reach (~2^24 versions for even odds).
 * The manifest's other fields (its card, createdAt) may change without changing the version: they do not shape
 * the images.
 */
import { GRAPH_ROLES, type Manifest } from './manifest.js';
import { sha256Hex } from './hash.js';

/** The version the graphs named by `graphs` (their sha256s, which the graphs' bytes were checked against) must have. */
export async function contentVersion(graphs: Manifest['graphs']): Promise<string> {
  const digests = GRAPH_ROLES.flatMap((role) => (graphs[role] ? [graphs[role].sha256] : []));
  if (digests.length === 0) throw new Error('a version needs at least one graph');
  return (await sha256Hex(new TextEncoder().encode(digests.join('')))).slice(0, 12);
}
