package testenv

import "os/exec"

var execLookPath = exec.LookPath
