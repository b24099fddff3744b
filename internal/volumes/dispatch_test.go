package volumes

import (
	"context"
	"testing"
	"time"
)

// TestDispatch: one Sync over a Dispatch prepares each path with its own
// transfers, starts each transfer on its path, names each volume's path
// in its status, and reads back only its own path's statuses.
func TestDispatch(t *testing.T) {
	other := Transfer{SourceNamespace: "shop", SourceClaim: "logs", DestinationNamespace: "shop-new", DestinationClaim: "logs"}
	loc, dir := newFake(true), newFake(true)
	loc.name, dir.name = "local", "direct"
	d, err := NewDispatch(map[Transfer]string{testTransfer: "local", other: "direct"}, loc, dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "local+direct" {
		t.Errorf("Name = %q", d.Name())
	}
	ctx := context.Background()
	st, err := Sync(ctx, d, Policy{RetryPause: time.Minute}, []Transfer{testTransfer, other}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(loc.prepared) != 1 || len(loc.prepared[0]) != 1 || loc.prepared[0][0] != testTransfer ||
		len(dir.prepared) != 1 || len(dir.prepared[0]) != 1 || dir.prepared[0][0] != other {
		t.Errorf("prepared: local %v, direct %v; want each with its own transfer", loc.prepared, dir.prepared)
	}
	if len(loc.started) != 1 || loc.started[0] != testTransfer || len(dir.started) != 1 || dir.started[0] != other {
		t.Errorf("started: local %v, direct %v", loc.started, dir.started)
	}
	statuses := st.Statuses()
	if statuses[0].Path != "local" || statuses[1].Path != "direct" {
		t.Fatalf("status paths %q, %q; want local, direct", statuses[0].Path, statuses[1].Path)
	}

	// The local round fails: its attempt is the local path's; a status of
	// the same claim naming another path would not count.
	loc.rounds[testTransfer] = failedRound("disk error", time.Second)
	st, err = Sync(ctx, d, Policy{RetryPause: time.Minute}, []Transfer{testTransfer, other}, statuses)
	if v := st.Volumes[0]; err != nil || v.Phase != PhaseRetrying || v.Attempt != 1 || v.Path != "local" {
		t.Fatalf("after the failure: %+v, %v", v, err)
	}
	loc.rounds[testTransfer] = failedRound("disk error", time.Hour)
	st, _ = Sync(ctx, d, Policy{RetryPause: time.Minute}, []Transfer{testTransfer, other}, st.Statuses())
	if v := st.Volumes[0]; v.Attempt != 2 || len(loc.reset) != 1 || len(dir.reset) != 0 {
		t.Errorf("retry: %+v; resets local %v, direct %v", v, loc.reset, dir.reset)
	}
}

func TestNewDispatchRejects(t *testing.T) {
	a, b := newFake(true), newFake(true)
	if _, err := NewDispatch(nil, a, b); err == nil {
		t.Error("two paths of one name accepted")
	}
	b.name = "direct"
	if _, err := NewDispatch(map[Transfer]string{testTransfer: "local"}, a, b); err == nil {
		t.Error("a route to a path not given accepted")
	}
	d, err := NewDispatch(map[Transfer]string{}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Observe(context.Background(), testTransfer); err == nil {
		t.Error("a transfer without a route observed")
	}
}
