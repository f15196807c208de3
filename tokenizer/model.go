package tokenizer

import "sync"

// tok is one token produced by a model, with the byte range of the word
// (pre-tokenized piece) it covers.
type tok struct {
	id         int32
	start, end int32
}

// A model turns one pre-tokenized word into tokens.
type model interface {
	// tokenize appends the tokens of word to dst.
	tokenize(word string, dst []tok) []tok
	// tokenID and idToken look tokens up in the model's own vocabulary.
	tokenID(token string) (int32, bool)
	idToken(id int32) (string, bool)
	// size is one more than the largest id of the model's vocabulary.
	size() int
}

// wordCache remembers the tokens of frequent words. Text repeats words
// constantly, and a map lookup is far cheaper than re-running merges.
type wordCache struct {
	mu sync.Mutex
	m  map[string][]tok
}

const (
	cacheMaxEntries = 1 << 17
	cacheMaxWord    = 64
)

func (c *wordCache) get(w string) ([]tok, bool) {
	if len(w) > cacheMaxWord {
		return nil, false
	}
	c.mu.Lock()
	t, ok := c.m[w]
	c.mu.Unlock()
	return t, ok
}

func (c *wordCache) put(w string, t []tok) {
	if len(w) > cacheMaxWord {
		return
	}
	cp := make([]tok, len(t))
	copy(cp, t)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string][]tok, 1024)
	}
	// A full cache keeps what it has (like HF's): the words seen first are
	// mostly the frequent ones, and clearing would throw them away.
	if len(c.m) < cacheMaxEntries {
		c.m[w] = cp
	}
	c.mu.Unlock()
}

// vocabTable is a token ↔ id table shared by the models.
type vocabTable struct {
	ids    map[string]int32
	tokens []string // by id; "" where an id has no token
}

func newVocabTable(ids map[string]int32) vocabTable {
	n := 0
	for _, id := range ids {
		if int(id)+1 > n {
			n = int(id) + 1
		}
	}
	t := vocabTable{ids: ids, tokens: make([]string, n)}
	for s, id := range ids {
		t.tokens[id] = s
	}
	return t
}

func (v *vocabTable) tokenID(s string) (int32, bool) {
	id, ok := v.ids[s]
	return id, ok
}

func (v *vocabTable) idToken(id int32) (string, bool) {
	if id < 0 || int(id) >= len(v.tokens) {
		return "", false
	}
	s := v.tokens[id]
	if s == "" {
		_, ok := v.ids[""]
		return "", ok
	}
	return s, true
}

func (v *vocabTable) size() int { return len(v.tokens) }
