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
			got := EncodeReplicas(tt.in)
			if got != tt.encoded {
				t.Fatalf("EncodeReplicas = %q, want %q", got, tt.encoded)
			}
			back, err := DecodeReplicas(got)
			if err != nil {
				t.Fatalf("DecodeReplicas(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("DecodeReplicas(%q) = %v, want %v", got, back, tt.in)
			}
		})
	}
}

func TestDecodeReplicasRejects(t *testing.T) {
	for _, s := range []string{"-1", "two", "2147483648", " 2", "1.5"} {
		t.Run(s, func(t *testing.T) {
			if r, err := DecodeReplicas(s); err == nil {
				t.Fatalf("DecodeReplicas(%q) = %v, want an error", s, r)
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
			got := EncodeSuspend(tt.in)
			if got != tt.encoded {
				t.Fatalf("EncodeSuspend = %q, want %q", got, tt.encoded)
			}
			back, err := DecodeSuspend(got)
			if err != nil {
				t.Fatalf("DecodeSuspend(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("DecodeSuspend(%q) = %v, want %v", got, back, tt.in)
			}
		})
	}
	for _, s := range []string{"True", "1", "yes", " true"} {
		if b, err := DecodeSuspend(s); err == nil {
			t.Errorf("DecodeSuspend(%q) = %v, want an error", s, b)
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
			got, err := EncodeNodeSelector(tt.in)
			if err != nil {
				t.Fatalf("EncodeNodeSelector: %v", err)
			}
			if got != tt.encoded {
				t.Fatalf("EncodeNodeSelector = %q, want %q", got, tt.encoded)
			}
			back, err := DecodeNodeSelector(got)
			if err != nil {
				t.Fatalf("DecodeNodeSelector(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("DecodeNodeSelector(%q) = %#v, want %#v", got, back, tt.in)
			}
		})
	}
	for _, s := range []string{"{", `{"a":1}`, `["a"]`} {
		if m, err := DecodeNodeSelector(s); err == nil {
			t.Errorf("DecodeNodeSelector(%q) = %v, want an error", s, m)
		}
	}
}
