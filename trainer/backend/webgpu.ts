/**
 * The trainer on a GPU through WebGPU: Dawn's Node bindings (the optional npm package `webgpu`) under
 * @tensorflow/tfjs-backend-webgpu. Vulkan on Linux, Metal on macOS, D3D12 on Windows (docs/training.md, "Training on
 * a GPU"). The device is created here, not by tfjs, so that its faults can be watched: Dawn reports validation errors
 * and out-of-memory only through error scopes or the device's 'uncapturederror' event, and tfjs installs neither.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tf } from './tf.js';
import { registerWebGpuTrainingKernels } from './webgpu-kernels/register.js';

/** One line, exit 1 (trainer/cli/main.ts): the backend asked for cannot run here. */
export class BackendError extends Error {
  override name = 'BackendError';
}

/** The GPU failed during a step: device lost, a validation error, out of memory. The step's results are void. */
export class GpuFault extends Error {
  override name = 'GpuFault';
}

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader): right for tests, far too slow to train on. */
  fallback: boolean;
}

/** What a WebGPU run is on, as logged and recorded in checkpoints, reports and manifests. */
export function describeAdapter(info: GpuAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.description].filter((s) => s !== '');
  return `tfjs-backend-webgpu (Dawn ${process.platform === 'darwin' ? 'Metal' : process.platform === 'win32' ? 'D3D12' : 'Vulkan'}: ${parts.join(', ') || 'unnamed adapter'}${info.fallback ? ', software fallback' : ''})`;
}

// Minimal shapes of the WebGPU objects used here: the project does not type-check against @webgpu/types.
interface GpuErrorLike {
  message: string;
  constructor: { name: string };
}
interface GpuDeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  addEventListener(type: 'uncapturederror', listener: (event: { error: GpuErrorLike }) => void): void;
  lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
  createBuffer(descriptor: { size: number; usage: number }): unknown;
  features: { has(name: string): boolean };
}
interface GpuAdapterLike {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor: object): Promise<GpuDeviceLike>;
}
interface GpuLike {
  requestAdapter(options: object): Promise<GpuAdapterLike | null>;
}

const WEBGPU_PACKAGE = 'webgpu';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Where the Vulkan loader looks, for the message when it finds nothing. */
function vulkanHint(): string {
  const icdEnv = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'].filter((v) => process.env[v]).map((v) => `${v}=${process.env[v]}`);
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'].filter((d) => existsSync(d));
  const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some((p) => existsSync(p));
  return (
    `looked for the Vulkan loader libvulkan.so.1 (${loader ? 'found' : 'not found: apt-get install libvulkan1'}) and a GPU's ICD ` +
    `(${icdEnv.length ? icdEnv.join(', ') : `VK_DRIVER_FILES/VK_ICD_FILENAMES unset; ICD folders: ${icdDirs.join(', ') || 'none'}`}); ` +
    `install your GPU's Vulkan driver (NVIDIA: its driver's nvidia_icd.json; AMD/Intel: mesa-vulkan-drivers), ` +
    `or for a slow software adapter VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (Debian's chromium)`
  );
}

/**
 * Whether a GPU may be here. On Linux: a DRM render node (Mesa's Intel and AMD drivers, NVIDIA's), an NVIDIA device
 * file, WSL's /dev/dxg, or an ICD chosen by hand (VK_DRIVER_FILES, VK_ICD_FILENAMES). Without any, 'auto' does not
 * ask Dawn: on a machine with Mesa it would only find lavapipe, which it refuses with a three-line warning on
 * stderr, in every run (measured here: Debian's mesa-vulkan-drivers, no /dev/dri).
 */
export function mayHaveGpu(): boolean {
  if (process.platform !== 'linux') return true;
  if (process.env['VK_DRIVER_FILES'] || process.env['VK_ICD_FILENAMES']) return true;
  const renderNode = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  return renderNode || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

export interface FoundAdapter {
  gpu: GpuLike;
  adapter: GpuAdapterLike;
  info: GpuAdapterInfo;
}

/**
 * Finds a WebGPU adapter through Dawn: the high-performance one, or the one whose name contains `name`
 * (`--gpu-adapter`). Returns a reason instead when there is none. Sets WebGPU's globals (GPUBufferUsage, ...).
 */
export async function findAdapter(name?: string): Promise<FoundAdapter | { missing: string }> {
  let dawn: { create(flags: string[]): GpuLike; globals: object };
  try {
    dawn = (await import(WEBGPU_PACKAGE)) as typeof dawn;
  } catch (err) {
    return { missing: `the optional package 'webgpu' (Dawn) is not installed or does not load (${(err as Error).message.split('\n')[0]}): npm install --save-optional webgpu@0.6.2` };
  }
  Object.assign(globalThis, dawn.globals);
  // Mesa's device-select layer otherwise prints "XDG_RUNTIME_DIR is invalid" twice on a headless machine.
  process.env['NODEVICE_SELECT'] ??= '1';
  // Vulkan on Linux (Dawn would otherwise also try OpenGL ES); Metal and D3D12 are the defaults elsewhere.
  const flags = [...(process.platform === 'linux' ? ['backend=vulkan'] : []), ...(name ? [`adapter=${name}`] : [])];
  let adapter: GpuAdapterLike | null;
  const gpu = dawn.create(flags);
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    // A --gpu-adapter name that matches nothing: Dawn lists the adapters it has.
    const [first, ...adapters] = (err as Error).message.split(/\n(?:Available adapters:)?\s*\*?\s*/).filter(Boolean);
    return { missing: `${first}${adapters.length ? `; adapters here: ${adapters.join('; ')}` : ''}` };
  }
  if (!adapter) return { missing: `no WebGPU adapter: ${vulkanHint()}` };
  const i = adapter.info;
  return { gpu, adapter, info: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) } };
}

