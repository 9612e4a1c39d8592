/**
 * A minimal ONNX model, written as protobuf by hand (onnx.proto, IR v8, opset 13): one `Gather`
 * of an embedding table by `input_ids`, output `last_hidden_state` [batch, sequence, dims].
 * transformers.js loads it like any BERT-shaped feature-extraction model.
 */
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = BigInt(value);
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number) => Buffer.concat([key(field, VARINT), varint(value)]);
const bytes = (field: number, value: Buffer) => Buffer.concat([key(field, LENGTH_DELIMITED), varint(value.length), value]);
const text = (field: number, value: string) => bytes(field, Buffer.from(value, 'utf8'));

const ELEMENT_FLOAT = 1;
const ELEMENT_INT64 = 7;

/** ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type, shape: {dim: [value|param]}}}}. */
function valueInfo(name: string, elementType: number, dims: readonly (number | string)[]): Buffer {
  const shape = Buffer.concat(dims.map((dim) => bytes(1, typeof dim === 'number' ? int(1, dim) : text(2, dim))));
  const tensorType = Buffer.concat([int(1, elementType), bytes(2, shape)]);
  return Buffer.concat([text(1, name), bytes(2, bytes(1, tensorType))]);
}

export function writeGatherModel(options: { table: Float32Array; rows: number; dimensions: number }): Buffer {
  const { table, rows, dimensions } = options;
  const raw = Buffer.from(table.buffer, table.byteOffset, rows * dimensions * 4);
  const tensor = Buffer.concat([int(1, rows), int(1, dimensions), int(2, ELEMENT_FLOAT), text(8, 'embeddings'), bytes(9, raw)]);
  const node = Buffer.concat([text(1, 'embeddings'), text(1, 'input_ids'), text(2, 'last_hidden_state'), text(3, 'gather'), text(4, 'Gather')]);
  const graph = Buffer.concat([
    bytes(1, node),
    text(2, 'glove'),
    bytes(5, tensor),
    bytes(11, valueInfo('input_ids', ELEMENT_INT64, ['batch', 'sequence'])),
    bytes(11, valueInfo('attention_mask', ELEMENT_INT64, ['batch', 'sequence'])),
    bytes(12, valueInfo('last_hidden_state', ELEMENT_FLOAT, ['batch', 'sequence', dimensions])),
  ]);
  const opset = Buffer.concat([text(1, ''), int(2, 13)]);
  return Buffer.concat([int(1, 8), text(2, 'switchboard'), bytes(7, graph), bytes(8, opset)]);
}
