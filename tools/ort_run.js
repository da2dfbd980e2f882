// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node, installed with
// --ignore-scripts) on a float32 .npy input and writes output 0 as .npy.
// usage: NODE_PATH=DIR/node_modules node tools/ort_run.js MODEL.onnx X.npy Y.npy
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const b = fs.readFileSync(path);
  const hlen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f4'")) throw new Error(path + ': only <f4 arrays');
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const off = 10 + hlen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return { shape, data };
}

function writeNpy(path, dims, data) {
  let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.join(', ') + (dims.length === 1 ? ',' : '') + "), }";
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

(async () => {
  const [model, xin, yout] = process.argv.slice(2);
  const x = readNpy(xin);
  const sess = await ort.InferenceSession.create(model);
  const feeds = {};
  feeds[sess.inputNames[0]] = new ort.Tensor('float32', x.data, x.shape);
  const res = await sess.run(feeds);
  const y = res[sess.outputNames[0]];
  writeNpy(yout, y.dims, y.data);
  console.log(sess.outputNames[0], JSON.stringify(y.dims));
})().catch(e => { console.error(e.message); process.exit(1); });
