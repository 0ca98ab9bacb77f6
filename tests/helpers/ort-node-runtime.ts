/** The app's runtime interface backed by onnxruntime-node (trainer/ort-node.ts), for testing createApp in Node. */
export { ortNodeRuntime } from '../../trainer/ort-node.js';
