/**
 * ONNX ModelProto serialisation (field numbers from onnx/onnx.proto, IR version 8, opset 17; 18 where asked: the
 * trainer's native convolutions use Col2Im). Only what the
 * exporter emits: nodes with int, float, string and int-list attributes, float32 / int64 initialisers as raw data, and
 * graph inputs/outputs with a dynamic batch dimension.
 */
import { ProtoWriter } from './protobuf.js';

export const OPSET = 17;
const IR_VERSION = 8;
const DATA_TYPE = { float32: 1, int64: 7 } as const;

export type Attribute = { f: number } | { i: number } | { ints: number[] } | { s: string };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attribute>;
}

export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface ValueInfo {
  name: string;
  dtype: 'float32' | 'int64';
  /** A string is a symbolic dimension (e.g. 'batch'). */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function attribute(name: string, a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('f' in a) return w.float(2, a.f).varint(20, 1);
  if ('i' in a) return w.varint(3, a.i).varint(20, 2);
  if ('s' in a) return w.string(4, a.s).varint(20, 3);
  for (const v of a.ints) w.varint(8, v);
  return w.varint(20, 7);
}

function node(n: OnnxNode, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) w.message(5, attribute(name, a));
  return w;
}

function tensor(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.data instanceof Float32Array ? DATA_TYPE.float32 : DATA_TYPE.int64);
  w.string(8, t.name);
  // raw_data is little-endian, as typed arrays are on every platform Node and browsers run on.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, DATA_TYPE[v.dtype]).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

export function serializeModel(g: OnnxGraph, producer: string, opset = OPSET): Uint8Array {
  const graph = new ProtoWriter();
  g.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  return new ProtoWriter()
    .varint(1, IR_VERSION)
    .string(2, producer)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').varint(2, opset))
    .finish();
}
