package rlx

import (
	"context"

	"github.com/rlx-go/rlx/chat"
	"github.com/rlx-go/rlx/runtime"
)

// Conversation is a multi-turn chat over one KV cache: each Send renders
// the whole conversation with the chat template and runs only the tokens
// the cache does not already hold. It is not safe for concurrent use.
type Conversation struct {
	lm *LM
	s  *runtime.Session
	// Messages is the conversation so far (system, user and assistant
	// turns); Send appends to it.
	Messages []chat.Message
}

// NewConversation starts a conversation, with a system message when system
// is not empty.
func (lm *LM) NewConversation(system string) (*Conversation, error) {
	if lm.tok == nil {
		return nil, ErrNoTokenizer
	}
	s, err := lm.rt.NewSession()
	if err != nil {
		return nil, err
	}
	c := &Conversation{lm: lm, s: s}
	if system != "" {
		c.Messages = append(c.Messages, chat.Message{Role: "system", Content: system})
	}
	return c, nil
}

// Send adds a user message, generates the assistant's reply and adds it.
func (c *Conversation) Send(ctx context.Context, text string, opts ...GenerateOption) (*runtime.Result, error) {
	msgs := append(c.Messages, chat.Message{Role: "user", Content: text})
	prompt, err := c.lm.ChatPrompt(msgs)
	if err != nil {
		return nil, err
	}
	ids, err := c.lm.tok.Encode(prompt, false)
	if err != nil {
		return nil, err
	}
	o, err := generateOptions(opts)
	if err != nil {
		return nil, err
	}
	c.lm.textOptions(&o)
	res, err := c.s.Continue(ctx, ids, o)
	if err != nil {
		return nil, err
	}
	c.Messages = append(msgs, chat.Message{Role: "assistant", Content: res.Text})
	return res, nil
}

// Reset forgets the turns (keeping a system message) and empties the cache.
func (c *Conversation) Reset() {
	if len(c.Messages) > 0 && c.Messages[0].Role == "system" {
		c.Messages = c.Messages[:1]
	} else {
		c.Messages = nil
	}
	c.s.Reset()
}

// Close frees the conversation's cache.
func (c *Conversation) Close() { c.s.Close() }
