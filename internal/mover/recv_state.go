package mover

import (
	"encoding/json"
	"fmt"

	"ferry.dev/ferry/internal/mover/wire"
)

// stateFile is the name of the sync state in the receiver's reserved
// directory.
const stateFile = "state.json"

// syncState is the stored form of wire.SyncState.
type syncState struct {
	Source []byte `json:"source"`
	Start  int64  `json:"start"`
}

// lastSync reads the state the last completed session left; a missing or
// unreadable state is the zero state, which makes the next sender compare
// everything.
func (s *Server) lastSync() wire.SyncState {
	b, err := s.root.ReadState(stateFile)
	if err != nil || b == nil {
		if err != nil {
			s.log.Warn("sync state unreadable; the next sync compares every file's attributes", "error", err)
		}
		return wire.SyncState{}
	}
	var st syncState
	if err := json.Unmarshal(b, &st); err != nil {
		s.log.Warn("sync state unreadable; the next sync compares every file's attributes", "error", err)
		return wire.SyncState{}
	}
	return wire.SyncState{Source: st.Source, Start: st.Start}
}

// recordSync stores the state of a session that completed.
func (s *Server) recordSync(st wire.SyncState) error {
	b, err := json.Marshal(syncState{Source: st.Source, Start: st.Start})
	if err != nil {
		return fmt.Errorf("encode sync state: %w", err)
	}
	return s.root.WriteState(stateFile, b)
}