/** The active WebGPU device, watched for faults. */
export interface WebGpuRuntime {
  info: GpuAdapterInfo;
  device: GpuDeviceLike;
  /** Runs one step inside error scopes; throws GpuFault if the device failed before or during it. */
  guard<T>(work: () => Promise<T>): Promise<T>;
  /** The first fault seen, if any: a faulted device is never used again. */
  fault(): string | null;
}

let active: WebGpuRuntime | null = null;

/** The WebGPU runtime, once activateWebGpu ran (tests and the GPU profile reach the device through it). */
export function webGpuRuntime(): WebGpuRuntime | null {
  return active;
}

/**
 * Makes `found` tfjs's 'webgpu' backend and activates it. tfjs-backend-webgpu registers its backend only when
 * `navigator.gpu` exists at import, so it is set first (Node >= 21 has a `navigator` without `gpu`). Once a device
 * faulted, the next call replaces it with a new one (WebGPU's way to recover from a lost device); its tensors are gone.
 */
export async function activateWebGpu(found: FoundAdapter): Promise<WebGpuRuntime> {
  if (active && !active.fault()) {
    await tf.setBackend('webgpu');
    return active;
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: found.gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: found.gpu }, configurable: true });
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend: new (device: GpuDeviceLike, info: object) => tf.KernelBackend };

  // The same features and limits tfjs's own factory asks for (tfjs-backend-webgpu/src/base.ts).
  const { adapter } = found;
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
  const keys = ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'];
  const requiredLimits = Object.fromEntries(keys.map((k) => [k, adapter.limits[k]]));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });

  // The first fault wins: later ones are usually its consequences.
  let fault: string | null = null;
  device.addEventListener('uncapturederror', (event) => {
    fault ??= `${event.error.constructor.name}: ${firstLine(event.error.message)}`;
  });
  const lost = device.lost.then((info) => {
    fault ??= `device lost (${info.reason}): ${firstLine(info.message) || 'no message'}`;
    return new GpuFault(`GPU ${fault}`);
  });

  // The package's import registered a factory of its own (findBackend would run it and make a second device).
  if ('webgpu' in (tf.engine() as unknown as { registryFactory: object }).registryFactory) {
    try {
      tf.removeBackend('webgpu');
    } catch {
      // A lost device's backend may fail to release its buffers (they went with the device): forget it anyway.
      const engine = tf.engine() as unknown as { registry: Record<string, unknown>; registryFactory: Record<string, unknown>; backendName: string | null; backendInstance: unknown };
      delete engine.registry['webgpu'];
      delete engine.registryFactory['webgpu'];
      if (engine.backendName === 'webgpu') Object.assign(engine, { backendName: null, backendInstance: null, pendingBackendInit: null });
    }
  }
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, found.adapter.info), 3);
  registerWebGpuTrainingKernels();
  if (!(await tf.setBackend('webgpu'))) throw new BackendError('--backend webgpu: tfjs-backend-webgpu failed to initialise on the adapter');
  await tf.ready();

  const scopes = ['out-of-memory', 'validation', 'internal'] as const;
  active = {
    info: found.info,
    device,
    async guard<T>(work: () => Promise<T>): Promise<T> {
      if (fault) throw new GpuFault(`GPU ${fault}`);
      for (const s of scopes) device.pushErrorScope(s);
      let result: T | undefined;
      let failure: unknown;
      try {
        // A lost device may never answer a read: the loss itself ends the wait.
        result = await Promise.race([work(), lost.then((e) => Promise.reject(e))]);
      } catch (err) {
        failure = err;
      }
      const popped = await Promise.all(scopes.map(() => device.popErrorScope().catch(() => null)));
      const scoped = popped.find((e) => e !== null);
      if (scoped) fault ??= `${scoped.constructor.name}: ${firstLine(scoped.message)}`;
      if (fault) throw new GpuFault(`GPU ${fault}`);
      if (failure !== undefined) throw failure;
      return result as T;
    },
    fault: () => fault,
  };
  return active;
}

function firstLine(message: string): string {
  return message.trim().split('\n')[0]!.trim();
}
