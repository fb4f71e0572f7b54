package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices/standards"
)

// standardsCmd: brightspots standards import [--config FILE] [--data DIR] FILE
//
// Imports a CASE framework (CFPackage JSON) so the practice form offers its items. The package is
// checked whole first; a bad one is refused with the item named and nothing is stored.
func standardsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New("standards: import [--config FILE] [--data DIR] FILE.json")
	}
	fs := flag.NewFlagSet("standards import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, false)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("standards import: name one CFPackage JSON file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("standards import: %w", err)
	}
	defer f.Close()
	fw, err := standards.ParseCASE(f)
	if err != nil {
		return fmt.Errorf("standards import %s: %w (nothing was imported)", fs.Arg(0), err)
	}
	cfg, err := nf.load()
	if err != nil {
		return err
	}
	bucket, err := node.OpenBucket(ctx, cfg)
	if err != nil {
		return err
	}
	if err := standards.NewCatalog(bucket).Import(ctx, fw); err != nil {
		return err
	}
	coded := 0
	for _, it := range fw.Items {
		if it.Code != "" {
			coded++
		}
	}
	fmt.Fprintf(stdout, "imported %q: %d items (%d with a code the practice form offers)\n", fw.Title, len(fw.Items), coded)
	return nil
}
