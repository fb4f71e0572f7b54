//go:build !unix

package searchbench

import "time"

// processCPU is not reported on this platform: Stats.CPUPerQuery stays zero.
func processCPU() time.Duration { return 0 }
