package chat_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/rlx-go/rlx/chat"
)

func ExampleTemplate_Apply() {
	tmpl, err := chat.Parse(`{{ bos_token }}
{%- for m in messages %}
<|{{ m.role }}|>
{{ m.content | trim }}
{% endfor %}
{% if add_generation_prompt %}<|assistant|>
{% endif %}`)
	if err != nil {
		log.Fatal(err)
	}
	out, err := tmpl.Apply([]chat.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "  Hi!  "},
	}, chat.Options{AddGenerationPrompt: true, BOSToken: "<s>"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	// Output: "<s><|system|>\nBe brief.\n<|user|>\nHi!\n<|assistant|>\n"
}

func ExampleFromTokenizerConfig() {
	// A tokenizer_config.json with a chat template and special tokens.
	config := []byte(`{
	  "bos_token": {"content": "<s>", "lstrip": false},
	  "eos_token": "</s>",
	  "chat_template": "{% for m in messages %}{{ bos_token }}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}{% for t in tools %} tool: {{ t | tojson }}{% endfor %}"
	}`)
	cfg, err := chat.FromTokenizerConfig(config)
	if err != nil {
		log.Fatal(err)
	}
	tmpl, err := cfg.Template("")
	if err != nil {
		log.Fatal(err)
	}
	opts := cfg.Options() // bos_token, eos_token and the other special tokens
	opts.Tools = []json.RawMessage{json.RawMessage(`{"name": "now", "parameters": {}}`)}
	out, err := tmpl.Apply([]chat.Message{{Role: "user", Content: "What time is it?"}}, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
	// Output: <s>[user] What time is it?</s> tool: {"name": "now", "parameters": {}}
}

func ExampleTemplate_Render() {
	// Render passes exactly the variables given; raw JSON keeps key order.
	tmpl, err := chat.Parse(`{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok`)
	if err != nil {
		log.Fatal(err)
	}
	_, err = tmpl.Render(map[string]any{
		"messages": json.RawMessage(`[{"role": "system", "content": "x"}]`),
	})
	var exc *chat.Exception
	if errors.As(err, &exc) {
		fmt.Println("raised:", exc.Message)
	}
	// Output: raised: System role not supported
}
