/**
 * Uploaded images (POST encode / reconstruct) to a model's input: PNG or JPEG of at most MAX_UPLOAD_PIXELS pixels,
 * decoded (shared/decode-image.ts) and preprocessed (shared/preprocess.ts, with the fit and background the model's
 * manifest records) exactly as the trainer's folder loader does: an upload becomes what the model saw in training.
 */
import { preprocessFor, type Manifest } from '../../shared/manifest.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { nhwcToNchw } from '../../shared/grid.js';
import type { RasterImage } from '../../shared/png.js';
import { decodeImage, IMAGE_TYPES } from '../../shared/decode-image.js';
import { preprocessImage } from '../../shared/preprocess.js';
import { HttpError } from '../api/errors.js';
import { MAX_UPLOAD_PIXELS } from '../api/limits.js';

export const UPLOAD_TYPES = IMAGE_TYPES;
export type UploadType = (typeof UPLOAD_TYPES)[number];

/** Decodes an upload of the declared type (shared/decode-image.ts); a 400 saying why when it cannot. */
export function decodeUpload(body: Uint8Array, type: UploadType): RasterImage {
  try {
    return decodeImage(body, type, MAX_UPLOAD_PIXELS);
  } catch (err) {
    const message = (err as Error).message;
    // "not a PNG ..." reads on from "body is"; the pixel limit ("JPEG is 3000 x 2000 = ...") is said as it is, the
    // same for both formats; anything else is why the file could not be used.
    const said = /^not a /.test(message) ? `body is ${message}` : /^(PNG|JPEG) is \d+ x \d+ = /.test(message) ? `body: ${message}` : `body is not a usable ${type === 'image/png' ? 'PNG' : 'JPEG'}: ${message}`;
    throw new HttpError(400, 'invalid_body', said, { types: UPLOAD_TYPES, maxPixels: MAX_UPLOAD_PIXELS });
  }
}

/** The upload as the encoder's input: NCHW floats in the model's pixel range. */
export function uploadToInput(body: Uint8Array, type: UploadType, m: Manifest): Float32Array {
  const bytes = preprocessImage(decodeUpload(body, type), preprocessFor(m));
  return nhwcToNchw(bytesToPixels(bytes, m.image.pixelRange), 1, m.image);
}
