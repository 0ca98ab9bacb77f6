/** Activates the wasm backend on the threads given in argv[2], then throws an uncaught error (wasm-backend.test.ts). */
import { selectBackend } from '../../trainer/backend/select.js';

await selectBackend('wasm', Number(process.argv[2]));
setTimeout(() => {
  throw new Error('thrown after the wasm backend started');
}, 0);
