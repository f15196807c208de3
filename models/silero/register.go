package silero

import "github.com/rlx-go/rlx/models"

func init() {
	// Open is Default: the embedded weights, no files needed.
	models.Register(models.Family{Name: "silero-vad", Kind: models.VAD, Open: Default})
}
