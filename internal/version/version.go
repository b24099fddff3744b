// Package version reports the build's version, set at link time.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// These are set with -ldflags "-X ferry.dev/ferry/internal/version.Version=..." by the Makefile.
var (
	// Version is the release or `git describe` name of the build.
	Version = "dev"
	// Commit is the git commit the build was made from.
	Commit = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the version information of the running binary. When the
// commit was not set at link time it falls back to the VCS stamp Go
// records in the binary.
func Get() Info {
	commit := Commit
	if commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					commit = s.Value
				}
			}
		}
	}
	return Info{
		Version:   Version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// String formats the information on one line.
func (i Info) String() string {
	s := fmt.Sprintf("ferry %s (%s, %s)", i.Version, i.GoVersion, i.Platform)
	if i.Commit != "" {
		s = fmt.Sprintf("ferry %s commit %s (%s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
	}
	return s
}
