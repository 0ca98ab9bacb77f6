/** The app's runtime interface backed by onnxruntime-node (trainer/export/ort-node.ts), for testing createApp in Node. */
export { ortNodeRuntime } from '../../trainer/export/ort-node.js';
