import fs from "fs";
import zlib from "zlib";
import { TokenizerLoader } from "@lenml/tokenizers";
const comp = JSON.parse(fs.readFileSync("/work/main/tokenizer/testdata/components/reference.json", "utf8"));
const pairs = [["Hello world", "How are you?"], ["The quick brown fox.", "naïve café"], ["", "b"], ["a", ""],
  ["12345 and 3.14", "東京都渋谷区 我爱自然语言处理"], [" spaced  out ", "tabs\tand\nnewlines"]];
const out = { reference: "transformers.js fork @lenml/tokenizers 3.7.2 _encode_plus with text_pair", cases: {} };
function run(name, tj, cfg) {
  tj = { ...tj, truncation: null, padding: null };
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: tj, tokenizerConfig: cfg });
  out.cases[name] = [];
  for (const [a, b] of pairs) {
    for (const add of [true, false]) {
      const r = tok._encode_plus(a, { text_pair: b, add_special_tokens: add, return_token_type_ids: true });
      out.cases[name].push({ a, b, add_special: add, ids: r.input_ids, type_ids: r.token_type_ids ?? null });
    }
  }
}
for (const t of comp.tokenizers) {
  if (["wordpiece_bert", "bpe_whitespace", "bytelevel_roberta", "metaspace_bpe"].includes(t.name)) run(t.name, t.tokenizer, { tokenizer_class: t.name === "wordpiece_bert" ? "BertTokenizer" : "PreTrainedTokenizer" });
}
for (const name of ["llama2", "gemma3", "qwen3"]) {
  const dir = `/tmp/npmtok/${name}/package/models`;
  run(name, JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`, "utf8")), JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`, "utf8")));
}
process.stdout.write(JSON.stringify(out));
