"""Writes messy.json.gz: the 14 real templates of ../ rendered by jinja2
(configured as in gen.py) on random, messy conversations: random role
orders, content as a string, a list of parts or None, optional tool calls
(dict or JSON-string arguments, with or without ids), reasoning content,
tools present, empty or None. About 40% of them raise, which we must too.

Usage: python3 messy.py [seed] [count]   (jinja2 3.1.6, Python 3.11)
"""
import gzip, json, os, random, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import FIXED_NOW, make_env  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
R = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 2025)
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 400
TEXTS = ["Hi", "", "  spaced  ", "multi\nline\n", "<think>\nr\n</think>\n\nok", "quote \" ' \\", "ünï 漢字 😀",
         "<tool_response>x</tool_response>", "/no_think hi", "/think"]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather °C", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def content():
    r = R.random()
    if r < 0.7:
        return R.choice(TEXTS)
    if r < 0.85:
        return [R.choice([{"type": "text", "text": R.choice(TEXTS)}, {"type": "image"}, {"type": "image_url", "image_url": {"url": "u"}}])
                for _ in range(R.randint(1, 3))]
    return None


def call():
    args = R.choice([{"city": "Zürich", "days": 3}, {}, {"q": "a <b>", "n": [1, 2.5, None]}])
    if R.random() < 0.3:
        args = json.dumps(args)
    tc = {"type": "function", "function": {"name": R.choice(["get_weather", "search"]), "arguments": args}}
    if R.random() < 0.7:
        tc["id"] = R.choice(["call12345", "abcdefghijk", "x"])
    return tc


def message():
    m = {"role": R.choice(["system", "user", "user", "assistant", "assistant", "tool"])}
    if R.random() < 0.95:
        m["content"] = content()
    if m["role"] == "assistant" and R.random() < 0.3:
        m["tool_calls"] = [call() for _ in range(R.randint(1, 2))]
    if m["role"] == "assistant" and R.random() < 0.2:
        m["reasoning_content"] = R.choice(TEXTS)
    if m["role"] == "tool" and R.random() < 0.7:
        m["tool_call_id"] = R.choice(["call12345", "x"])
    return m


def main():
    files = sorted("chat-templates/templates/" + f for f in os.listdir(f"{HERE}/../chat-templates/templates"))
    files += [f"hf/{m}_tokenizer_config.json" for m in ("qwen3", "llama3", "gemma3")]
    env = make_env()
    srcs = {}
    for f in files:
        with open(f"{HERE}/../{f}") as fh:
            srcs[f] = json.load(fh)["chat_template"] if f.endswith(".json") else fh.read()
    out = []
    for _ in range(COUNT):
        f = R.choice(files)
        msgs = [message() for _ in range(R.randint(0, 6))]
        if msgs and R.random() < 0.6:
            msgs[0] = {"role": R.choice(["system", "user"]), "content": R.choice(TEXTS)}
        v = {"messages": msgs, "tools": R.choice([None, None, TOOLS, []]), "documents": None,
             "add_generation_prompt": R.random() < 0.6, "bos_token": "<s>", "eos_token": "</s>"}
        if R.random() < 0.3:
            v["enable_thinking"] = R.choice([True, False])
        rec = {"name": f"{f}#{len(out)}", "template_file": f, "vars": v}
        try:
            rec["rendered"] = env.from_string(srcs[f]).render(**v)
        except Exception as e:
            rec["error"] = type(e).__name__ + ": " + str(e)
        out.append(rec)
    with gzip.open(f"{HERE}/messy.json.gz", "wt", compresslevel=9) as fh:
        json.dump({"reference": f"jinja2 configured as in gen.py (now = {FIXED_NOW.isoformat()})", "cases": out}, fh, ensure_ascii=False)
    print(len(out), "cases,", sum("error" in r for r in out), "errors")


if __name__ == "__main__":
    main()
