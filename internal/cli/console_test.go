package cli

import "testing"

func TestCheckListen(t *testing.T) {
	tests := []struct {
		addr        string
		allowRemote bool
		wantErr     bool
	}{
		{addr: "127.0.0.1:0"},
		{addr: "127.0.0.1:8089"},
		{addr: "[::1]:8089"},
		{addr: "localhost:8089"},
		{addr: "0.0.0.0:8089", wantErr: true},
		{addr: ":8089", wantErr: true},
		{addr: "10.0.0.5:8089", wantErr: true},
		{addr: "0.0.0.0:8089", allowRemote: true},
		{addr: "8089", wantErr: true},
	}
	for _, tt := range tests {
		if err := checkListen(tt.addr, tt.allowRemote); (err != nil) != tt.wantErr {
			t.Errorf("checkListen(%q, %v) = %v, want error %v", tt.addr, tt.allowRemote, err, tt.wantErr)
		}
	}
}
