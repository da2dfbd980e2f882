// Median latency of an ONNX model in ONNX Runtime (npm onnxruntime-node,
// installed with --ignore-scripts), for the side-by-side in docs/PERFORMANCE.md.
// usage: NODE_PATH=DIR/node_modules node tools/bench/ort_bench.js MODEL.onnx THREADS REPEATS
const ort = require('onnxruntime-node');

(async () => {
  const [model, threads, repeats] = process.argv.slice(2);
  const opts = { intraOpNumThreads: Number(threads || 1), interOpNumThreads: 1, graphOptimizationLevel: 'all',
                 executionMode: 'sequential' };
  const s = await ort.InferenceSession.create(model, opts);
  const name = s.inputNames[0];
  const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
  for (let i = 0; i < 10; i++) await s.run({ [name]: x });
  const t = [];
  for (let i = 0; i < Number(repeats || 50); i++) {
    const t0 = process.hrtime.bigint();
    await s.run({ [name]: x });
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  console.log(JSON.stringify({ runtime: 'onnxruntime ' + ort.env.versions.common, threads: Number(threads || 1),
                               median_ms: t[t.length >> 1] }));
})();
