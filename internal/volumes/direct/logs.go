package direct

import (
	"strconv"
	"strings"

	"ferry.dev/ferry/internal/volumes/moverpod"
)

// dialMessage is the log message of a sender retrying its connection;
// keep it equal to the one in mover.RetryDialer.
const dialMessage = `msg="receiver not reachable yet; retrying"`

// dialProblem returns the error of the sender's last failed attempt to
// reach the receiver, or "" when its log has none.
func dialProblem(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.Contains(lines[i], dialMessage) {
			continue
		}
		_, e, ok := strings.Cut(lines[i], " error=")
		if !ok {
			return ""
		}
		if u, err := strconv.Unquote(strings.TrimSpace(e)); err == nil {
			e = u
		}
		return moverpod.Clip(e)
	}
	return ""
}
