import {getLlama} from "node-llama-cpp";
import fs from "fs";
const [,, modelPath, outPath, fa, kv] = process.argv;
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const ctx = await model.createContext({contextSize: 64, batchSize: 64, threads: 1, flashAttention: fa === "fa",
  experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv});
const seq = ctx.getSequence();
const ids = [1,5,9,42,100,7,300,2,77,480,11,64];
const res = await seq.controlledEvaluate(ids.map(t => [t, {generateNext: {logits: true}}]));
const V = 512;
const out = new Float32Array(ids.length * V);
res.forEach((r, i) => { for (const [tok, l] of r.next.logits) out[i*V + tok] = l; });
fs.writeFileSync(outPath, Buffer.from(out.buffer));
console.log("ok", outPath, res.length);
process.exit(0);
