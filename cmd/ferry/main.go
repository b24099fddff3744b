// Command ferry is Ferry's single binary: the CLI, and later the controller
// and the data mover.
package main

import (
	"fmt"
	"os"

	"ferry.dev/ferry/internal/cli"
)

func main() {
	if err := cli.NewRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
