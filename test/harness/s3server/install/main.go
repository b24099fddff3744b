// Command install builds the tests' S3 server (versitygw) into the cache
// folder when it is not there, and prints its path: `make s3-server`.
package main

import (
	"context"
	"fmt"
	"os"

	"ferry.dev/ferry/test/harness/s3server"
)

func main() {
	bin, err := s3server.Binary(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
