"""Times Python jinja2 (configured as gen.py configures it) on the inputs of
chat's BenchmarkApply/Qwen3 and BenchmarkParse, for the ratio in
docs/chat-templates.md. Usage: python3 bench.py"""
import json, os, timeit, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import make_env
env = make_env()
msgs = [
 {"role": "system", "content": "You are a concise assistant."},
 {"role": "user", "content": "What is the weather in Paris and in Rome?"},
 {"role": "assistant", "content": "<think>\nTwo cities, two calls.\n</think>\n\nChecking.", "tool_calls": [
   {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
   {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]},
 {"role": "tool", "content": "{\"temp\": 21}"}, {"role": "tool", "content": "{\"temp\": 25}"},
 {"role": "assistant", "content": "Paris 21 °C, Rome 25 °C."}, {"role": "user", "content": "Thanks! And tomorrow?"}]
tools = [json.loads('{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "day": {"type": "string", "enum": ["today", "tomorrow"]}}, "required": ["city"]}}}')]
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../chat-templates/templates/Qwen-Qwen3-0.6B.jinja")).read()
t = env.from_string(src)
f = lambda: t.render(messages=msgs, tools=tools, documents=None, add_generation_prompt=True, bos_token="<s>", eos_token="</s>")
n = 1000
print("py_render_us %.1f" % (min(timeit.repeat(f, number=n, repeat=3)) / n * 1e6))
src2 = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../chat-templates/templates/openbmb-MiniCPM5-1B.jinja")).read()
print("py_parse_us %.0f" % (min(timeit.repeat(lambda: env.from_string(src2), number=10, repeat=3)) / 10 * 1e6))
