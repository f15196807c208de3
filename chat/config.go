package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Config is what a tokenizer configuration says about chat: its templates
// and special tokens.
type Config struct {
	// Templates maps a template name to its source. A plain string
	// chat_template is named "default".
	Templates map[string]string
	// SpecialTokens holds bos_token, eos_token, unk_token, sep_token,
	// pad_token, cls_token and mask_token where the configuration sets
	// them, as transformers passes them to templates.
	SpecialTokens map[string]string
	// Source names where the configuration came from, for error messages.
	Source string
}

var specialTokenKeys = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}

// FromTokenizerConfig reads the chat settings of a tokenizer_config.json.
// chat_template may be a string or a list of {"name", "template"} objects.
// A configuration without a template is not an error: Templates is empty.
func FromTokenizerConfig(data []byte) (*Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("chat: tokenizer config: %w", err)
	}
	c := &Config{Templates: map[string]string{}, SpecialTokens: map[string]string{}}
	if ct, ok := raw["chat_template"]; ok {
		if err := c.addTemplates(ct); err != nil {
			return nil, err
		}
	}
	for _, k := range specialTokenKeys {
		v, ok := raw[k]
		if !ok {
			continue
		}
		tok, err := tokenContent(v)
		if err != nil {
			return nil, fmt.Errorf("chat: tokenizer config: %s: %w", k, err)
		}
		if tok != nil {
			c.SpecialTokens[k] = *tok
		}
	}
	return c, nil
}

func (c *Config) addTemplates(ct json.RawMessage) error {
	var s *string
	if err := json.Unmarshal(ct, &s); err == nil {
		if s != nil {
			c.Templates["default"] = *s
		}
		return nil
	}
	var list []struct {
		Name     *string `json:"name"`
		Template *string `json:"template"`
	}
	if err := json.Unmarshal(ct, &list); err != nil {
		return errors.New("chat: tokenizer config: chat_template must be a string or a list of {name, template} objects")
	}
	for i, t := range list {
		if t.Name == nil || t.Template == nil {
			return fmt.Errorf("chat: tokenizer config: chat_template[%d] lacks a name or a template", i)
		}
		c.Templates[*t.Name] = *t.Template
	}
	return nil
}

// tokenContent reads a special token, given as a string or as an
// AddedToken object {"content": …}; null gives nil.
func tokenContent(v json.RawMessage) (*string, error) {
	var s *string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil || obj.Content == nil {
		return nil, errors.New("expected a string or an object with \"content\"")
	}
	return obj.Content, nil
}

// LoadConfig reads chat settings from path: a tokenizer_config.json, or a
// model folder holding one. In a folder, a chat_template.jinja file (or
// chat_template.json) takes precedence over the configuration's template,
// as it does in transformers.
func LoadConfig(path string) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		c, err := FromTokenizerConfig(data)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, path)
		}
		c.Source = path
		return c, nil
	}
	c := &Config{Templates: map[string]string{}, SpecialTokens: map[string]string{}, Source: path}
	cfgPath := filepath.Join(path, "tokenizer_config.json")
	if data, err := os.ReadFile(cfgPath); err == nil {
		if c, err = FromTokenizerConfig(data); err != nil {
			return nil, fmt.Errorf("%w (%s)", err, cfgPath)
		}
		c.Source = cfgPath
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if data, err := os.ReadFile(filepath.Join(path, "chat_template.jinja")); err == nil {
		c.Templates["default"] = string(data)
	} else if data, err := os.ReadFile(filepath.Join(path, "chat_template.json")); err == nil {
		var obj struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		if err := json.Unmarshal(data, &obj); err != nil || obj.ChatTemplate == nil {
			return nil, fmt.Errorf("chat: %s: expected an object with \"chat_template\"", filepath.Join(path, "chat_template.json"))
		}
		if err := c.addTemplates(obj.ChatTemplate); err != nil {
			return nil, err
		}
	}
	if len(c.Templates) == 0 && len(c.SpecialTokens) == 0 && c.Source == path {
		return nil, fmt.Errorf("chat: %s holds no tokenizer_config.json or chat_template.jinja", path)
	}
	return c, nil
}

// Names lists the template names, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Templates))
	for n := range c.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Template parses the template called name; "" picks "default", or the
// only template when there is one.
func (c *Config) Template(name string) (*Template, error) {
	if len(c.Templates) == 0 {
		return nil, fmt.Errorf("chat: %s has no chat_template", c.source())
	}
	if name == "" {
		name = "default"
		if _, ok := c.Templates[name]; !ok && len(c.Templates) == 1 {
			name = c.Names()[0]
		}
	}
	src, ok := c.Templates[name]
	if !ok {
		return nil, fmt.Errorf("chat: %s has no chat template named %q (it has %q)", c.source(), name, c.Names())
	}
	label := c.source()
	if name != "default" {
		label += " [" + name + "]"
	}
	return parseNamed(label, src, time.Now)
}

func (c *Config) source() string {
	if c.Source == "" {
		return "the tokenizer config"
	}
	return c.Source
}

// Options returns apply_chat_template options carrying the configuration's
// bos and eos tokens and its other special tokens (in Vars).
func (c *Config) Options() Options {
	o := Options{BOSToken: c.SpecialTokens["bos_token"], EOSToken: c.SpecialTokens["eos_token"], Vars: map[string]any{}}
	for k, v := range c.SpecialTokens {
		if k != "bos_token" && k != "eos_token" {
			o.Vars[k] = v
		}
	}
	return o
}
