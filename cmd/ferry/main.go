// Command ferry is Ferry's single binary: the CLI, and later the controller
// and the data mover.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"ferry.dev/ferry/internal/cli"
)

func main() {
	// Ctrl-C and SIGTERM cancel the context, so that a controller gives up
	// its lease and a waiting command stops cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		code := 1
		var ee *cli.ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		os.Exit(code)
	}
}
