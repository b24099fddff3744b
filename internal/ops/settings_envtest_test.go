//go:build envtest

package ops

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, false) // SetSetting creates the namespace
	if v, err := o.Setting(ctx, SettingMoverImage); err != nil || v != "" {
		t.Fatalf("mover-image before any setting: %q, %v", v, err)
	}
	image, _, err := o.MoverImage(ctx, "")
	if err != nil || image != "" {
		t.Fatalf("MoverImage without a setting: %q, %v", image, err)
	}
	if err := o.SetSetting(ctx, SettingMoverImage, "registry/ferry@sha256:1"); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: o.Namespace(), Name: SettingsConfigMap}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data[SettingMoverImage] != "registry/ferry@sha256:1" {
		t.Errorf("ConfigMap data %v", cm.Data)
	}
	tests := []struct {
		explicit, want string
	}{
		{explicit: "", want: "registry/ferry@sha256:1"},
		{explicit: "flag/ferry:dev", want: "flag/ferry:dev"},
	}
	for _, tt := range tests {
		got, source, err := o.MoverImage(ctx, tt.explicit)
		if err != nil || got != tt.want || source == "" {
			t.Errorf("MoverImage(%q) = %q from %q, %v; want %q", tt.explicit, got, source, err, tt.want)
		}
	}
	if err := o.SetSetting(ctx, SettingMoverImage, "registry/ferry@sha256:2"); err != nil {
		t.Fatal(err)
	}
	all, err := o.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Key != SettingMoverImage || all[0].Value != "registry/ferry@sha256:2" || all[0].Doc == "" {
		t.Errorf("Settings = %+v", all)
	}
	if err := o.SetSetting(ctx, SettingMoverImage, ""); err != nil {
		t.Fatal(err)
	}
	if v, err := o.Setting(ctx, SettingMoverImage); err != nil || v != "" {
		t.Errorf("mover-image after unset: %q, %v", v, err)
	}
	if err := o.SetSetting(ctx, "nosuch", "x"); err == nil {
		t.Error("SetSetting of an unknown key succeeded")
	}
}
