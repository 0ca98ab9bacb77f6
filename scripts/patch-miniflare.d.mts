export function patchMiniflareSource(source: string): { source: string; status: 'patched' | 'already' | 'not-found' };
export function miniflareBundlePath(): string | undefined;
