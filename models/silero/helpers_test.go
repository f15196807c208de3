package silero

import "fmt"

func fmtI(format string, i int) string { return fmt.Sprintf(format, i) }
