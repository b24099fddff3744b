package cli

import (
	"strings"
	"testing"

	"ferry.dev/ferry/internal/ops"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, file, wantErr string
		want                ops.Credentials
	}{
		{name: "default section", file: "[default]\naws_access_key_id = AK\naws_secret_access_key=SK\n", want: ops.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}},
		{name: "default among others", file: "[other]\naws_access_key_id=X\naws_secret_access_key=Y\n\n# mine\n[default]\naws_access_key_id=AK\naws_secret_access_key=SK\n",
			want: ops.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}},
		{name: "one named section", file: "[profile lab]\naws_access_key_id=AK\naws_secret_access_key=SK\n", want: ops.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}},
		{name: "no section", file: "aws_access_key_id=AK\r\naws_secret_access_key=SK\r\n", want: ops.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}},
		{name: "two sections, no default", file: "[a]\naws_access_key_id=X\naws_secret_access_key=Y\n[b]\naws_access_key_id=X\naws_secret_access_key=Y\n", wantErr: "no [default]"},
		{name: "secret key missing", file: "[default]\naws_access_key_id=AK\n", wantErr: "give both"},
		{name: "not key=value", file: "[default]\nAKIASECRET\n", wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ops.ParseCredentials(strings.NewReader(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "AKIASECRET") {
					t.Errorf("the error quotes the file: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseCredentials = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRepositoryAddOptions(t *testing.T) {
	creds := strings.NewReader("[default]\naws_access_key_id=AK\naws_secret_access_key=SK\n")
	tests := []struct {
		name    string
		o       repositoryAddOptions
		wantErr string
	}{
		{"fine", repositoryAddOptions{endpoint: "http://127.0.0.1:7070", bucket: "b", credentialsFile: "-", stdin: creds}, ""},
		{"no bucket", repositoryAddOptions{endpoint: "http://127.0.0.1:7070", credentialsFile: "-"}, "--bucket"},
		{"not a URL", repositoryAddOptions{endpoint: "127.0.0.1:7070", bucket: "b", credentialsFile: "-", stdin: strings.NewReader("aws_access_key_id=A\naws_secret_access_key=S")}, "http:// or https://"},
		{"CA and insecure", repositoryAddOptions{endpoint: "https://s3", bucket: "b", credentialsFile: "-", insecure: true, caFile: "ca.pem"}, "not both"},
		{"missing file", repositoryAddOptions{endpoint: "https://s3", bucket: "b", credentialsFile: "/nonexistent/creds"}, "--credentials-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.o.registration("s3")
			if tt.wantErr == "" {
				if err != nil || r.Credentials.AccessKeyID != "AK" || r.Spec.Bucket != "b" {
					t.Fatalf("registration %+v, %v", r.Spec, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
