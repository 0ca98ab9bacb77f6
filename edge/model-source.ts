/** How a model reaches the app: a manifest (validated at load) and its graphs' bytes by role. */
import type { GraphRole } from '../shared/manifest.js';

export interface BundledModel {
  /** The parsed manifest.json, not yet validated. */
  manifest: unknown;
  /** Graph bytes by role (Data modules in the worker, file contents in Node). */
  graphs: Partial<Record<GraphRole, ArrayBuffer | Uint8Array>>;
}
