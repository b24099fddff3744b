package quiesce

import (
	"reflect"
	"testing"

	"k8s.io/utils/ptr"
)

func TestReplicasEncoding(t *testing.T) {
	tests := []struct {
		name    string
		in      *int32
		encoded string
	}{
		{name: "unset", in: nil, encoded: ""},
		{name: "zero", in: ptr.To[int32](0), encoded: "0"},
		{name: "two", in: ptr.To[int32](2), encoded: "2"},
		{name: "max", in: ptr.To[int32](2147483647), encoded: "2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeReplicas(tt.in)
			if got != tt.encoded {
				t.Fatalf("encodeReplicas = %q, want %q", got, tt.encoded)
			}
			back, err := decodeReplicas(got)
			if err != nil {
				t.Fatalf("decodeReplicas(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("decodeReplicas(%q) = %v, want %v", got, back, tt.in)
			}
		})
	}
}

func TestDecodeReplicasRejects(t *testing.T) {
	for _, s := range []string{"-1", "two", "2147483648", " 2", "1.5"} {
		t.Run(s, func(t *testing.T) {
			if r, err := decodeReplicas(s); err == nil {
				t.Fatalf("decodeReplicas(%q) = %v, want an error", s, r)
			}
		})
	}
}

func TestSuspendEncoding(t *testing.T) {
	tests := []struct {
		name    string
		in      *bool
		encoded string
	}{
		{name: "unset", in: nil, encoded: ""},
		{name: "false", in: ptr.To(false), encoded: "false"},
		{name: "true", in: ptr.To(true), encoded: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeSuspend(tt.in)
			if got != tt.encoded {
				t.Fatalf("encodeSuspend = %q, want %q", got, tt.encoded)
			}
			back, err := decodeSuspend(got)
			if err != nil {
				t.Fatalf("decodeSuspend(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("decodeSuspend(%q) = %v, want %v", got, back, tt.in)
			}
		})
	}
	for _, s := range []string{"True", "1", "yes", " true"} {
		if b, err := decodeSuspend(s); err == nil {
			t.Errorf("decodeSuspend(%q) = %v, want an error", s, b)
		}
	}
}

func TestNodeSelectorEncoding(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]string
		encoded string
	}{
		{name: "unset", in: nil, encoded: ""},
		{name: "empty", in: map[string]string{}, encoded: "{}"},
		{name: "sorted keys", in: map[string]string{"zone": "a", "disk": "ssd"}, encoded: `{"disk":"ssd","zone":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeNodeSelector(tt.in)
			if err != nil {
				t.Fatalf("encodeNodeSelector: %v", err)
			}
			if got != tt.encoded {
				t.Fatalf("encodeNodeSelector = %q, want %q", got, tt.encoded)
			}
			back, err := decodeNodeSelector(got)
			if err != nil {
				t.Fatalf("decodeNodeSelector(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("decodeNodeSelector(%q) = %#v, want %#v", got, back, tt.in)
			}
		})
	}
	for _, s := range []string{"{", `{"a":1}`, `["a"]`} {
		if m, err := decodeNodeSelector(s); err == nil {
			t.Errorf("decodeNodeSelector(%q) = %v, want an error", s, m)
		}
	}
}
