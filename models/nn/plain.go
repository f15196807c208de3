package nn

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
)

// PlainConfigFromHF reads the config.json of a family whose configuration
// is the common keys on top of its fixed traits (a Config holding Family,
// QKVBias, QKNorm, RoPELayout, …): embeddings tied as tie_word_embeddings
// says, else when tieByDefault; rope base theta unless the file gives one;
// sliding windows only where use_sliding_window turns them on.
func PlainConfigFromHF(data []byte, traits Config, tieByDefault bool, theta float64) (*Config, error) {
	h, err := ParseHF(data)
	if err != nil {
		return nil, err
	}
	c := &traits
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.TieEmbeddings = h.Tie(tieByDefault)
	useWindow := h.UseSlidingWindow != nil && *h.UseSlidingWindow
	if err := h.Layers(c, theta, useWindow); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// PlainConfigFromGGUF reads the "<arch>.*" metadata of such a family into
// its traits; the file's architecture must be traits.Family.
func PlainConfigFromGGUF(md *gguf.Metadata, traits Config) (*Config, error) {
	if a := md.Arch(); a != traits.Family {
		return nil, fmt.Errorf("%s: GGUF architecture is %q", traits.Family, a)
	}
	c := &traits
	if err := GGUFCommon(md, c); err != nil {
		return nil, err
	}
	return c, c.Validate()
}
