/**
 * What the app needs from an ONNX runtime: sessions from graph bytes, and running them. The worker passes
 * onnxruntime-web (ort-web-runtime.ts); tests may pass onnxruntime-node or a fake.
 */

export interface RuntimeTensor {
  dtype: 'float32' | 'int64';
  data: Float32Array | BigInt64Array;
  dims: number[];
}

export interface InferenceSession {
  /** The graph's real input and output names (onnxruntime sessions know them): checked against the manifest. */
  inputNames?: readonly string[];
  outputNames?: readonly string[];
  run(feeds: Record<string, RuntimeTensor>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>>;
  /** Frees the session's native (wasm) memory; the session must not be used afterwards. */
  release?(): Promise<void>;
}

export interface InferenceRuntime {
  /** A short name for logs and headers, e.g. 'onnxruntime-web/wasm'. */
  name: string;
  createSession(graph: Uint8Array): Promise<InferenceSession>;
}
