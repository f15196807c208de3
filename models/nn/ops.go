package nn

import "github.com/rlx-go/rlx/ir"

const (
	opSilu     = ir.OpSilu
	opGeluTanh = ir.OpGeluTanh
	opGeluErf  = ir.OpGeluErf
)
